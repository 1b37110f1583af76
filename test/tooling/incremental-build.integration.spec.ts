import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/**
 * scripts/build.js builds only what is out of date, so `npm start` after a build starts at once
 * instead of re-running tsc (docs/performance.md section 9). Runs after `npm run build` (as
 * `npm test` does): the build's stamp must then match the sources.
 */

const root = path.resolve(__dirname, '..', '..');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const build = require(path.join(root, 'scripts', 'build.js')) as {
  tscInputs: (base?: string) => string[];
  inputsDigest: (base?: string) => string;
  stampFile: string;
};

describe('scripts/build.js', () => {
  it('takes as inputs the sources tsconfig.build.json compiles, not specs or test helpers', () => {
    const inputs = build.tscInputs();
    expect(inputs).toEqual(
      expect.arrayContaining([
        'apps/standalone/src/main.ts',
        'libs/config/src/app-config.ts',
        'bench/sandbox-overhead.ts',
        'tsconfig.build.json',
        'package-lock.json',
        'scripts/build.js',
      ]),
    );
    expect(inputs.filter((f) => f.endsWith('.spec.ts') || f.includes('/test/') || f.includes('/src/testing/'))).toEqual([]);
    expect(inputs).not.toContain('libs/queue/src/job-queue.contract.ts');
  });

  it('changes its digest when a compiled source is touched, added or removed, not when a spec or test helper is', () => {
    // A throwaway tree (touching the checkout's files would race the build and other tests).
    const tree = fs.mkdtempSync(path.join(os.tmpdir(), 'jam-build-inputs-'));
    const put = (rel: string, text = 'export {};\n') => {
      fs.mkdirSync(path.dirname(path.join(tree, rel)), { recursive: true });
      fs.writeFileSync(path.join(tree, rel), text);
    };
    try {
      for (const f of [
        'tsconfig.base.json',
        'tsconfig.build.json',
        'package-lock.json',
        'scripts/build.js',
        'apps/a/src/main.ts',
        'libs/b/src/index.ts',
        'libs/b/src/index.spec.ts',
        'libs/b/test/suite.ts',
      ])
        put(f);
      const digest = () => build.inputsDigest(tree);
      expect(build.tscInputs(tree)).toEqual([
        'apps/a/src/main.ts',
        'libs/b/src/index.ts',
        'package-lock.json',
        'scripts/build.js',
        'tsconfig.base.json',
        'tsconfig.build.json',
      ]);
      const before = digest();
      const later = new Date(Date.now() + 60_000);
      fs.utimesSync(path.join(tree, 'libs/b/src/index.spec.ts'), later, later);
      put('libs/b/test/suite.ts', 'export const x = 1;\n');
      expect(digest()).toBe(before);
      fs.utimesSync(path.join(tree, 'libs/b/src/index.ts'), later, later);
      const touched = digest();
      expect(touched).not.toBe(before);
      put('libs/b/src/extra.ts');
      const added = digest();
      expect(added).not.toBe(touched);
      fs.rmSync(path.join(tree, 'libs/b/src/extra.ts'));
      expect(digest()).toBe(touched);
      put('tsconfig.build.json', '{"x": 1}\n');
      expect(digest()).not.toBe(touched);
    } finally {
      fs.rmSync(tree, { recursive: true, force: true });
    }
  });

  it('after a build, building again runs neither the service compiler nor tsc', () => {
    expect(fs.readFileSync(build.stampFile, 'utf8').trim()).toBe(build.inputsDigest());
    const r = spawnSync(process.execPath, [path.join(root, 'scripts', 'build.js')], { cwd: root, encoding: 'utf8', timeout: 120_000 });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('build: tsc up to date');
    expect(r.stdout).not.toMatch(/build: tsc ok|build: tsc-alias ok/);
    expect(r.stdout).not.toMatch(/build-services: \S+ -> /);
  }, 150_000);
});
