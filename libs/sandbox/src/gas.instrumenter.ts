import {
  BULK_BYTES_PER_GAS,
  FREE_INITIAL_PAGES,
  GAS_BULK_MEMORY,
  GAS_CALL,
  GAS_CALL_INDIRECT,
  GAS_DIV_REM,
  GAS_HOISTED_ENTRY,
  GAS_HOISTED_PER_EXPRESSION_INSTRUCTION,
  GAS_MEMORY_ACCESS,
  GAS_GROW_PER_MEMORY_PAGE,
  GAS_MEMORY_GROW,
  GAS_PER_DATA_BYTE,
  GAS_PER_DATA_SEGMENT,
  GAS_PER_GLOBAL,
  GAS_PER_INITIAL_PAGE,
  GAS_PER_INSTRUCTION,
  GAS_PER_PAGE,
  GAS_PER_TABLE_ELEMENT,
  MAX_CALL_DEPTH,
  MISS_PAGE_SHIFT,
  MISS_SURCHARGE_TIERS,
  missSurcharge,
} from './cost-table';
import { DEFAULT_MEMORY_PAGES_CAP, GAS_GET_EXPORT, GAS_SET_EXPORT, I32, I64 } from './host-abi';
import { planCallDepth } from './call-graph';
import { MAX_METERED_FUNCTION_BYTES } from './module-limits';
import { parseServiceModule, ServiceCodeRejection, type FuncType, type FunctionBody, type Instruction, type ServiceModule } from './service-module.parser';
import { ByteWriter, encodeSLEB, encodeU32, WasmBinaryReader } from './wasm-binary.reader';

/**
 * Instructions that end a straight-line metering block; the next block is charged right after them.
 * `block` (0x02) is not one of them (cost table v2): the first instruction of a `block` body is
 * reached only by falling through the `block` instruction, so it joins the preceding block's charge.
 */
const BLOCK_ENDS = new Set<number>([0x00, 0x03, 0x04, 0x05, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11]);
const OP_MEMORY_GROW = 0x40;
const OP_MEMORY_COPY = 0xfc0a;
const OP_MEMORY_FILL = 0xfc0b;

/**
 * Static cost of one instruction (gas, cost table v5, docs/gas.md): charged with its straight-line
 * block. `memory.grow`, `memory.copy` and `memory.fill` also pay per page / byte in their helpers,
 * and loads, stores and bulk memory the miss surcharge when they switch pages ("Memory misses").
 */
export function instructionCost(op: number): bigint {
  if (op === OP_MEMORY_GROW) return GAS_MEMORY_GROW;
  if (op === OP_MEMORY_COPY || op === OP_MEMORY_FILL) return GAS_BULK_MEMORY;
  if (op === 0x10) return GAS_CALL;
  if (op === 0x11) return GAS_CALL_INDIRECT;
  if (op >= 0x28 && op <= 0x3e) return GAS_MEMORY_ACCESS;
  if ((op >= 0x6d && op <= 0x70) || (op >= 0x7f && op <= 0x82)) return GAS_DIV_REM;
  return GAS_PER_INSTRUCTION;
}

/**
 * Gas an instance of `m` costs before its entry point runs (gas, cost table v4, docs/gas.md
 * "Instantiation"): GAS_PER_GLOBAL per defined global, GAS_PER_DATA_SEGMENT per data segment plus
 * GAS_PER_DATA_BYTE per data byte, GAS_PER_TABLE_ELEMENT per table element (minimum size) and per
 * element-segment entry, GAS_PER_INITIAL_PAGE per initial memory page beyond FREE_INITIAL_PAGES. A
 * function of the module bytes only.
 */
export function instantiationGas(m: ServiceModule): bigint {
  return (
    BigInt(m.globalCount) * GAS_PER_GLOBAL +
    BigInt(m.dataSegments) * GAS_PER_DATA_SEGMENT +
    BigInt(m.dataBytes) * GAS_PER_DATA_BYTE +
    BigInt(m.tableMin + m.tableFunctions.length) * GAS_PER_TABLE_ELEMENT +
    BigInt(Math.max(0, m.memory.min - FREE_INITIAL_PAGES)) * GAS_PER_INITIAL_PAGE
  );
}

/** Options of `instrumentServiceCode`. */
export interface InstrumentOptions {
  /** Cap written as the memory maximum (64 KiB pages); default DEFAULT_MEMORY_PAGES_CAP. */
  memoryPagesCap?: number;
}

/**
 * Validates a service module and returns a metered copy of it:
 * - a mutable i64 global (read and set through the added exports `__jam_gas_get`/`__jam_gas_set`)
 *   holds the remaining gas between host interactions; while guest code runs the counter is an
 *   added last i64 parameter and result of every defined function (exports are wrapped with their
 *   declared signature, host imports in the table with the threaded one); every straight-line block
 *   first subtracts its whole cost (gas, cost table v2), and blocks at function entry and loop heads
 *   trap (`unreachable`) when it is negative;
 * - `memory.grow`, `memory.copy`, `memory.fill` go through added helpers that charge per page/byte;
 * - loads and stores (but constant addresses, when the module's lie in at most MAX_CONSTANT_PAGES
 *   pages) compare their 4 KiB page with two tracked pages of their kind (internal i32 globals) and
 *   pay the near or far miss surcharge (internal i64 globals, set by memory size at instantiation
 *   and by the grow helper) when it is neither (cost table v5, docs/gas.md "Memory misses");
 * - a mutable i32 depth global counts active frames of the functions `planCallDepth` marks (cycles,
 *   table, heavy chains): their prologue traps when MAX_CALL_DEPTH are already active;
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
  const miss = missGlobals(m.globalCount + 2);
  const imported = m.importedFunctionCount;
  const definedCount = m.functionTypes.length;
  const helperBase = imported + definedCount;
  const helpers = {
    grow: helperBase,
    copy: helperBase + 1,
    fill: helperBase + 2,
    gasGet: helperBase + 3,
    gasSet: helperBase + 4,
    trackLoad: helperBase + 5,
    trackStore: helperBase + 6,
  };
  const payloads = new Map<number, Uint8Array>(m.sections.map((s) => [s.id, s.payload]));

  const types = typeTable(m);
  const { typeAt, typeIndexOf, threaded, threadedAt, blockTypeFor } = types;

  // Entry wrappers: the host calls exported functions with their declared signature; a wrapper
  // passes the gas global in and stores the returned counter back. Table entries that are host
  // imports get a threaded-signature wrapper, since `call_indirect` now uses threaded types.
  const exportsIn = readExports(payloads.get(7));
  const wrappers: { kind: 'export' | 'import'; target: number }[] = [];
  const wrapperOf = new Map<string, number>();
  const wrap = (kind: 'export' | 'import', target: number): number => {
    const key = `${kind}:${target}`;
    let index = wrapperOf.get(key);
    if (index === undefined) {
      index = helperBase + HELPER_COUNT + wrappers.push({ kind, target }) - 1;
      wrapperOf.set(key, index);
    }
    return index;
  };
  const exportsOut = exportsIn.map((e) => (e.kind === 0x00 && e.index >= imported ? { ...e, index: wrap('export', e.index) } : e));
  const elements = readElements(payloads.get(9)).map((seg) => ({ ...seg, indices: seg.indices.map((f) => (f < imported ? wrap('import', f) : f)) }));
  const functionType = (f: number): FuncType => typeAt(f < imported ? (m.importTypes[f] as number) : (m.functionTypes[f - imported] as number));

  const plan = planCallDepth(m);
  const constantsUntracked = constantAccessesUntracked(m);
  const helperCode = helperBodies(gasGlobal, miss, helpers);
  const code10 = new ByteWriter().u32(m.bodies.length + helperCode.length + wrappers.length);
  for (const [index, body] of m.bodies.entries()) {
    const out = instrumentBody(
      body,
      m,
      imported + index,
      { gasGlobal, depthGlobal: plan.counted[index] === true ? depthGlobal : undefined, miss, constantsUntracked },
      helpers,
      blockTypeFor,
      threadedAt,
    );
    if (out.length > MAX_METERED_FUNCTION_BYTES)
      throw new ServiceCodeRejection(`function ${imported + index} is over ${MAX_METERED_FUNCTION_BYTES} bytes after metering`);
    code10.u32(out.length).bytes(out);
  }
  for (const helper of helperCode) code10.u32(helper.length).bytes(helper);
  const wrapperTypes = writeWrapperBodies(code10, wrappers, { m, gasGlobal, functionType, typeIndexOf, threaded });
  payloads.set(10, code10.toBytes());

  writeMetadataSections(payloads, {
    m,
    cap,
    added: types.added,
    fnTypes: [...m.functionTypes.map(threadedAt), ...helperTypesOf(m.types.length), ...wrapperTypes],
    exportsOut,
    elements,
    helpers,
  });

  const out = new ByteWriter().bytes([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
  for (const id of [1, 2, 3, 4, 5, 6, 7, 9, 12, 10, 11]) {
    const p = payloads.get(id);
    if (p !== undefined) out.section(id, p);
  }
  return out.toBytes();
}

/**
 * The type section's lookups for metering. Types: the four helper types, then any type the threading
 * needs that the module lacks (`[params, i64] -> [results, i64]` of every function type, `[] -> results`
 * block types), in `added`. Looked up by signature in maps, not by scanning the type list: a scan per
 * function and per `call_indirect` made registration quadratic (16,384 types x 100,000 `call_indirect`s,
 * 0.7 MB, took minutes on the gateway's event loop). Same answer: the first equal type of the module,
 * else the first equal added one.
 */
