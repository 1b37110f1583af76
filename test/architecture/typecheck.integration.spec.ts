/**
 * Type-checks everything, tests and benches included (tsconfig.json). The build compiles only
 * the shipped code (tsconfig.build.json) and Jest strips types without checking them (@swc/jest),
 * so without this a spec could call an API with the wrong types and still run.
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

const root = path.resolve(__dirname, '..', '..');

describe('typecheck', () => {
  it('finds no type error in apps, libs, test and bench (tsc -p tsconfig.json)', () => {
    const r = spawnSync(
      process.execPath,
      [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json', '--noEmit', '--pretty', 'false'],
      {
        cwd: root,
        encoding: 'utf8',
        timeout: 300_000,
      },
    );
    const errors = `${r.stdout}${r.stderr}`.split('\n').filter((l) => /error TS\d+/.test(l));
    expect(errors).toEqual([]);
    expect(r.status).toBe(0);
  }, 300_000);
});
