/**
 * The README's settings table is generated from libs/config (scripts/settings-table.js); this
 * fails when a setting, default or description changes without regenerating it, so operators
 * never read a stale default. Needs `npm run build` (the script reads dist/), as `npm test` does.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';

const root = path.resolve(__dirname, '..', '..');

describe('README settings table', () => {
  it('is exactly what scripts/settings-table.js prints (regenerate it after changing a setting)', () => {
    const generated = execFileSync(process.execPath, [path.join(root, 'scripts', 'settings-table.js')], { cwd: root, encoding: 'utf8' })
      .trimEnd()
      .split('\n');
    const readme = readFileSync(path.join(root, 'README.md'), 'utf8').split('\n');
    const start = readme.findIndex((l) => l === generated[0]);
    expect(start).toBeGreaterThanOrEqual(0);
    let end = start;
    while (end < readme.length && readme[end]!.startsWith('|')) end++;
    expect(readme.slice(start, end)).toEqual(generated);
  });
});