function typeTable(m: ServiceModule) {
  const typeBase = m.types.length;
  const added: FuncType[] = [];
  const signature = (t: FuncType): string => `${t.params.join(',')}>${t.results.join(',')}`;
  const ownIndex = new Map<string, number>();
  for (const [k, t] of m.types.entries()) if (!ownIndex.has(signature(t))) ownIndex.set(signature(t), k);
  const addedIndex = new Map<string, number>();
  const typeIndexOf = (t: FuncType): number => {
    const key = signature(t);
    const own = ownIndex.get(key);
    if (own !== undefined) return own;
    let extra = addedIndex.get(key);
    if (extra === undefined) {
      extra = added.push(t) - 1;
      addedIndex.set(key, extra);
    }
    return typeBase + HELPER_TYPE_COUNT + extra;
  };
  const typeAt = (index: number): FuncType => m.types[index] as FuncType;
  const threaded = (t: FuncType): number => typeIndexOf({ params: [...t.params, I64], results: [...t.results, I64] });
  const threadedOf = new Map<number, number>();
  const threadedAt = (index: number): number => {
    let out = threadedOf.get(index);
    if (out === undefined) threadedOf.set(index, (out = threaded(typeAt(index))));
    return out;
  };
  const blockTypeFor = (results: number[]): number[] => {
    if (results.length === 0) return [0x40];
    if (results.length === 1) return [results[0] as number];
    return encodeSLEB(BigInt(typeIndexOf({ params: [], results })));
  };
  return { added, typeAt, typeIndexOf, threaded, threadedAt, blockTypeFor };
}

/**
 * Writes the entry wrappers' bodies to the code section: an export wrapper first charges the
 * instantiation (docs/gas.md "Instantiation"), passes the gas global in and stores the returned
 * counter back; an import wrapper (a host import in the table) takes the threaded signature.
 * @returns the type index of each wrapper, in order
 */
function writeWrapperBodies(
  code10: ByteWriter,
  wrappers: readonly { kind: 'export' | 'import'; target: number }[],
  ctx: { m: ServiceModule; gasGlobal: number; functionType: (f: number) => FuncType; typeIndexOf: (t: FuncType) => number; threaded: (t: FuncType) => number },
): number[] {
  const { m, gasGlobal, functionType, typeIndexOf, threaded } = ctx;
  const g = encodeU32(gasGlobal);
  // an entry wrapper first charges the instantiation (docs/gas.md "Instantiation"): gas -= C; if (gas < 0) trap
  const instantiation = instantiationGas(m);
  const chargeInstantiation =
    instantiation === 0n ? [] : [0x23, ...g, 0x42, ...encodeSLEB(instantiation), 0x7d, 0x24, ...g, 0x23, ...g, 0x42, 0x00, 0x53, 0x04, 0x40, 0x00, 0x0b];
  const wrapperTypes: number[] = [];
  for (const w of wrappers) {
    const t = functionType(w.target);
    const args = t.params.flatMap((_, k) => [0x20, ...encodeU32(k)]);
    const body =
      w.kind === 'export'
        ? [0x00, ...chargeInstantiation, ...args, 0x23, ...g, 0x10, ...encodeU32(w.target), 0x24, ...g, 0x0b]
        : [0x00, 0x20, ...encodeU32(t.params.length), 0x24, ...g, ...args, 0x10, ...encodeU32(w.target), 0x23, ...g, 0x0b];
    wrapperTypes.push(w.kind === 'export' ? typeIndexOf(t) : threaded(t));
    code10.u32(body.length).bytes(body);
  }
  return wrapperTypes;
}

/** Added helper functions (grow, copy, fill, gas get, gas set, track load, track store), after the defined ones. */
const HELPER_COUNT = 7;
/** Added helper types, after the module's own: grow, copy/fill, gas get, gas set, track. */
const HELPER_TYPE_COUNT = 5;

/** Type indexes of the helpers, in order (the five helper types follow the module's own). */
function helperTypesOf(typeBase: number): number[] {
  return [typeBase, typeBase + 1, typeBase + 1, typeBase + 2, typeBase + 3, typeBase + 4, typeBase + 4];
}

/**
 * Global indexes of the memory-miss tracker (cost table v5, docs/gas.md "Memory misses"), from
 * `first`: the last two 4 KiB pages loads touched (`load0` the most recent), the same for stores,
 * and the current `near` / `far` surcharges (i64, set from the memory size at instantiation and
 * by the grow helper).
 */
interface MissGlobals {
  load0: number;
  load1: number;
  store0: number;
  store1: number;
  near: number;
  far: number;
}

function missGlobals(first: number): MissGlobals {
  return { load0: first, load1: first + 1, store0: first + 2, store1: first + 3, near: first + 4, far: first + 5 };
}

/** Initial value of the page trackers: no 4 KiB page of a 32-bit memory is near it (page index). */
const NO_PAGE = 0x40000000;

/**
 * Rewrites the function, type, memory, global, export and element sections of the metered module
 * in `payloads` (section id -> payload): threaded function types, the helper and added types, the
 * memory maximum capped at `cap`, the gas and depth globals, the gas exports, wrapped table entries.
 */
