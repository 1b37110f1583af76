import type { EngineIdentity } from '@jam/domain';
import { PVM_ENGINE_IDENTITY } from './pvm/pvm.machine';
import { ENGINE_IDENTITY } from './sandbox.types';

/**
 * The two code formats a service can have, each run by its own engine (docs/service-abi.md):
 * - `wasm`: a WebAssembly module (starts with the magic `\0asm`), run by the metered Wasm engine;
 * - `jam-pvm`: a JAM service blob (E(↕metadata) ++ standard program, GP 0.7.2 A.7), the output of
 *   `jam-pvm-build`/polkatool, run by the PVM engine.
 */
export type CodeFormat = 'wasm' | 'jam-pvm';

const WASM_MAGIC = [0x00, 0x61, 0x73, 0x6d];

/**
 * The format of service code, from its bytes alone: `wasm` when it starts with `\0asm`, else
 * `jam-pvm`. Deterministic, and unambiguous for code that passes validation: a service blob that
 * began with those 4 bytes would declare (metadata length 0, then E3(|o|) = 0x6d7361) over 7 MB of
 * read-only data, more than the GP W_C code limit allows. Which format is then checked by that
 * engine's validator at registration, and the executor picks the engine by the same function over
 * the hash-verified code, so a run never guesses.
 * @param code service code as uploaded
 */
export function detectCodeFormat(code: Uint8Array): CodeFormat {
  return WASM_MAGIC.every((b, i) => code[i] === b) ? 'wasm' : 'jam-pvm';
}

/** Identity of the engine that runs code of `format` (the report hash binds it). */
export function engineIdentityOf(format: CodeFormat): EngineIdentity {
  return format === 'wasm' ? ENGINE_IDENTITY : PVM_ENGINE_IDENTITY;
}

/**
 * Engine identity a work report binds (docs/architecture.md section 6): that of the one engine
 * that ran its items, or, for a package whose items ran on both engines, both identities joined
 * in name order (`name` "a+b", `version` "va/ctA+vb/ctB", the first table version). A report with
 * no engine run (every item refused before running) binds the Wasm identity, as before PVM existed.
 * @param engines identities of the engines that ran the report's items, repeats allowed
 */
export function reportEngineIdentity(engines: readonly EngineIdentity[]): EngineIdentity {
  const distinct = [...new Map(engines.map((e) => [`${e.name}\u0000${e.version}\u0000${e.cost_table_version}`, e])).values()].sort((a, b) =>
    a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
  );
  if (distinct.length === 0) return ENGINE_IDENTITY;
  if (distinct.length === 1) return distinct[0]!;
  return {
    name: distinct.map((e) => e.name).join('+'),
    version: distinct.map((e) => `${e.version}/ct${e.cost_table_version}`).join('+'),
    cost_table_version: distinct[0]!.cost_table_version,
  };
}
