/**
 * Compiles AssemblyScript benchmark workloads to Wasm in memory with deterministic flags: the
 * flags of scripts/build-services.js (stub runtime, -O3, --converge, aborts as `unreachable`,
 * no non-trapping float-to-int, no mutable-global imports/exports).
 * `mvp` also disables bulk memory and sign extension, for engines that only know Wasm MVP
 * (npm `wasm-metering` fails on bulk-memory modules, docs/architecture.md section 13, "Sandbox").
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

interface AscResult {
  error: Error | null;
  binary?: Uint8Array;
  stderr: { toString(): string };
}
interface AscModule {
  compileString(sources: Record<string, string>, options: Record<string, unknown>): Promise<AscResult>;
}

let asc: Promise<AscModule> | undefined;

/**
 * Compiles one AssemblyScript source file.
 * @param file path of the source (`.as` workloads or a service's `assembly/index.ts`)
 * @param mvp also disable bulk memory and sign extension
 * @returns module bytes
 * @throws Error with the compiler's diagnostics when compilation fails
 */
export async function compileAssemblyScript(file: string, mvp: boolean): Promise<Uint8Array> {
  asc ??= import('assemblyscript/asc').then((m) => (m as unknown as { default: AscModule }).default);
  const compiler = await asc;
  const disable = ['nontrapping-f2i', 'mutable-globals', ...(mvp ? ['bulk-memory', 'sign-extension'] : [])];
  const name = path.basename(file).replace(/\.(as|ts)$/, '') + '.ts';
  const result = await compiler.compileString(
    { [name]: readFileSync(file, 'utf8') },
    { runtime: 'stub', optimizeLevel: 3, shrinkLevel: 0, converge: true, use: ['abort='], disable },
  );
  if (result.error !== null || result.binary === undefined)
    throw new Error(`asc failed on ${file}: ${result.error?.message ?? 'no output'}\n${result.stderr.toString()}`);
  return result.binary;
}
