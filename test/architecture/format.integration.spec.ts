/**
 * Formatting is automated (docs/architecture.md section 12, "House style"): `npx prettier --check .`
 * must pass, so a change that is not formatted fails `npm test`. Fix with `npm run format`.
 * What Prettier leaves alone is listed in .prettierignore (generated Markdown tables, YAML that
 * yamllint and promtool check, AssemblyScript sources with decorators Prettier cannot parse).
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');

describe('format', () => {
  it('the tree is Prettier-clean (`npm run format` fixes it)', () => {
    const r = spawnSync(path.join(ROOT, 'node_modules', '.bin', 'prettier'), ['--check', '.'], { cwd: ROOT, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`prettier --check . failed (run \`npm run format\`):\n${r.stdout}\n${r.stderr}`);
    expect(r.status).toBe(0);
  }, 180_000);
});
