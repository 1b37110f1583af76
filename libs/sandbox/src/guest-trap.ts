import { OutOfGas } from './host-calls/host-call';

/**
 * Why a guest job ended without a normal result:
 * - V8 trap kinds (WebAssembly.RuntimeError): `unreachable` (an `unreachable` instruction: an
 *   AssemblyScript `abort`/`assert`/`unreachable()`, the SDK's `panic`, or the engine's call-depth
 *   check at a function's entry, docs/gas.md), `memory_out_of_bounds`, `divide_by_zero`,
 *   `integer_overflow` (`i32.div_s` of INT_MIN by -1), `indirect_call` (`call_indirect` to a null
 *   slot, past the table, or with the wrong signature), `other` (any other RuntimeError message);
 * - `out_of_gas`: the gas ran out (at a metering checkpoint or in a host call);
 * - `bad_output_range`: refine returned an output range outside memory (result `panic`);
 * - `nonzero_return`: accumulate returned a value other than 0 (status `panic`).
 */
export type TrapKind =
  | 'unreachable'
  | 'memory_out_of_bounds'
  | 'divide_by_zero'
  | 'integer_overflow'
  | 'indirect_call'
  | 'out_of_gas'
  | 'bad_output_range'
  | 'nonzero_return'
  | 'other';

/** One Wasm frame of a trap's stack: a function index and a byte offset, as V8 prints them. */
export interface TrapFrame {
  /**
   * Function index in the module's function index space (imports first). The engine's metering
   * keeps every index of the uploaded module and appends its helpers after them, so an index
   * below the uploaded module's function count names the service's own function.
   */
  function: number;
  /** Byte offset in the metered module the executor ran (not in the uploaded bytes). */
  offset: number;
}

/**
 * Where and why a guest job trapped: kept beside the work report and printed by `jam run`, never
 * part of what attesters sign (docs/service-abi.md, "Guest logs and trap detail"): the kind is
 * decided by the code and input, but the message text and frames are V8's and may differ between
 * Node versions.
 */
export interface TrapInfo {
  kind: TrapKind;
  /** V8's message (`unreachable`, `memory access out of bounds`, ...) or the engine's own text. */
  message: string;
  /** Innermost Wasm frames first (at most MAX_TRAP_FRAMES); empty when V8 gave none. */
  frames: TrapFrame[];
}

/** Frames kept per trap. */
export const MAX_TRAP_FRAMES = 8;

const FRAME = /wasm-function\[(\d+)\]:0x([0-9a-f]+)/g;

/** The Wasm frames of an error's `stack` (`wasm-function[N]:0xOFFSET`), innermost first. */
export function trapFrames(stack: string | undefined): TrapFrame[] {
  const frames: TrapFrame[] = [];
  if (!stack) return frames;
  for (const m of stack.matchAll(FRAME)) {
    frames.push({ function: Number(m[1]), offset: parseInt(m[2] as string, 16) });
    if (frames.length === MAX_TRAP_FRAMES) break;
  }
  return frames;
}

/** V8's RuntimeError message to a TrapKind (V8 11.3 / Node 20 wording, also Node 22's). */
export function trapKindOf(message: string): TrapKind {
  const m = message.toLowerCase();
  if (m.includes('unreachable')) return 'unreachable';
  if (m.includes('out of bounds') && m.includes('memory')) return 'memory_out_of_bounds';
  if (m.includes('by zero')) return 'divide_by_zero';
  if (m.includes('unrepresentable') || m.includes('integer overflow')) return 'integer_overflow';
  if (m.includes('table') || m.includes('signature') || m.includes('null function')) return 'indirect_call';
  return 'other';
}

/**
 * Trap detail of what a guest entry point threw: an OutOfGas (or any throw while the counter is
 * negative: `outOfGas`) is `out_of_gas`, a WebAssembly.RuntimeError by its message.
 */
export function describeTrap(error: unknown, outOfGas: boolean): TrapInfo {
  const e = error instanceof Error ? error : new Error(String(error));
  const frames = trapFrames(e.stack);
  if (outOfGas || e instanceof OutOfGas) return { kind: 'out_of_gas', message: 'out of gas', frames };
  return { kind: trapKindOf(e.message), message: e.message, frames };
}

/** One line for people: `unreachable in function 12 at 0x1a3 (called from function 7 at 0x150)`. */
export function formatTrap(trap: TrapInfo): string {
  const [inner, ...outer] = trap.frames;
  if (inner === undefined) return trap.message;
  const at = (f: TrapFrame): string => `function ${f.function} at 0x${f.offset.toString(16)}`;
  return `${trap.message} in ${at(inner)}${outer.length ? ` (called from ${outer.map(at).join(', ')})` : ''}`;
}
