import {
  BULK_BYTES_PER_GAS,
  GAS_CALL,
  GAS_CALL_INDIRECT,
  GAS_DIV_REM,
  GAS_MEMORY_ACCESS,
  GAS_PER_INSTRUCTION,
  GAS_PER_PAGE,
  MAX_CALL_DEPTH,
} from './cost-table';
import { DEFAULT_MEMORY_PAGES_CAP, GAS_GET_EXPORT, GAS_SET_EXPORT, I32, I64 } from './host-abi';
import { parseServiceModule, ServiceCodeRejection, type FuncType, type FunctionBody, type Instruction, type ServiceModule } from './service-module.parser';
import { ByteWriter, encodeSLEB, encodeU32 } from './wasm-binary.reader';

/** Instructions that end a straight-line metering block; the next block is charged right after them. */
const BLOCK_ENDS = new Set<number>([0x00, 0x02, 0x03, 0x04, 0x05, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11]);
const OP_MEMORY_GROW = 0x40;
const OP_MEMORY_COPY = 0xfc0a;
const OP_MEMORY_FILL = 0xfc0b;

/** Cost of one instruction (cost table version 1, docs/gas.md). */
export function instructionCost(op: number): bigint {
  if (op === 0x10) return GAS_CALL;
  if (op === 0x11) return GAS_CALL_INDIRECT;
  if (op >= 0x28 && op <= 0x3e) return GAS_MEMORY_ACCESS;
  if ((op >= 0x6d && op <= 0x70) || (op >= 0x7f && op <= 0x82)) return GAS_DIV_REM;
  return GAS_PER_INSTRUCTION;
}

/** Options of `instrumentServiceCode`. */
export interface InstrumentOptions {
  /** Cap written as the memory maximum (64 KiB pages); default DEFAULT_MEMORY_PAGES_CAP. */
  memoryPagesCap?: number;
}

/**
 * Validates a service module and returns a metered copy of it:
 * - a mutable i64 global (read and set through the added exports `__jam_gas_get`/`__jam_gas_set`)
 *   holds the remaining gas; every straight-line block first subtracts its whole cost (gas, cost
 *   table v1), and blocks at function entry and loop heads trap (`unreachable`) when it is negative;
 * - `memory.grow`, `memory.copy`, `memory.fill` go through added helpers that charge per page/byte;
 * - a mutable i32 depth global counts nested guest calls and traps beyond MAX_CALL_DEPTH;
 * - the memory maximum is rewritten to at most `memoryPagesCap`; custom sections are dropped.
 * After a trap or a return, a negative gas global means out of gas (docs/gas.md).
 * @throws ServiceCodeRejection if the module breaks docs/service-abi.md or its memory minimum exceeds the cap
 */