function writeMetadataSections(
  payloads: Map<number, Uint8Array>,
  parts: {
    m: ServiceModule;
    cap: number;
    added: FuncType[];
    fnTypes: number[];
    exportsOut: { name: string; kind: number; index: number }[];
    elements: { offset: bigint; indices: number[] }[];
    helpers: { gasGet: number; gasSet: number };
  },
): void {
  const { m, cap, added, fnTypes, exportsOut, elements, helpers } = parts;
  // functions: defined ones get threaded types; then helpers and wrappers
  payloads.set(
    3,
    new ByteWriter()
      .u32(fnTypes.length)
      .bytes(fnTypes.flatMap((t) => encodeU32(t)))
      .toBytes(),
  );
  // types: (i32)->i32 grow, (i32,i32,i32)->() copy and fill, ()->i64 gas get, (i64)->() gas set, then the added ones
  const encType = (t: FuncType) => [0x60, ...encodeU32(t.params.length), ...t.params, ...encodeU32(t.results.length), ...t.results];
  payloads.set(
    1,
    appendToVector(payloads.get(1), HELPER_TYPE_COUNT + added.length, [
      0x60,
      1,
      I32,
      1,
      I32,
      0x60,
      3,
      I32,
      I32,
      I32,
      0,
      0x60,
      0,
      1,
      I64,
      0x60,
      1,
      I64,
      0,
      0x60,
      2,
      I64,
      I32,
      1,
      I64,
      ...added.flatMap(encType),
    ]),
  );
  payloads.set(
    5,
    new ByteWriter()
      .u32(1)
      .byte(0x01)
      .u32(m.memory.min)
      .u32(Math.min(m.memory.max ?? cap, cap))
      .toBytes(),
  );
  // gas, depth, then the miss tracker: four page trackers (i32) and the near / far surcharges of the initial memory (i64)
  const initial = missSurcharge(m.memory.min);
  const tracker = [I32, 0x01, 0x41, ...encodeSLEB(BigInt(NO_PAGE)), 0x0b];
  payloads.set(
    6,
    appendToVector(payloads.get(6), 8, [
      ...[I64, 0x01, 0x42, 0x00, 0x0b, I32, 0x01, 0x41, 0x00, 0x0b],
      ...tracker,
      ...tracker,
      ...tracker,
      ...tracker,
      ...[I64, 0x01, 0x42, ...encodeSLEB(initial.near), 0x0b],
      ...[I64, 0x01, 0x42, ...encodeSLEB(initial.far), 0x0b],
    ]),
  );
  const exportEntry = (name: string, kind: number, index: number) => {
    const bytes = new TextEncoder().encode(name);
    return [...encodeU32(bytes.length), ...bytes, kind, ...encodeU32(index)];
  };
  const allExports = [...exportsOut, { name: GAS_GET_EXPORT, kind: 0x00, index: helpers.gasGet }, { name: GAS_SET_EXPORT, kind: 0x00, index: helpers.gasSet }];
  payloads.set(
    7,
    new ByteWriter()
      .u32(allExports.length)
      .bytes(allExports.flatMap((e) => exportEntry(e.name, e.kind, e.index)))
      .toBytes(),
  );
  if (payloads.has(9)) {
    const w = new ByteWriter().u32(elements.length);
    for (const seg of elements)
      w.u32(0)
        .byte(0x41)
        .bytes(encodeSLEB(seg.offset))
        .byte(0x0b)
        .u32(seg.indices.length)
        .bytes(seg.indices.flatMap((f) => encodeU32(f)));
    payloads.set(9, w.toBytes());
  }
}

function readExports(payload: Uint8Array | undefined): { name: string; kind: number; index: number }[] {
  if (payload === undefined) return [];
  const r = new WasmBinaryReader(payload);
  const out: { name: string; kind: number; index: number }[] = [];
  for (let n = r.u32(); n > 0; n--) out.push({ name: r.name(), kind: r.u8(), index: r.u32() });
  return out;
}

/** Element segments (the parser accepts only kind 0 with an `i32.const` offset). */
function readElements(payload: Uint8Array | undefined): { offset: bigint; indices: number[] }[] {
  if (payload === undefined) return [];
  const r = new WasmBinaryReader(payload);
  const out: { offset: bigint; indices: number[] }[] = [];
  for (let n = r.u32(); n > 0; n--) {
    r.u32();
    r.u8();
    const offset = r.sleb(32);
    r.u8();
    const indices: number[] = [];
    for (let k = r.u32(); k > 0; k--) indices.push(r.u32());
    out.push({ offset, indices });
  }
  return out;
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
  return new ByteWriter()
    .u32(n + count)
    .bytes(rest)
    .bytes(entries)
    .toBytes();
}

/**
 * Meters one function body. The counter is threaded through guest calls: every defined function
 * takes it as an added last i64 parameter (which also serves as the running counter) and returns
 * it as an added last i64 result; guest calls pass it and take it back in registers. It is synced
 * with the gas global only around host and helper calls, before `unreachable`, and when a
 * checkpoint or the depth check traps; entry wrappers sync it for the host.
 * With `depthGlobal` (a counted function), the prologue copies the depth global into an added
 * i32 local, traps if it is already MAX_CALL_DEPTH (before charging anything) and stores it + 1.
 * Every body is wrapped in a block of the original result type, so every way out (`return`,
 * rewritten to `br` to that block; a branch to the function label, which now names that block;
 * the final `end`) passes one epilogue that restores the depth and pushes the counter.
 */
