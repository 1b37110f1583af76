/**
 * ESLint (eslint.config.cjs) is part of `npm test`: the whole workspace lints clean, and the module
 * boundaries of docs/architecture.md ("Parts and layout") are enforced by
 * @nx/enforce-module-boundaries on the Nx tags in each project.json.
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');

describe('lint', () => {
  it('`npm run lint` passes with no warnings (and builds the project graph the boundary rule needs)', () => {
    const r = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'lint.js')], { cwd: ROOT, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`npm run lint failed:\n${r.stdout}\n${r.stderr}`);
    expect(r.status).toBe(0);
  }, 180_000);

  describe('module boundaries', () => {
    const CASES: [string, string, string][] = [
      [
        'the gateway imports the sandbox (it never runs guest code)',
        'apps/gateway/src/x.ts',
        "import { SandboxPool } from '@jam/sandbox';\nexport const x = SandboxPool;\n",
      ],
      ['domain imports the ORM', 'libs/domain/src/x.ts', "import { DataSource } from 'typeorm';\nexport const x = DataSource;\n"],
      ['domain imports another lib', 'libs/domain/src/x.ts', "import { loadConfig } from '@jam/config';\nexport const x = loadConfig;\n"],
      ['a lib imports an app', 'libs/queue/src/x.ts', "import { startGateway } from '../../../apps/gateway/src';\nexport const x = startGateway;\n"],
      [
        'an app other than the launcher imports another app',
        'apps/janitor/src/x.ts',
        "import { startGateway } from '../../gateway/src';\nexport const x = startGateway;\n",
      ],
      ['a lib other than persistence imports the database driver', 'libs/blob-store/src/x.ts', "import { Client } from 'pg';\nexport const x = Client;\n"],
    ];
    const ALLOWED: [string, string, string][] = [
      [
        'an app imports libs',
        'apps/janitor/src/x.ts',
        "import { toHex } from '@jam/domain';\nimport { loadConfig } from '@jam/config';\nexport const x = [toHex, loadConfig];\n",
      ],
      ['persistence imports the ORM', 'libs/persistence/src/x.ts', "import { DataSource } from 'typeorm';\nexport const x = DataSource;\n"],
      ['the launcher imports a role app', 'apps/standalone/src/x.ts', "import { startGateway } from '../../gateway/src';\nexport const x = startGateway;\n"],
    ];
    let found: Record<string, string[]>;

    beforeAll(() => {
      // ESLint loads its config with a dynamic import(), which Jest's module sandbox refuses: lint every
      // case in one child process, which prints the boundary messages per file name.
      const script =
        "const { ESLint } = require('eslint'); const cases = JSON.parse(process.argv[2]); (async () => { const e = new ESLint({ cwd: process.argv[1] }); const out = {};" +
        " for (const [name, file, code] of cases) { const [r] = await e.lintText(code, { filePath: require('path').join(process.argv[1], file) });" +
        " out[name] = r.messages.filter((m) => m.ruleId === '@nx/enforce-module-boundaries').map((m) => m.message); }" +
        ' process.stdout.write(JSON.stringify(out)); })();';
      const r = spawnSync(process.execPath, ['-e', script, ROOT, JSON.stringify([...CASES, ...ALLOWED])], {
        cwd: ROOT,
        encoding: 'utf8',
        env: { ...process.env, NX_DAEMON: 'false' },
      });
      if (r.status !== 0) throw new Error(`eslint failed: ${r.stderr}`);
      found = JSON.parse(r.stdout) as Record<string, string[]>;
    }, 180_000);

    it.each(CASES)('refuses: %s', (name) => {
      expect(found[name]?.length).toBeGreaterThan(0);
    });

    it.each(ALLOWED)('allows: %s', (name) => {
      expect(found[name]).toEqual([]);
    });
  });
});