export function instrumentServiceCode(code: Uint8Array, options: InstrumentOptions = {}): Uint8Array {
  const cap = options.memoryPagesCap ?? DEFAULT_MEMORY_PAGES_CAP;
  const m = parseServiceModule(code);
  if (m.memory.min > cap) throw new ServiceCodeRejection(`memory minimum of ${m.memory.min} pages exceeds the cap of ${cap} pages`);

  const gasGlobal = m.globalCount;
  const depthGlobal = m.globalCount + 1;
  const definedCount = m.functionTypes.length;
  const helperBase = m.importedFunctionCount + definedCount;
  const helpers = { grow: helperBase, copy: helperBase + 1, fill: helperBase + 2, gasGet: helperBase + 3, gasSet: helperBase + 4 };
  const typeBase = m.types.length;

  const payloads = new Map<number, Uint8Array>(m.sections.map((s) => [s.id, s.payload]));

  // types: (i32)->i32 grow, (i32,i32,i32)->() copy and fill, ()->i64 gas get, (i64)->() gas set
  payloads.set(1, appendToVector(payloads.get(1), 4, [0x60, 1, I32, 1, I32, 0x60, 3, I32, I32, I32, 0, 0x60, 0, 1, I64, 0x60, 1, I64, 0]));
  const helperTypes = [typeBase, typeBase + 1, typeBase + 1, typeBase + 2, typeBase + 3];
  payloads.set(3, appendToVector(payloads.get(3), helperTypes.length, helperTypes.flatMap((t) => encodeU32(t))));
  payloads.set(5, new ByteWriter().u32(1).byte(0x01).u32(m.memory.min).u32(Math.min(m.memory.max ?? cap, cap)).toBytes());
  payloads.set(6, appendToVector(payloads.get(6), 2, [I64, 0x01, 0x42, 0x00, 0x0b, I32, 0x01, 0x41, 0x00, 0x0b]));
  const exportEntry = (name: string, index: number) => {
    const bytes = new TextEncoder().encode(name);
    return [...encodeU32(bytes.length), ...bytes, 0x00, ...encodeU32(index)];
  };
  payloads.set(7, appendToVector(payloads.get(7), 2, [...exportEntry(GAS_GET_EXPORT, helpers.gasGet), ...exportEntry(GAS_SET_EXPORT, helpers.gasSet)]));

  const helperCode = helperBodies(gasGlobal);
  const code10 = new ByteWriter().u32(m.bodies.length + helperCode.length);
  for (const [index, body] of m.bodies.entries()) {
    const out = instrumentBody(body, m, m.importedFunctionCount + index, gasGlobal, depthGlobal, helpers);
    code10.u32(out.length).bytes(out);
  }
  for (const helper of helperCode) code10.u32(helper.length).bytes(helper);
  payloads.set(10, code10.toBytes());

  const out = new ByteWriter().bytes([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
  for (const id of [1, 2, 3, 4, 5, 6, 7, 9, 12, 10, 11]) {
    const p = payloads.get(id);
    if (p !== undefined) out.section(id, p);
  }
  return out.toBytes();
}

/** Appends `count` already-encoded entries to a vector payload (count-prefixed), creating it if absent. */
function appendToVector(payload: Uint8Array | undefined, count: number, entries: number[]): Uint8Array {
  let n = 0;
  let rest: Uint8Array = new Uint8Array(0);
  if (payload !== undefined) {
    let pos = 0;
    let shift = 0;
    for (;;) {
      const b = payload[pos++] as number;
      n += (b & 0x7f) * 2 ** shift;
      shift += 7;
      if ((b & 0x80) === 0) break;
    }
    rest = payload.subarray(pos);
  }
  return new ByteWriter().u32(n + count).bytes(rest).bytes(entries).toBytes();
}

/**
 * Meters one function body. The counter lives in an added i64 local while the function runs
 * (registers instead of memory); it is synced with the gas global at entry, around every call
 * (guest, host or helper), before `return`, `unreachable`, a branch that leaves the function and
 * the final `end`, and when a checkpoint traps.
 */
function instrumentBody(body: FunctionBody, m: ServiceModule, funcIndex: number, gasGlobal: number, depthGlobal: number, helpers: { grow: number; copy: number; fill: number }): Uint8Array {
  const type = m.types[m.functionTypes[funcIndex - m.importedFunctionCount] as number] as FuncType;
  const gasLocal = encodeU32(type.params.length + body.localCount);
  const g = encodeU32(gasGlobal);
  const d = encodeU32(depthGlobal);
  const save = [0x20, ...gasLocal, 0x24, ...g];
  const load = [0x23, ...g, 0x21, ...gasLocal];
  const depthInc = [0x23, ...d, 0x41, 0x01, 0x6a, 0x24, ...d, 0x23, ...d, 0x41, ...encodeSLEB(BigInt(MAX_CALL_DEPTH)), 0x4b, 0x04, 0x40, 0x00, 0x0b];
  const depthDec = [0x23, ...d, 0x41, 0x01, 0x6b, 0x24, ...d];
  const charge = (cost: bigint, check: boolean): number[] => {
    const sub = [0x20, ...gasLocal, 0x42, ...encodeSLEB(cost), 0x7d];
    // gas -= cost; with check: if (gas < 0) { sync; unreachable }
    return check ? [...sub, 0x22, ...gasLocal, 0x42, 0x00, 0x53, 0x04, 0x40, ...save, 0x00, 0x0b] : [...sub, 0x21, ...gasLocal];
  };

  // locals: one more declaration group holding the counter
  const out = new ByteWriter().u32(body.localGroups + 1);
  const declStart = encodeU32(body.localGroups).length;
  out.bytes(body.bytes.subarray(declStart, body.codeStart)).bytes([0x01, I64]);
  out.bytes(load);

  const ins = body.instructions;
  let depth = 0; // open blocks inside the function body
  let i = 0;
  while (i < ins.length) {
    // one straight-line block: instructions up to and including the next block end
    let j = i;
    let cost = 0n;
    for (;;) {
      const x = ins[j] as Instruction;
      cost += instructionCost(x.op);
      j++;
      if (BLOCK_ENDS.has(x.op) || j >= ins.length) break;
    }
    // Checkpoints only where execution can repeat (function entry, loop head): code between two
    // checkpoints is finite, so it may run the counter negative and the next checkpoint (or the
    // host at the end of the job) turns that into out_of_gas. The charge always precedes the block.
    out.bytes(charge(cost, i === 0 || ins[i - 1]?.op === 0x03));
    for (let k = i; k < j; k++) {
      const x = ins[k] as Instruction;
      const raw = body.bytes.subarray(x.start, x.end);
      const isGuestCall = (x.op === 0x10 && (x.callee ?? 0) >= m.importedFunctionCount) || x.op === 0x11;
      const leavesFunction = x.op === 0x0f || x.op === 0x00 || (x.labels ?? []).some((l) => l === depth) || (x.op === 0x0b && depth === 0);
      if (x.op === 0x02 || x.op === 0x03 || x.op === 0x04) depth++;
      else if (x.op === 0x0b) depth--;
      if (x.op === OP_MEMORY_GROW) out.bytes(save).byte(0x10).u32(helpers.grow).bytes(load);
      else if (x.op === OP_MEMORY_COPY) out.bytes(save).byte(0x10).u32(helpers.copy).bytes(load);
      else if (x.op === OP_MEMORY_FILL) out.bytes(save).byte(0x10).u32(helpers.fill).bytes(load);
      else if (isGuestCall) out.bytes(save).bytes(depthInc).bytes(raw).bytes(depthDec).bytes(load);
      else if (x.op === 0x10) out.bytes(save).bytes(raw).bytes(load);
      else if (leavesFunction) out.bytes(save).bytes(raw);
      else out.bytes(raw);
    }
    i = j;
  }
  return out.toBytes();
}

/** Bodies of the grow, copy, fill, gas-get and gas-set helpers, in that order. */
function helperBodies(gasGlobal: number): Uint8Array[] {
  const g = encodeU32(gasGlobal);
  const chargeTail = [0x7d, 0x24, ...g, 0x23, ...g, 0x42, 0x00, 0x53, 0x04, 0x40, 0x00, 0x0b];
  const grow = [0x00, 0x23, ...g, 0x20, 0x00, 0xad, 0x42, ...encodeSLEB(GAS_PER_PAGE), 0x7e, ...chargeTail, 0x20, 0x00, 0x40, 0x00, 0x0b];
  const bulk = (tail: number[]) => [0x00, 0x23, ...g, 0x20, 0x02, 0xad, 0x42, ...encodeSLEB(BigInt(BULK_BYTES_PER_GAS)), 0x80, ...chargeTail, 0x20, 0x00, 0x20, 0x01, 0x20, 0x02, ...tail, 0x0b];
  const gasGet = [0x00, 0x23, ...g, 0x0b];
  const gasSet = [0x00, 0x20, 0x00, 0x24, ...g, 0x0b];
  return [grow, bulk([0xfc, 0x0a, 0x00, 0x00]), bulk([0xfc, 0x0b, 0x00]), gasGet, gasSet].map((b) => new Uint8Array(b));
}
