import { existsSync } from 'node:fs';
import path from 'node:path';

function repoRoot(): string {
  // works from libs/sandbox/src (jest, ts sources) and from dist/libs/sandbox/src (built)
  let dir = __dirname;
  for (;;) {
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'services'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`repository root not found above ${__dirname}`);
    dir = parent;
  }
}

/**
 * Absolute path of an example service's built module, `services/<name>/build/<name>.wasm`.
 * The file exists only after `npm run build` (scripts/build-services.js).
 * @param name service folder name, e.g. `word-count`
 * @throws Error if `name` is not a plain folder name
 */
export function exampleServicePath(name: string): string {
  if (!/^[a-z0-9][a-z0-9-]*$/.test(name)) throw new Error(`invalid example service name: ${name}`);
  return path.join(repoRoot(), 'services', name, 'build', `${name}.wasm`);
}