function instrumentBody(
  body: FunctionBody,
  m: ServiceModule,
  funcIndex: number,
  globals: { gasGlobal: number; depthGlobal: number | undefined; miss: MissGlobals; constantsUntracked: boolean },
  helpers: { grow: number; copy: number; fill: number; trackLoad: number; trackStore: number },
  blockTypeFor: (results: number[]) => number[],
  threadedType: (typeIndex: number) => number,
): Uint8Array {
  const { gasGlobal, depthGlobal, miss } = globals;
  const type = m.types[m.functionTypes[funcIndex - m.importedFunctionCount] as number] as FuncType;
  const np = type.params.length;
  const gasLocal = encodeU32(np);
  const hoists = planHoists(body, m.importedFunctionCount);
  const plan = planAccesses(body, globals.constantsUntracked, hoists);
  const extras = extraLocals(body, np + 1 + body.localCount, depthGlobal !== undefined, plan);
  const depthLocal = encodeU32(extras.depth);
  const tmpLocal = encodeU32(extras.tmp);
  const g = encodeU32(gasGlobal);
  const save = [0x20, ...gasLocal, 0x24, ...g];
  const load = [0x23, ...g, 0x21, ...gasLocal];
  const { enter, leave } = depthGlobal !== undefined ? depthGuard(depthGlobal, depthLocal, save) : { enter: [], leave: [] };
  const charge = (cost: bigint, check: boolean): number[] => {
    const sub = [0x20, ...gasLocal, 0x42, ...encodeSLEB(cost), 0x7d];
    // gas -= cost; with check: if (gas < 0) { sync; unreachable }
    return check ? [...sub, 0x22, ...gasLocal, 0x42, 0x00, 0x53, 0x04, 0x40, ...save, 0x00, 0x0b] : [...sub, 0x21, ...gasLocal];
  };

  // locals: the original declarations (indices shifted by the added parameter), then the i32 extras
  const out = new ByteWriter().u32(body.localGroups + extras.groups.length);
  const declStart = encodeU32(body.localGroups).length;
  out.bytes(body.bytes.subarray(declStart, body.codeStart));
  for (const [count, t] of extras.groups) out.u32(count).byte(t);
  const access = memoryAccess(gasLocal, extras, miss);
  // the hoisted accesses of each loop; their charge code is built when the `loop` is written, so
  // that a body over MAX_METERED_FUNCTION_BYTES is refused before all of it is built
  const loopHoists = new Map<number, Hoist[]>();
  // gas of the loop-entry charges, paid with the block that ends in their `loop` (GAS_HOISTED_ENTRY)
  const loopChargeGas = new Map<number, bigint>();
  for (const h of hoists.values())
    if (plan.get(h.access) === 'hoisted') {
      const list = loopHoists.get(h.loop);
      if (list === undefined) loopHoists.set(h.loop, [h]);
      else list.push(h);
      const own = GAS_HOISTED_ENTRY + BigInt(h.exprEnd - h.exprStart + 1) * GAS_HOISTED_PER_EXPRESSION_INSTRUCTION;
      loopChargeGas.set(h.loop, (loopChargeGas.get(h.loop) ?? 0n) + own);
    }
  out.bytes(enter).byte(0x02).bytes(blockTypeFor(type.results));

  const ins = body.instructions;
  let depth = 0; // open blocks inside the function body
  let i = 0;
  while (i < ins.length) {
    // one straight-line block: instructions up to and including the next block end
    let j = i;
    let cost = 0n;
    for (;;) {
      const x = ins[j] as Instruction;
      cost += instructionCost(x.op) + (loopChargeGas.get(j) ?? 0n);
      j++;
      if (BLOCK_ENDS.has(x.op) || j >= ins.length) break;
    }
    // Checkpoints only where execution can repeat (function entry, loop head): code between two
    // checkpoints is finite, so it may run the counter negative and the next checkpoint (or the
    // host at the end of the job) turns that into out_of_gas. The charge always precedes the block.
    // stop as soon as the body is too large for V8, before metering the rest (module-limits.ts)
    if (out.length > MAX_METERED_FUNCTION_BYTES)
      throw new ServiceCodeRejection(`function ${funcIndex} is over ${MAX_METERED_FUNCTION_BYTES} bytes after metering`);
    out.bytes(charge(cost, i === 0 || ins[i - 1]?.op === 0x03));
    for (let k = i; k < j; k++) {
      const x = ins[k] as Instruction;
      const raw = body.bytes.subarray(x.start, x.end);
      if (x.op === 0x02 || x.op === 0x03 || x.op === 0x04) depth++;
      if (x.op === 0x03)
        for (const h of loopHoists.get(k) ?? [])
          out.bytes(loopEntryCharge(h, body, np, gasLocal, extras.loopCharge, miss, h.store ? helpers.trackStore : helpers.trackLoad));
      else if (x.op === 0x0b) depth--;
      if (x.op === 0x20 || x.op === 0x21 || x.op === 0x22) {
        const r = new WasmBinaryReader(raw, 1);
        const local = r.u32();
        out.byte(x.op).u32(local >= np ? local + 1 : local);
      } else if (x.op === OP_MEMORY_GROW) out.bytes(save).byte(0x10).u32(helpers.grow).bytes(load);
      else if (x.op === OP_MEMORY_COPY) out.bytes(save).byte(0x10).u32(helpers.copy).bytes(load);
      else if (x.op === OP_MEMORY_FILL) out.bytes(save).byte(0x10).u32(helpers.fill).bytes(load);
      else if (x.op === 0x10 && (x.callee ?? 0) < m.importedFunctionCount)
        out.bytes(save).bytes(raw).bytes(load); // host call reads and charges the global
      else if (x.op === 0x10) out.byte(0x20).bytes(gasLocal).bytes(raw).byte(0x21).bytes(gasLocal);
      else if (x.op === 0x11)
        out
          .byte(0x21)
          .bytes(tmpLocal)
          .byte(0x20)
          .bytes(gasLocal)
          .byte(0x20)
          .bytes(tmpLocal)
          .byte(0x11)
          .u32(threadedType(x.typeIndex ?? 0))
          .byte(0x00)
          .byte(0x21)
          .bytes(gasLocal);
      else if (x.op === 0x0f)
        out.byte(0x0c).u32(depth); // return -> br to the wrapper block
      else if (x.op === 0x00) out.bytes(save).bytes(raw);
      else if (x.op >= 0x28 && x.op <= 0x3e) out.bytes(plan.get(k) === 'tracker' ? access(x.op, raw) : raw);
      else if (x.op === 0x0b && depth === -1)
        out.bytes(raw).bytes(leave).byte(0x20).bytes(gasLocal).bytes(raw); // wrapper end, epilogue, counter as last result, function end
      else out.bytes(raw);
    }
    i = j;
  }
  return out.toBytes();
}

/** Value type a store instruction stores (0x36..0x3e), for its temporary local. */
function storedType(op: number): number {
  if (op === 0x36 || op === 0x3a || op === 0x3b) return I32;
  if (op === 0x37 || op === 0x3c || op === 0x3d || op === 0x3e) return I64;
  return op === 0x38 ? 0x7d : 0x7c;
}

/**
 * Local indexes the metering adds to a function after its own (`first` is the first free index):
 * i32 `depth` (counted functions), i32 `tmp` (`call_indirect`), i32 `addr` and `page` (loads and
 * stores that `plan` tracks), and one temporary per value type stores store (`value`, by type).
 * `groups` declares them.
 */
function extraLocals(body: FunctionBody, first: number, counted: boolean, plan: AccessPlan) {
  const hoisted = [...plan.values()].includes('hoisted');
  const ops = new Set(body.instructions.map((x) => x.op));
  const accesses = [...plan.values()].includes('tracker');
  let next = first;
  const depth = counted ? next++ : -1;
  const tmp = ops.has(0x11) ? next++ : -1;
  const addr = accesses ? next++ : -1;
  const page = accesses ? next++ : -1;
  const i32Count = next - first;
  const groups: [number, number][] = i32Count > 0 ? [[i32Count, I32]] : [];
  const value = new Map<number, number>();
  for (let op = 0x36; op <= 0x3e; op++) {
    const t = storedType(op);
    if (!ops.has(op) || value.has(t)) continue;
    value.set(t, next++);
    groups.push([1, t]);
  }
  // i64 temporaries of the hoisted checks' loop-entry charge: trips, first address, step, increment
  const loopCharge = hoisted ? next : -1;
  if (hoisted) {
    next += 4;
    groups.push([4, I64]);
  }
  return { depth, tmp, addr, page, value, groups, loopCharge };
}

/**
 * How each load or store of a body is tracked (by instruction index; cost table v5, docs/gas.md
 * "Memory misses"): `constant` (an `i32.const` address, and the module's constant addresses lie in
 * at most MAX_CONSTANT_PAGES pages: not tracked), `same-page` (address `local.get L` or
 * `local.tee L`, for a store followed by a pure value expression (valueStart), within 4,096 bytes
 * of a checked access through the same unchanged L in the same metering block: not checked) or
 * `tracker` (every access compares its page with the two tracked pages of its kind).
 */
