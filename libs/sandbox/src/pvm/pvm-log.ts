/**
 * JIP-1 `log` (host call 100) for PVM services: level ω7, target at ω8 (ω9 bytes, ignored), message
 * at ω10 (ω11 bytes), captured like the Wasm `log` (sanitised, MAX_LOG_LINES lines of
 * MAX_LOG_BYTES bytes, later lines counted); registers unchanged, an unreadable message is dropped.
 */
import { MAX_LOG_BYTES, MAX_LOG_LINES } from '../host-abi';
import { sanitizeLog } from '../host-calls/log.host-call';
import type { PvmHostContext } from './pvm.machine';

/** The captured log of one run. */
export interface PvmLogState {
  logs: string[];
  droppedLogs: number;
}

/** Handles one JIP-1 `log` call on `state`. */
export function pvmLog(state: PvmLogState, ctx: PvmHostContext): void {
  const r = ctx.registers;
  const len = Number(r[11]! > BigInt(MAX_LOG_BYTES + 1) ? BigInt(MAX_LOG_BYTES + 1) : r[11]!);
  if (state.logs.length >= MAX_LOG_LINES) {
    state.droppedLogs++;
    return;
  }
  const cut = len > MAX_LOG_BYTES;
  const bytes = ctx.read(Number(r[10]! & 0xffffffffn), cut ? MAX_LOG_BYTES : len);
  if (bytes !== null) state.logs.push(sanitizeLog(Number(r[7]! & 0xffffffffn), bytes, cut));
}

/** The captured lines, with a `[dropped N log lines]` line when some were dropped. */
export function finishPvmLogs(state: PvmLogState): string[] {
  if (state.droppedLogs > 0) state.logs.push(`[dropped ${state.droppedLogs} log lines]`);
  return state.logs;
}
