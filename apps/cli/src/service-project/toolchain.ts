import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { CliFailure, CliUsageError } from '../cli.context';

/** Where a service project keeps its source entry and its build output (`jam init` layout). */
export const PROJECT_ENTRY = path.join('assembly', 'index.ts');
export const PROJECT_WASM = path.join('build', 'service.wasm');

/**
 * This checkout's AssemblyScript toolchain: the compiler the repository's services are built with,
 * the SDK directory `import ... from "@jam/service-sdk"` resolves in (asc's `--path`), and the
 * shared compiler flags (`sdk/asc-options.json`, also read by scripts/build-services.js).
 */
export interface Toolchain {
  /** Repository root (absolute). */
  root: string;
  /** `node_modules/assemblyscript/bin/asc.js` of the checkout. */
  asc: string;
  /** `sdk/`: holds `@jam/service-sdk`. */
  sdkPath: string;
  /** Compiler flags every service is built with (the runtime as an absolute path). */
  flags: string[];
}

/**
 * Finds the checkout this CLI runs from (walking up from `from` to the directory holding
 * `sdk/asc-options.json`; works from `apps/cli/src` and `dist/apps/cli/src`).
 * @throws CliFailure `toolchain_missing` when there is no such checkout or no AssemblyScript in it
 */
export function findToolchain(from: string = __dirname): Toolchain {
  let dir = path.resolve(from);
  for (;;) {
    const options = path.join(dir, 'sdk', 'asc-options.json');
    if (existsSync(options)) {
      const asc = path.join(dir, 'node_modules', 'assemblyscript', 'bin', 'asc.js');
      if (!existsSync(asc))
        throw new CliFailure('toolchain_missing', `AssemblyScript is not installed in ${dir}: run \`npm ci\` there (it is a dev dependency)`);
      const opts = JSON.parse(readFileSync(options, 'utf8')) as { runtime: string; flags: string[] };
      const flags = ['--runtime', path.join(dir, opts.runtime), ...opts.flags];
      return { root: dir, asc, sdkPath: path.join(dir, 'sdk'), flags };
    }
    const up = path.dirname(dir);
    if (up === dir) throw new CliFailure('toolchain_missing', `no JAM Prototype checkout (sdk/asc-options.json) above ${from}`);
    dir = up;
  }
}

/** Newest modification time (ms) of the files under `dir` (0 when it does not exist). */
function newestMtime(dir: string): number {
  if (!existsSync(dir)) return 0;
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/**
 * Checks that `dir` is a service project (has `assembly/index.ts`) and returns its absolute path.
 * @throws CliUsageError when it is not
 */
export function projectDir(cwd: string, dir: string): string {
  const full = path.resolve(cwd, dir);
  if (!existsSync(path.join(full, PROJECT_ENTRY)))
    throw new CliUsageError(`${dir} is not a service project: no ${PROJECT_ENTRY} (create one with \`jam init <dir>\`)`);
  return full;
}

/** Whether the project's Wasm is missing or older than its sources, the SDK or the compiler flags. */
export function needsBuild(dir: string, toolchain: Toolchain): boolean {
  const wasm = path.join(dir, PROJECT_WASM);
  if (!existsSync(wasm)) return true;
  const sources = Math.max(newestMtime(path.join(dir, 'assembly')), newestMtime(toolchain.sdkPath));
  return statSync(wasm).mtimeMs <= sources;
}

/** What `buildProject` did. */
export interface BuildResult {
  /** Absolute path of the Wasm module. */
  wasm: string;
  /** Its size (bytes). */
  bytes: number;
  /** false when it was up to date and nothing ran. */
  built: boolean;
}

/**
 * Compiles `<dir>/assembly/index.ts` to `<dir>/build/service.wasm` with the checkout's compiler and
 * the repository's service flags, in a child process (asc is an ES module and takes seconds).
 * Skipped when up to date unless `force`.
 * @throws CliFailure `build_failed` with the compiler's diagnostics when it fails
 */
export async function buildProject(dir: string, toolchain: Toolchain, force = false): Promise<BuildResult> {
  const wasm = path.join(dir, PROJECT_WASM);
  if (!force && !needsBuild(dir, toolchain)) return { wasm, bytes: statSync(wasm).size, built: false };
  mkdirSync(path.dirname(wasm), { recursive: true });
  const args = [toolchain.asc, PROJECT_ENTRY, '--outFile', PROJECT_WASM, ...toolchain.flags, '--path', toolchain.sdkPath];
  const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.stderr.on('data', (c: Buffer) => chunks.push(c));
    child.on('error', reject);
    child.on('close', (c) => resolve({ code: c, output: Buffer.concat(chunks).toString('utf8') }));
  });
  if (code !== 0 || !existsSync(wasm)) throw new CliFailure('build_failed', `asc failed (exit ${code}):\n${output.trim()}`);
  return { wasm, bytes: statSync(wasm).size, built: true };
}
