import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * scripts/build.js builds only what is out of date, so `npm start` after a build starts at once
 * instead of re-running tsc (docs/performance.md section 9). Runs after `npm run build` (as
 * `npm test` does): the build's stamp must then match the sources.
 */

const root = path.resolve(__dirname, '..', '..');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const build = require(path.join(root, 'scripts', 'build.js')) as { tscInputs: () => string[]; inputsDigest: () => string; stampFile: string };

describe('scripts/build.js', () => {
  it('takes as inputs the sources tsconfig.build.json compiles, not specs or test helpers', () => {
    const inputs = build.tscInputs();
    expect(inputs).toEqual(expect.arrayContaining(['apps/standalone/src/main.ts', 'libs/config/src/app-config.ts', 'bench/sandbox-overhead.ts', 'tsconfig.build.json', 'package-lock.json', 'scripts/build.js']));
    expect(inputs.filter((f) => f.endsWith('.spec.ts') || f.includes('/test/') || f.includes('/src/testing/'))).toEqual([]);
    expect(inputs).not.toContain('libs/queue/src/job-queue.contract.ts');
  });

  it('changes its digest when a compiled source is touched, not when a spec is', () => {
    const source = path.join(root, 'libs', 'config', 'src', 'config.schema.ts');
    const spec = path.join(root, 'libs', 'config', 'src', 'app-config.spec.ts');
    const before = build.inputsDigest();
    const stats = [source, spec].map((f) => fs.statSync(f));
    try {
      fs.utimesSync(spec, stats[1]!.atime, new Date(stats[1]!.mtimeMs + 5000));
      expect(build.inputsDigest()).toBe(before);
      fs.utimesSync(source, stats[0]!.atime, new Date(stats[0]!.mtimeMs + 5000));
      expect(build.inputsDigest()).not.toBe(before);
    } finally {
      fs.utimesSync(source, stats[0]!.atime, stats[0]!.mtime);
      fs.utimesSync(spec, stats[1]!.atime, stats[1]!.mtime);
    }
    expect(build.inputsDigest()).toBe(before);
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