type AccessPlan = Map<number, 'constant' | 'same-page' | 'tracker' | 'hoisted'>;
/** Most distinct 4 KiB pages the module's constant-address accesses may touch to go untracked (count). */
const MAX_CONSTANT_PAGES = 8;
/** Pure instructions that push one value and pop none (a store's value operand after a constant address). */
const SINGLE_PUSH = new Set<number>([0x20, 0x23, 0x41, 0x42, 0x43, 0x44]);
/** Bytes a load or store (0x28..0x3e) accesses. */
const ACCESS_BYTES = [4, 8, 4, 8, 1, 1, 2, 2, 1, 1, 2, 2, 4, 4, 4, 8, 4, 8, 1, 2, 1, 2, 4];

/** The `i32.const` address of the load or store at `k`, if its address operand is one (else undefined). */
function constantAddress(ins: readonly Instruction[], k: number, bytes: Uint8Array): number | undefined {
  const x = ins[k] as Instruction;
  const at = x.op >= 0x36 ? (SINGLE_PUSH.has(ins[k - 1]?.op ?? -1) ? k - 2 : -1) : k - 1;
  const c = ins[at];
  if (c === undefined || c.op !== 0x41) return undefined;
  return Number(new WasmBinaryReader(bytes.subarray(c.start, c.end), 1).sleb(32)) >>> 0;
}

/** Memarg offset of the load or store `x` (bytes). */
function accessOffset(x: Instruction, bytes: Uint8Array): number {
  const r = new WasmBinaryReader(bytes.subarray(x.start, x.end), 1);
  r.u32();
  return r.u32();
}

/**
 * Whether the module's constant-address loads and stores all lie in at most MAX_CONSTANT_PAGES
 * distinct 4 KiB pages (then they need no tracking: a hot set that fits the caches and the TLB).
 */
function constantAccessesUntracked(m: ServiceModule): boolean {
  const pages = new Set<number>();
  for (const body of m.bodies)
    for (const [k, x] of body.instructions.entries()) {
      if (x.op < 0x28 || x.op > 0x3e) continue;
      const c = constantAddress(body.instructions, k, body.bytes);
      if (c === undefined) continue;
      const ea = c + accessOffset(x, body.bytes);
      pages.add(Math.floor(ea / 4096)).add(Math.floor((ea + (ACCESS_BYTES[x.op - 0x28] as number) - 1) / 4096));
      if (pages.size > MAX_CONSTANT_PAGES) return false;
    }
  return true;
}

/**
 * Values an instruction pops and pushes, for the pure instructions a store's value operand may be
 * built from (`local.get`, `global.get`, constants, loads, numeric operators); undefined for any
 * other (calls, control, `local.set`/`local.tee`, `select`, ...), which ends the search.
 */
function stackEffect(op: number): [pops: number, pushes: number] | undefined {
  if (op === 0x20 || op === 0x23 || (op >= 0x41 && op <= 0x44)) return [0, 1];
  if (op >= 0x28 && op <= 0x35) return [1, 1];
  const unary = op === 0x45 || op === 0x50 || (op >= 0x67 && op <= 0x69) || (op >= 0x79 && op <= 0x7b);
  if (unary || (op >= 0x8b && op <= 0x91) || (op >= 0x99 && op <= 0x9f) || (op >= 0xa7 && op <= 0xc4)) return [1, 1];
  if (op >= 0x46 && op <= 0xa6) return [2, 1];
  return undefined;
}

/**
 * Index of the first instruction of the pure expression ending at `last` that pushes one value (a
 * store's value operand), or -1 when it is not made only of stackEffect's instructions.
 */
function valueStart(ins: readonly Instruction[], last: number): number {
  let need = 1;
  for (let j = last; j >= 0; j--) {
    const e = stackEffect((ins[j] as Instruction).op);
    if (e === undefined) return -1;
    need += e[0] - e[1];
    if (need === 0) return j;
  }
  return -1;
}

/** The AccessPlan of one body (see there); `constantsUntracked` from constantAccessesUntracked. */
function planAccesses(body: FunctionBody, constantsUntracked: boolean, hoists: ReadonlyMap<number, Hoist>): AccessPlan {
  const plan: AccessPlan = new Map();
  const ins = body.instructions;
  const localOf = (x: Instruction): number => new WasmBinaryReader(body.bytes.subarray(x.start, x.end), 1).u32();
  // per base local, the window of bytes checked through it in the current metering block
  let checked = new Map<number, { lo: number; hi: number }>();
  for (const [k, x] of ins.entries()) {
    if (x.op === 0x21 || x.op === 0x22) checked.delete(localOf(x));
    if (x.op >= 0x28 && x.op <= 0x3e) {
      if (constantsUntracked && constantAddress(ins, k, body.bytes) !== undefined) plan.set(k, 'constant');
      else if (hoists.has(k)) plan.set(k, 'hoisted');
      else {
        const at = x.op >= 0x36 ? valueStart(ins, k - 1) - 1 : k - 1;
        const b = ins[at];
        const base = b?.op === 0x20 || b?.op === 0x22 ? localOf(b) : undefined;
        const lo = accessOffset(x, body.bytes);
        const hi = lo + (ACCESS_BYTES[x.op - 0x28] as number);
        const w = base === undefined ? undefined : checked.get(base);
        if (base !== undefined && w !== undefined && Math.max(w.hi, hi) - Math.min(w.lo, lo) <= 4096) {
          plan.set(k, 'same-page');
          checked.set(base, { lo: Math.min(w.lo, lo), hi: Math.max(w.hi, hi) });
        } else {
          plan.set(k, 'tracker');
          if (base !== undefined) checked.set(base, { lo, hi });
        }
      }
    }
    if (BLOCK_ENDS.has(x.op)) checked = new Map();
  }
  return plan;
}

/**
 * A load or store whose miss check is hoisted out of its loop (cost table v7, docs/gas.md "Hoisted
 * checks"): its address `E` (instructions `exprStart..exprEnd`) is an affine expression (mod 2^32)
 * of the loop's induction variable `iv` and of locals the loop never writes; the loop (`loop`
 * index `loop`) starts every iteration with `iv < bound` (`signed` or unsigned) and ends it with
 * `iv += 1`. The whole loop's pages are paid before the `loop` instruction.
 */
interface Hoist {
  loop: number;
  access: number;
  exprStart: number;
  exprEnd: number;
  iv: number;
  /** `local.get N` or `i32.const N`: the loop's bound. */
  bound: Instruction;
  /** `local.get S` or `i32.const S` (S >= 1): what the loop adds to IV per iteration. */
  step: Instruction;
  signed: boolean;
  /** Memarg offset of the access (bytes). */
  offset: number;
  store: boolean;
}

/** Index of each `block`/`loop`/`if`'s matching `end`, and whether an `if` has an `else`. */
function blockEnds(ins: readonly Instruction[]): { end: Map<number, number>; hasElse: Set<number> } {
  const end = new Map<number, number>();
  const hasElse = new Set<number>();
  const open: number[] = [];
  for (const [k, x] of ins.entries()) {
    if (x.op === 0x02 || x.op === 0x03 || x.op === 0x04) open.push(k);
    else if (x.op === 0x05) hasElse.add(open[open.length - 1] as number);
    else if (x.op === 0x0b) {
      const s = open.pop();
      if (s !== undefined) end.set(s, k);
    }
  }
  return { end, hasElse };
}

