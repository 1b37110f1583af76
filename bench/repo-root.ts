import { existsSync } from 'node:fs';
import path from 'node:path';

/** The repository root: the nearest ancestor of this file holding package.json (works from bench/ and dist/bench/). */
export function repoRoot(): string {
  let dir = __dirname;
  while (!existsSync(path.join(dir, 'package.json')) || path.basename(dir) === 'dist') {
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`no package.json above ${__dirname}`);
    dir = up;
  }
  return dir;
}
