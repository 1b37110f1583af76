/**
 * JIP-1 `log` (host call 100) for PVM services: level ω7, target at ω8 (ω9 bytes, ignored), message
 * at ω10 (ω11 bytes), captured like the Wasm `log` (sanitised, MAX_LOG_LINES lines of
 * MAX_LOG_BYTES bytes, later lines counted); an unreadable message is dropped. `log` is no GP 0.7.2
 * host call, so GP's refine and accumulate mutators treat it as unknown: 10 gas (charged by the
 * caller, like every call) and ω7 = WHAT (appendix B.3, B.4; since engine 0.2.1, before: registers
 * unchanged). typeberry does the same under 0.7.2.
 */
import { HOST_WHAT, MAX_LOG_BYTES, MAX_LOG_LINES } from '../host-abi';
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
  const level = r[7]!;
  r[7] = HOST_WHAT;
  const len = Number(r[11]! > BigInt(MAX_LOG_BYTES + 1) ? BigInt(MAX_LOG_BYTES + 1) : r[11]!);
  if (state.logs.length >= MAX_LOG_LINES) {
    state.droppedLogs++;
    return;
  }
  const cut = len > MAX_LOG_BYTES;
  const bytes = ctx.read(Number(r[10]! & 0xffffffffn), cut ? MAX_LOG_BYTES : len);
  if (bytes !== null) state.logs.push(sanitizeLog(Number(level & 0xffffffffn), bytes, cut));
}

/** The captured lines, with a `[dropped N log lines]` line when some were dropped. */
export function finishPvmLogs(state: PvmLogState): string[] {
  if (state.droppedLogs > 0) state.logs.push(`[dropped ${state.droppedLogs} log lines]`);
  return state.logs;
}