/**
 * Most instructions a hoisted access's address expression may have (count): the loop-entry charge
 * evaluates it three times, so this bounds the metered code and the operand stack it adds (the
 * frame's FRAME_OVERHEAD_SLOTS) whatever the module; longer expressions are checked per iteration.
 */
const MAX_HOISTED_EXPRESSION = 16;
/** Most hoisted accesses per loop (count); further ones are checked per iteration. */
const MAX_HOISTS_PER_LOOP = 8;
/** Comparison opcodes a counted loop may start with: i32.lt_s, i32.lt_u, i32.gt_s, i32.gt_u. */
const LOOP_COMPARISONS = new Set<number>([0x48, 0x49, 0x4a, 0x4b]);
/** Operators an address expression may use to stay affine in the induction variable: i32.add, i32.sub, i32.mul, i32.shl. */
const AFFINE_OPS = new Set<number>([0x6a, 0x6b, 0x6c, 0x74]);

/**
 * The hoisted accesses of one body (cost table v7, docs/gas.md "Hoisted checks"), by access index.
 * A loop qualifies when it is `loop (void) local.get IV; (local.get N | i32.const N); i32.lt_* ;
 * if (void) ... local.get IV; i32.const 1; i32.add; local.set IV; br 1 end end` (or `gt_*` with
 * the operands the other way round), IV is written nowhere else in the loop and N (a local) nowhere
 * in it. An access qualifies when it sits in that `if` before the increment, in no nested loop, and
 * its address is built only from `local.get` (IV or locals the loop does not write), `i32.const`,
 * `i32.add`, `i32.sub`, `i32.mul` (at most one operand depending on IV) and `i32.shl` (shift
 * amount not depending on IV). A loop that can change the memory size, i.e. contains `memory.grow`,
 * a `call` of a defined function (index >= `importedFunctionCount`; host calls never grow the
 * memory) or `call_indirect`, hoists nothing: its entry charge would price the pages at the tier
 * of the memory before the grow (far 4 at 1-4 pages instead of 512), the per-iteration checks
 * price each at the tier it runs on.
 */
function planHoists(body: FunctionBody, importedFunctionCount: number): Map<number, Hoist> {
  const ins = body.instructions;
  const out = new Map<number, Hoist>();
  const localOf = (x: Instruction): number => new WasmBinaryReader(body.bytes.subarray(x.start, x.end), 1).u32();
  const voidBlock = (x: Instruction): boolean => body.bytes[x.start + 1] === 0x40;
  const constOf = (x: Instruction): bigint => new WasmBinaryReader(body.bytes.subarray(x.start, x.end), 1).sleb(32);
  const { end, hasElse } = blockEnds(ins);
  // where each local is written (ascending): a loop's writes are found by binary search, so that
  // nested loops do not make planning quadratic
  const writes = new Map<number, number[]>();
  for (const [k, y] of ins.entries())
    if (y.op === 0x21 || y.op === 0x22) {
      const at = writes.get(localOf(y));
      if (at === undefined) writes.set(localOf(y), [k]);
      else at.push(k);
    }
  // how many instructions before each index can grow the memory: a loop's count in O(1)
  const growsBefore = new Uint32Array(ins.length + 1);
  for (const [k, y] of ins.entries()) {
    const grows = y.op === OP_MEMORY_GROW || y.op === 0x11 || (y.op === 0x10 && (y.callee ?? 0) >= importedFunctionCount);
    growsBefore[k + 1] = (growsBefore[k] as number) + (grows ? 1 : 0);
  }
  const firstAtOrAfter = (xs: number[], v: number): number => {
    let [lo, hi] = [0, xs.length];
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((xs[mid] as number) < v) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  for (const [l, x] of ins.entries()) {
    if (x.op !== 0x03 || !voidBlock(x)) continue;
    const e = end.get(l);
    const [c0, c1, c2, f] = [ins[l + 1], ins[l + 2], ins[l + 3], ins[l + 4]];
    if (e === undefined || c0 === undefined || c1 === undefined || c2 === undefined || f === undefined) continue;
    if ((growsBefore[e] as number) > (growsBefore[l] as number)) continue;
    if (!LOOP_COMPARISONS.has(c2.op) || f.op !== 0x04 || !voidBlock(f) || end.get(l + 4) !== e - 1 || hasElse.has(l + 4)) continue;
    const lt = c2.op === 0x48 || c2.op === 0x49;
    const [ivIns, bound] = lt ? [c0, c1] : [c1, c0];
    if (ivIns.op !== 0x20 || (bound.op !== 0x20 && bound.op !== 0x41)) continue;
    const iv = localOf(ivIns);
    // the increment and the branch back: local.get IV; i32.const 1; i32.add; local.set IV; br 1
    const [g, step, add, set, br] = [ins[e - 6], ins[e - 5], ins[e - 4], ins[e - 3], ins[e - 2]];
    if (g?.op !== 0x20 || localOf(g) !== iv || add?.op !== 0x6a || set?.op !== 0x21 || localOf(set) !== iv) continue;
    if (step?.op !== 0x20 && !(step?.op === 0x41 && constOf(step) >= 1n)) continue;
    if (br?.op !== 0x0c || body.bytes[br.start + 1] !== 0x01) continue;
    const written = (local: number): number => {
      const at = writes.get(local) ?? [];
      return firstAtOrAfter(at, e) - firstAtOrAfter(at, l);
    };
    if (written(iv) !== 1 || (bound.op === 0x20 && written(localOf(bound)) > 0)) continue;
    if (step.op === 0x20 && (localOf(step) === iv || written(localOf(step)) > 0)) continue;
    let hoisted = 0;
    for (let k = l + 5; k < e - 6 && hoisted < MAX_HOISTS_PER_LOOP; k++) {
      const y = ins[k] as Instruction;
      if (y.op === 0x03) {
        k = end.get(k) ?? e; // accesses of a nested loop belong to that loop
        continue;
      }
      if (y.op < 0x28 || y.op > 0x3e) continue;
      const store = y.op >= 0x36;
      const exprEnd = store ? valueStart(ins, k - 1) - 1 : k - 1;
      const exprStart = affineStart(ins, exprEnd, iv, written, localOf);
      if (exprStart < l + 5) continue;
      hoisted++;
      out.set(k, {
        loop: l,
        access: k,
        exprStart,
        exprEnd,
        iv,
        bound,
        step,
        signed: c2.op === 0x48 || c2.op === 0x4a,
        offset: accessOffset(y, body.bytes),
        store,
      });
    }
  }
  return out;
}

/**
 * Start of the address expression ending at `last` when it is affine in local `iv` and at most
 * MAX_HOISTED_EXPRESSION instructions long (see planHoists), else -1. `written`: how often the loop
 * writes a local.
 */
function affineStart(ins: readonly Instruction[], last: number, iv: number, written: (local: number) => number, localOf: (x: Instruction) => number): number {
  let need = 1;
  let start = -1;
  for (let j = last; j >= 0 && j > last - MAX_HOISTED_EXPRESSION; j--) {
    const op = (ins[j] as Instruction).op;
    if (op === 0x20 || op === 0x41) need -= 1;
    else if (AFFINE_OPS.has(op)) need += 1;
    else return -1;
    if (need === 0) {
      start = j;
      break;
    }
  }
  if (start < 0) return -1;
  // forward: which values depend on iv; a product of two such values or a shift by one is not affine
  const dep: boolean[] = [];
  for (let j = start; j <= last; j++) {
    const x = ins[j] as Instruction;
    if (x.op === 0x41) dep.push(false);
    else if (x.op === 0x20) {
      const local = localOf(x);
      if (local !== iv && written(local) > 0) return -1;
      dep.push(local === iv);
    } else {
      const b = dep.pop() as boolean;
      const a = dep.pop() as boolean;
      if ((x.op === 0x6c && a && b) || (x.op === 0x74 && b)) return -1;
      dep.push(a || b);
    }
  }
  return start;
}

/**
 * Code run before the `loop` instruction of a hoisted access (cost table v7, docs/gas.md "Hoisted
 * checks"), all in i64: trips = N - IV (by the loop's signedness); if trips > 0: first = E + offset;
 * when the loop's increment S is at least 1 and IV + S cannot wrap (S <= 2^32 - N unsigned, 2^31 - N
 * signed), trips = ceil(trips / S) and step = E[IV + S] - E (signed i32), else trips = the number of
 * values below N (N unsigned, N + 2^31 signed) and step = 8192 (every one a far page). Then the
 * track helper pays for first's page as the access itself would, and gas -= near * min(trips - 1,
 * |page(first + (trips - 1) * step) - page(first)|) when |step| <= 4096, else far * (trips - 1).
 * `locals`: the four i64 temporaries (trips, first, step, S).
 */
function loopEntryCharge(h: Hoist, body: FunctionBody, np: number, gasLocal: number[], locals: number, miss: MissGlobals, track: number): number[] {
  const remap = (local: number): number[] => encodeU32(local >= np ? local + 1 : local);
  const localOf = (x: Instruction): number => new WasmBinaryReader(body.bytes.subarray(x.start, x.end), 1).u32();
  const raw = (x: Instruction): number[] => [...body.bytes.subarray(x.start, x.end)];
  const operand = (x: Instruction): number[] => (x.op === 0x20 ? [0x20, ...remap(localOf(x))] : raw(x));
  const expr = (stepped: boolean): number[] => {
    const out: number[] = [];
    for (let k = h.exprStart; k <= h.exprEnd; k++) {
      const x = body.instructions[k] as Instruction;
      if (x.op !== 0x20) out.push(...raw(x));
      else if (localOf(x) === h.iv && stepped) out.push(0x20, ...remap(h.iv), ...operand(h.step), 0x6a);
      else out.push(0x20, ...remap(localOf(x)));
    }
    return out;
  };
  const ext = h.signed ? 0xac : 0xad;
  const bound = [...operand(h.bound), ext];
  const limit = h.signed ? 1n << 31n : 1n << 32n;
  const [trips, first, step, inc] = [0, 1, 2, 3].map((k) => encodeU32(locals + k)) as [number[], number[], number[], number[]];
  const get = (l: number[]) => [0x20, ...l];
  const page = (value: number[]) => [...value, 0x42, MISS_PAGE_SHIFT, 0x87];
  return [
    ...[...bound, 0x20, ...remap(h.iv), ext, 0x7d, 0x22, ...trips, 0x42, 0x00, 0x55, 0x04, 0x40],
    ...[...expr(false), 0xad, ...(h.offset === 0 ? [] : [0x42, ...encodeSLEB(BigInt(h.offset)), 0x7c]), 0x21, ...first],
    ...[...operand(h.step), ext, 0x21, ...inc],
    // 1 <= S <= limit - N: the loop visits ceil(trips / S) values of IV, in order, without wrapping
    ...[...get(inc), 0x42, 0x01, 0x59, ...get(inc), 0x42, ...encodeSLEB(limit), ...bound, 0x7d, 0x57, 0x71, 0x04, 0x40],
    ...[...get(trips), ...get(inc), 0x7c, 0x42, 0x01, 0x7d, ...get(inc), 0x80, 0x21, ...trips],
    ...[...expr(true), ...expr(false), 0x6b, 0xac, 0x21, ...step],
    ...[0x05, ...bound, ...(h.signed ? [0x42, ...encodeSLEB(1n << 31n), 0x7c] : []), 0x21, ...trips, 0x42, ...encodeSLEB(8192n), 0x21, ...step, 0x0b],
    ...[0x20, ...gasLocal, ...get(first), 0xa7, 0x10, ...encodeU32(track), 0x21, ...gasLocal],
    ...[...get(trips), 0x42, 0x01, 0x7d, 0x21, ...trips, 0x20, ...gasLocal],
    // |step| <= 4096 <=> step * step <= 2^24 (|step| < 2^31: no overflow)
    ...[...get(step), ...get(step), 0x7e, 0x42, ...encodeSLEB(4096n * 4096n), 0x58, 0x04, I64],
    ...[0x23, ...encodeU32(miss.near)],
    ...page([...get(first), ...get(trips), ...get(step), 0x7e, 0x7c]),
    ...[...page(get(first)), 0x7d, 0x21, ...step],
    // |span|, then min(|span|, trips - 1)
    ...[0x42, 0x00, ...get(step), 0x7d, ...get(step), ...get(step), 0x42, 0x00, 0x53, 0x1b, 0x22, ...step],
    ...[...get(trips), ...get(step), ...get(trips), 0x54, 0x1b, 0x7e],
    ...[0x05, 0x23, ...encodeU32(miss.far), ...get(trips), 0x7e, 0x0b],
    ...[0x7d, 0x21, ...gasLocal, 0x0b],
  ];
}

/**
 * Rewrites one load or store (`raw`: opcode and memarg) to track its 4 KiB page (cost table v5,
 * docs/gas.md "Memory misses"): when the page of its effective address is neither tracked page of
 * its kind (loads or stores), it pays the near or far surcharge and updates the trackers, exactly
 * as the track helper (trackBody) does, inline.
 */
function memoryAccess(
  gasLocal: number[],
  extras: { addr: number; page: number; value: Map<number, number> },
  miss: MissGlobals,
): (op: number, raw: Uint8Array) => number[] {
  const a = encodeU32(extras.addr);
  const p = encodeU32(extras.page);
  return (op, raw) => {
    const r = new WasmBinaryReader(raw, 1);
    r.u32();
    const offset = r.u32();
    const isStore = op >= 0x36;
    const plusOffset = offset === 0 ? [] : [0x41, ...encodeSLEB(BigInt(offset | 0)), 0x6a];
    const t0 = encodeU32(isStore ? miss.store0 : miss.load0);
    const t1 = encodeU32(isStore ? miss.store1 : miss.load1);
    const v = isStore ? encodeU32(extras.value.get(storedType(op)) as number) : [];
    // p = (a + offset) >> 12; block { br_if (p == t0); br_if (p == t1); the track helper's work,
    // inline (a call here made metered loops slower) }: a hit costs one compare and branch per tracker
    return [
      ...(isStore ? [0x21, ...v] : []),
      ...[0x22, ...a, ...plusOffset, 0x41, MISS_PAGE_SHIFT, 0x76, 0x21, ...p],
      ...[0x02, 0x40, 0x20, ...p, 0x23, ...t0, 0x46, 0x0d, 0x00, 0x20, ...p, 0x23, ...t1, 0x46, 0x0d, 0x00],
      ...[...inlineMiss(gasLocal, p, t0, t1, miss), 0x0b],
      ...[0x20, ...a, ...(isStore ? [0x20, ...v] : []), ...raw],
    ];
  };
}

/** The track helper's work inline (page in local `p`; same charges and updates as trackBody). */
function inlineMiss(gasLocal: number[], p: number[], t0: number[], t1: number[], miss: MissGlobals): number[] {
  const adjacent = (t: number[]) => [0x20, ...p, 0x23, ...t, 0x6b, 0x41, 0x01, 0x6a, 0x41, 0x02, 0x4d];
  const pay = (g: number) => [0x20, ...gasLocal, 0x23, ...encodeU32(g), 0x7d, 0x21, ...gasLocal];
  return [
    ...[...adjacent(t0), 0x04, 0x40, 0x20, ...p, 0x24, ...t0, ...pay(miss.near), 0x05],
    ...[...adjacent(t1), 0x04, 0x40, 0x20, ...p, 0x24, ...t1, ...pay(miss.near), 0x05],
    ...[0x23, ...t0, 0x24, ...t1, 0x20, ...p, 0x24, ...t0, ...pay(miss.far), 0x0b, 0x0b],
  ];
}

/**
 * The prologue and epilogue of a counted function (planCallDepth): `enter` copies the depth global
 * into `depthLocal`, traps (after syncing the gas counter with `save`) when MAX_CALL_DEPTH frames
 * are already active, and stores depth + 1; `leave` restores the depth global.
 */
function depthGuard(depthGlobal: number, depthLocal: number[], save: number[]): { enter: number[]; leave: number[] } {
  const d = encodeU32(depthGlobal);
  // depth = global; if (depth >= MAX) { sync gas; unreachable }; global = depth + 1   ...   exit: global = depth
  const enter = [
    0x23,
    ...d,
    0x22,
    ...depthLocal,
    0x41,
    ...encodeSLEB(BigInt(MAX_CALL_DEPTH)),
    0x4f,
    0x04,
    0x40,
    ...save,
    0x00,
    0x0b,
    0x20,
    ...depthLocal,
    0x41,
    0x01,
    0x6a,
    0x24,
    ...d,
  ];
  const leave = [0x20, ...depthLocal, 0x24, ...d];
  return { enter, leave };
}

/**
 * Expression (i64) of a surcharge of the current memory size: `near` or `far` of the highest
 * MISS_SURCHARGE_TIERS tier whose `abovePages` memory.size exceeds, else 0 (nested `select`s).
 */
function tierExpression(which: 'near' | 'far'): number[] {
  let expr = [0x42, 0x00];
  for (const t of MISS_SURCHARGE_TIERS) expr = [0x42, ...encodeSLEB(t[which]), ...expr, 0x3f, 0x00, 0x41, ...encodeSLEB(BigInt(t.abovePages)), 0x4b, 0x1b];
  return expr;
}

/**
 * Body of a track helper `(gas: i64, ea: i32) -> i64` (cost table v5, docs/gas.md "Memory
 * misses"): page = ea >> MISS_PAGE_SHIFT. Either tracked page costs nothing. A page adjacent to a
 * tracked one ((page - tracked + 1) unsigned <= 2; the first tracker first) costs the `near`
 * surcharge and replaces that tracker (a sequential stream keeps its slot); any other page costs
 * `far`, the first tracker moves to the second and the page takes the first. Returns the gas left.
 */
function trackBody(first: number, second: number, miss: MissGlobals): number[] {
  const t0 = encodeU32(first);
  const t1 = encodeU32(second);
  const near = encodeU32(miss.near);
  const adjacent = (t: number[]) => [0x20, 0x02, 0x23, ...t, 0x6b, 0x41, 0x01, 0x6a, 0x41, 0x02, 0x4d];
  return [
    ...[0x01, 0x01, I32],
    ...[0x20, 0x01, 0x41, MISS_PAGE_SHIFT, 0x76, 0x22, 0x02, 0x23, ...t0, 0x46, 0x20, 0x02, 0x23, ...t1, 0x46, 0x72],
    ...[0x04, 0x40, 0x20, 0x00, 0x0f, 0x0b],
    ...[...adjacent(t0), 0x04, 0x40, 0x20, 0x02, 0x24, ...t0, 0x20, 0x00, 0x23, ...near, 0x7d, 0x0f, 0x0b],
    ...[...adjacent(t1), 0x04, 0x40, 0x20, 0x02, 0x24, ...t1, 0x20, 0x00, 0x23, ...near, 0x7d, 0x0f, 0x0b],
    ...[0x23, ...t0, 0x24, ...t1, 0x20, 0x02, 0x24, ...t0, 0x20, 0x00, 0x23, ...encodeU32(miss.far), 0x7d, 0x0b],
  ];
}

/** Bodies of the helpers, in order: grow, copy, fill, gas get, gas set, track load, track store. */
function helperBodies(gasGlobal: number, miss: MissGlobals, helpers: { trackLoad: number; trackStore: number }): Uint8Array[] {
  const g = encodeU32(gasGlobal);
  const tl = encodeU32(helpers.trackLoad);
  const ts = encodeU32(helpers.trackStore);
  const chargeTail = [0x7d, 0x24, ...g, 0x23, ...g, 0x42, 0x00, 0x53, 0x04, 0x40, 0x00, 0x0b];
  // gas -= delta * GAS_PER_PAGE; gas -= memory.size * GAS_GROW_PER_MEMORY_PAGE; check; memory.grow(delta)
  const grow = [
    0x00,
    0x23,
    ...g,
    0x20,
    0x00,
    0xad,
    0x42,
    ...encodeSLEB(GAS_PER_PAGE),
    0x7e,
    0x7d,
    0x3f,
    0x00,
    0xad,
    0x42,
    ...encodeSLEB(GAS_GROW_PER_MEMORY_PAGE),
    0x7e,
    ...chargeTail,
    0x20,
    0x00,
    0x40,
    0x00,
    // the memory size changed (or not): set the miss surcharges of its tier
    0x21,
    0x00,
    ...tierExpression('near'),
    0x24,
    ...encodeU32(miss.near),
    ...tierExpression('far'),
    0x24,
    ...encodeU32(miss.far),
    0x20,
    0x00,
    0x0b,
  ];
  // copy tracks the source's first page as a load and the destination's as a store, fill the destination
  const bulk = (tail: number[], tracked: number[]) => [
    0x00,
    0x23,
    ...g,
    ...tracked,
    0x24,
    ...g,
    0x23,
    ...g,
    0x20,
    0x02,
    0xad,
    0x42,
    ...encodeSLEB(BigInt(BULK_BYTES_PER_GAS)),
    0x80,
    ...chargeTail,
    0x20,
    0x00,
    0x20,
    0x01,
    0x20,
    0x02,
    ...tail,
    0x0b,
  ];
  const gasGet = [0x00, 0x23, ...g, 0x0b];
  const gasSet = [0x00, 0x20, 0x00, 0x24, ...g, 0x0b];
  const copyTracked = [0x20, 0x01, 0x10, ...tl, 0x20, 0x00, 0x10, ...ts];
  const fillTracked = [0x20, 0x00, 0x10, ...ts];
  return [
    grow,
    bulk([0xfc, 0x0a, 0x00, 0x00], copyTracked),
    bulk([0xfc, 0x0b, 0x00], fillTracked),
    gasGet,
    gasSet,
    trackBody(miss.load0, miss.load1, miss),
    trackBody(miss.store0, miss.store1, miss),
  ].map((b) => new Uint8Array(b));
}
