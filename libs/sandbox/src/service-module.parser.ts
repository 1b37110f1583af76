import { ENTRY_POINT_SIGNATURES, HOST_MODULE, I32, I64, MAX_SERVICE_CODE_BYTES } from './host-abi';
import { MAX_DATA_BYTES, MAX_DATA_SEGMENTS, MAX_FRAME_SLOTS, MAX_FUNCTION_LOCALS, MAX_GLOBALS, MAX_TYPES } from './cost-table';
import { HOST_CALLS, isHostCallName } from './host-calls/host-call.registry';
import { WasmBinaryReader, WasmFormatError } from './wasm-binary.reader';
import { MAX_CONTROL_DEPTH, MAX_DEFINED_FUNCTIONS, MAX_LOOP_DEPTH, MAX_MODULE_INSTRUCTIONS, MAX_FUNCTION_LOOPS, MAX_MODULE_LOOPS } from './module-limits';

/** Which WorkExecResult a rejection maps to when found at run time. */
export type RejectionCategory = 'code' | 'exports' | 'size';

/**
 * Largest initial table (funcref elements) a service may declare; a table only holds the module's own functions.
 * Not exported on purpose: `parseValid` has a local named `exports`, which would shadow the CommonJS binding.
 */
const MAX_TABLE_ELEMENTS = 65_536;

/** A service module that breaks a rule of docs/service-abi.md; `reason` is the exact, stable text. */
export class ServiceCodeRejection extends Error {
  constructor(
    readonly reason: string,
    readonly category: RejectionCategory = 'code',
  ) {
    super(reason);
    this.name = 'ServiceCodeRejection';
  }
}

export interface FuncType {
  params: number[];
  results: number[];
}

/** One decoded instruction of a function body: opcode (0xFC-prefixed ops are 0xFC00 | sub) and its byte range. */
export interface Instruction {
  op: number;
  start: number;
  end: number;
  /** Function index for `call`. */
  callee?: number;
  /** Branch targets (relative label depths) of `br`, `br_if`, `br_table`. */
  labels?: number[];
  /** Type index of `call_indirect`. */
  typeIndex?: number;
  /** Block type of `block`, `loop`, `if`: -64 empty, -1 i32, -2 i64, or a type index >= 0. */
  blockType?: number;
}

export interface FunctionBody {
  /** Body bytes (locals declaration + expression), without the size prefix. */
  bytes: Uint8Array;
  /** Offset in `bytes` where the expression starts (after the locals declaration). */
  codeStart: number;
  /** Number of local declaration groups and of declared locals (excluding params). */
  localGroups: number;
  localCount: number;
  /** Largest operand-stack height the body can reach (values), from `operandStackHeight`. */
  maxStackHeight: number;
  instructions: Instruction[];
}

/** The parts of a validated service module the instrumenter needs. */
export interface ServiceModule {
  types: FuncType[];
  importedFunctionCount: number;
  functionTypes: number[];
  globalCount: number;
  memory: { min: number; max: number | undefined };
  /** Non-custom sections in order, payload bytes only. */
  sections: { id: number; payload: Uint8Array }[];
  bodies: FunctionBody[];
  /** Type index of each imported function. */
  importTypes: number[];
  /** Function indices placed in the table by element segments: the only possible `call_indirect` targets. */
  tableFunctions: number[];
  /** Minimum size of the funcref table (elements; 0 without a table). */
  tableMin: number;
  /** Active data segments (count) and their bytes together (bytes), copied into memory at every instantiation. */
  dataSegments: number;
  dataBytes: number;
}

const SECTION = {
  custom: 0,
  type: 1,
  import: 2,
  function: 3,
  table: 4,
  memory: 5,
  global: 6,
  export: 7,
  start: 8,
  element: 9,
  code: 10,
  data: 11,
  dataCount: 12,
} as const;

/** Opcodes with no immediates that the engine meters (integer MVP + sign-extension). */
const PLAIN_OPS = new Set<number>([
  0x00,
  0x01,
  0x05,
  0x0b,
  0x0f,
  0x1a,
  0x1b,
  ...range(0x45, 0x5a),
  ...range(0x67, 0x8a),
  0xa7,
  0xac,
  0xad,
  ...range(0xc0, 0xc4),
]);
/** Float opcodes: rejected because NaN bit patterns are not deterministic across engines (docs/service-abi.md). */
const FLOAT_OPS = new Set<number>([0x2a, 0x2b, 0x38, 0x39, 0x43, 0x44, ...range(0x5b, 0x66), ...range(0x8b, 0xa6), ...range(0xa8, 0xab), ...range(0xae, 0xbf)]);
const LOAD_STORE_OPS = new Set<number>([0x28, 0x29, ...range(0x2c, 0x37), ...range(0x3a, 0x3e)]);

function range(a: number, b: number): number[] {
  const out: number[] = [];
  for (let i = a; i <= b; i++) out.push(i);
  return out;
}

function hex(n: number): string {
  return '0x' + n.toString(16).padStart(2, '0');
}

function valueType(b: number, where: string): number {
  if (b === I32 || b === I64) return b;
  if (b === 0x7d || b === 0x7c) throw new ServiceCodeRejection(`float value type in ${where}`);
  throw new ServiceCodeRejection(`unsupported value type ${hex(b)} in ${where}`);
}

function sameSig(a: FuncType, b: { readonly params: readonly number[]; readonly results: readonly number[] }): boolean {
  return (
    a.params.length === b.params.length &&
    a.results.length === b.results.length &&
    a.params.every((p, i) => p === b.params[i]) &&
    a.results.every((r, i) => r === b.results[i])
  );
}

/** Reads a constant expression (`i32.const n end` or `i64.const n end`) of the given type; returns n. */
function constExpr(r: WasmBinaryReader, type: number, where: string): bigint {
  const op = r.u8();
  let value: bigint;
  if (op === 0x41 && type === I32) value = r.sleb(32);
  else if (op === 0x42 && type === I64) value = r.sleb(64);
  else throw new ServiceCodeRejection(`unsupported constant expression in ${where}`);
  if (r.u8() !== 0x0b) throw new ServiceCodeRejection(`unsupported constant expression in ${where}`);
  return value;
}

/**
 * Parses and checks a service module against docs/service-abi.md.
 * @param code the module bytes
 * @returns the parsed module
 * @throws ServiceCodeRejection with the exact reason for any rule broken
 */
export function parseServiceModule(code: Uint8Array): ServiceModule {
  if (code.length > MAX_SERVICE_CODE_BYTES)
    throw new ServiceCodeRejection(`code is ${code.length} bytes, over the ${MAX_SERVICE_CODE_BYTES}-byte limit (GP W_C)`, 'size');
  const types = declaredTypeCount(code);
  if (types > MAX_TYPES) throw new ServiceCodeRejection(`${types} types exceed the cap of ${MAX_TYPES} types`);
  // No catch: `validate` throws only when the engine itself fails (out of memory), which is the
  // machine's state, not a verdict on the code, so it must not become `bad_code`.
  const engineValid = WebAssembly.validate(code);
  if (!engineValid) throw new ServiceCodeRejection('malformed module: not a valid WebAssembly binary');
  try {
    return parseValid(code);
  } catch (e) {
    if (e instanceof WasmFormatError) throw new ServiceCodeRejection(`malformed module: ${e.message}`);
    throw e;
  }
}

/**
 * Number of function types the type section declares (0 without one), read by walking the section
 * headers only, so it can be checked before V8 validates the module (MAX_TYPES). Malformed bytes
 * give 0 here and are rejected by the validation that follows.
 */
function declaredTypeCount(code: Uint8Array): number {
  try {
    const r = new WasmBinaryReader(code, 8);
    while (!r.atEnd) {
      const id = r.u8();
      const size = r.u32();
      if (id === SECTION.type) return new WasmBinaryReader(code, r.pos, Math.min(r.pos + size, code.length)).u32();
      r.pos += size;
    }
  } catch (e) {
    if (!(e instanceof WasmFormatError)) throw e;
  }
  return 0;
}

/** What parsing keeps beside the ServiceModule: exports by name, and how many memories and tables were declared. */
interface ParseState {
  exports: Map<string, { kind: number; index: number }>;
  memoryCount: number;
  tableCount: number;
}

function parseValid(code: Uint8Array): ServiceModule {
  const r = new WasmBinaryReader(code);
  const header = r.bytesN(8);
  const expected = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  if (!expected.every((b, i) => header[i] === b)) throw new ServiceCodeRejection('malformed module: bad magic or version');

  const m: ServiceModule = {
    types: [],
    importedFunctionCount: 0,
    functionTypes: [],
    globalCount: 0,
    memory: { min: 0, max: undefined },
    sections: [],
    bodies: [],
    tableFunctions: [],
    importTypes: [],
    tableMin: 0,
    dataSegments: 0,
    dataBytes: 0,
  };
  const st: ParseState = { exports: new Map(), memoryCount: 0, tableCount: 0 };
  while (!r.atEnd) {
    const id = r.u8();
    const size = r.u32();
    const payload = r.bytesN(size);
    if (id === SECTION.custom) continue;
    m.sections.push({ id, payload });
    parseSection(id, new WasmBinaryReader(payload), m, st);
  }
  checkMemoryAndEntryPoints(m, st);
  return m;
}

/** Parses one known section into `m` (and `st`). @throws ServiceCodeRejection for a rule of docs/service-abi.md broken, or an unsupported section */
function parseSection(id: number, s: WasmBinaryReader, m: ServiceModule, st: ParseState): void {
  switch (id) {
    case SECTION.type:
      return parseTypeSection(s, m);
    case SECTION.import:
      return parseImportSection(s, m);
    case SECTION.function: {
      for (let n = s.u32(); n > 0; n--) m.functionTypes.push(s.u32());
      return;
    }
    case SECTION.table:
      return parseTableSection(s, m, st);
    case SECTION.memory:
      return parseMemorySection(s, m, st);
    case SECTION.global:
      return parseGlobalSection(s, m);
    case SECTION.export:
      return parseExportSection(s, st);
    case SECTION.start:
      throw new ServiceCodeRejection('start function not allowed');
    case SECTION.element:
      return parseElementSection(s, m);
    case SECTION.data:
      return parseDataSection(s, m);
    case SECTION.dataCount:
      s.u32();
      return;
    case SECTION.code:
      return parseCodeSection(s, m);
    default:
      throw new ServiceCodeRejection(`unsupported section ${id}`);
  }
}

/** Function types: `0x60` forms of allowed value types only. */
function parseTypeSection(s: WasmBinaryReader, m: ServiceModule): void {
  const n = s.u32();
  for (let i = 0; i < n; i++) {
    const form = s.u8();
    if (form !== 0x60) throw new ServiceCodeRejection(`unsupported type form ${hex(form)}`);
    const params: number[] = [];
    const results: number[] = [];
    for (let k = s.u32(); k > 0; k--) params.push(valueType(s.u8(), `type ${i}`));
    for (let k = s.u32(); k > 0; k--) results.push(valueType(s.u8(), `type ${i}`));
    m.types.push({ params, results });
  }
}

/** Imports: functions of the host module only, each a known host call with its exact signature. */
function parseImportSection(s: WasmBinaryReader, m: ServiceModule): void {
  const n = s.u32();
  for (let i = 0; i < n; i++) {
    const mod = s.name();
    const name = s.name();
    const kind = s.u8();
    if (mod !== HOST_MODULE) throw new ServiceCodeRejection(`import outside "${HOST_MODULE}": ${mod}.${name}`);
    if (kind !== 0x00) throw new ServiceCodeRejection(`import of a non-function: ${mod}.${name}`);
    const typeIndex = s.u32();
    if (!isHostCallName(name)) throw new ServiceCodeRejection(`unknown host function: ${mod}.${name}`);
    const sig = HOST_CALLS[name];
    const t = m.types[typeIndex];
    if (t === undefined || !sameSig(t, sig)) throw new ServiceCodeRejection(`wrong signature for host function ${mod}.${name}`);
    m.importTypes.push(typeIndex);
  }
  m.importedFunctionCount = m.importTypes.length;
}

/** At most one funcref table, its minimum capped at MAX_TABLE_ELEMENTS. */
function parseTableSection(s: WasmBinaryReader, m: ServiceModule, st: ParseState): void {
  for (let n = s.u32(); n > 0; n--) {
    st.tableCount++;
    const ref = s.u8();
    if (ref !== 0x70) throw new ServiceCodeRejection('unsupported table type: only funcref');
    const flags = s.u8();
    if (flags > 1) throw new ServiceCodeRejection('unsupported table limits');
    m.tableMin = s.u32();
    // Instantiation allocates the whole table without gas (8 bytes per element) on every job; up to V8's own
    // limit (10^7) that can abort the executor, above it instantiation throws: both are engine faults retried forever.
    if (m.tableMin > MAX_TABLE_ELEMENTS)
      throw new ServiceCodeRejection(`table minimum of ${m.tableMin} elements exceeds the cap of ${MAX_TABLE_ELEMENTS} elements`);
    if (flags === 1) s.u32();
  }
  if (st.tableCount > 1) throw new ServiceCodeRejection('multiple tables');
}

/** Exactly one memory (counted across sections), neither shared nor 64-bit. */
function parseMemorySection(s: WasmBinaryReader, m: ServiceModule, st: ParseState): void {
  const n = s.u32();
  st.memoryCount += n;
  if (st.memoryCount > 1) throw new ServiceCodeRejection('multiple memories');
  if (n === 1) {
    const flags = s.u8();
    if (flags === 2 || flags === 3) throw new ServiceCodeRejection('shared memory');
    if (flags >= 4) throw new ServiceCodeRejection('64-bit or unsupported memory');
    m.memory.min = s.u32();
    m.memory.max = flags === 1 ? s.u32() : undefined;
  }
}

/** Globals of allowed value types with constant initializers, at most MAX_GLOBALS. */
function parseGlobalSection(s: WasmBinaryReader, m: ServiceModule): void {
  for (let n = s.u32(); n > 0; n--) {
    const t = valueType(s.u8(), `global ${m.globalCount}`);
    const mut = s.u8();
    if (mut > 1) throw new ServiceCodeRejection('malformed module: bad global mutability');
    constExpr(s, t, `global ${m.globalCount}`);
    m.globalCount++;
  }
  // instantiation time grows faster than linearly with the globals (cost table v4, docs/gas.md "Instantiation")
  if (m.globalCount > MAX_GLOBALS) throw new ServiceCodeRejection(`${m.globalCount} globals exceed the cap of ${MAX_GLOBALS} globals`);
}

/** Exports by name; names starting `__jam` are reserved for the metering. */
function parseExportSection(s: WasmBinaryReader, st: ParseState): void {
  for (let n = s.u32(); n > 0; n--) {
    const name = s.name();
    const kind = s.u8();
    const index = s.u32();
    if (name.startsWith('__jam')) throw new ServiceCodeRejection(`reserved export name: ${name}`);
    st.exports.set(name, { kind, index });
  }
}

/** Active element segments (kind 0) inside the table's minimum. */
function parseElementSection(s: WasmBinaryReader, m: ServiceModule): void {
  for (let n = s.u32(); n > 0; n--) {
    const flags = s.u32();
    if (flags !== 0) throw new ServiceCodeRejection(`unsupported element segment kind ${flags}`);
    const offset = Number(BigInt.asUintN(32, constExpr(s, I32, 'element segment')));
    const count = s.u32();
    for (let k = count; k > 0; k--) m.tableFunctions.push(s.u32());
    // out-of-bounds segments would trap at instantiation, i.e. on every job: reject them here
    if (offset + count > m.tableMin) throw new ServiceCodeRejection(`element segment out of bounds of the table (${offset} + ${count} > ${m.tableMin})`);
  }
}

/** Active data segments (kind 0) inside the initial memory, at most MAX_DATA_SEGMENTS and MAX_DATA_BYTES. */
function parseDataSection(s: WasmBinaryReader, m: ServiceModule): void {
  for (let n = s.u32(); n > 0; n--) {
    const flags = s.u32();
    if (flags !== 0) throw new ServiceCodeRejection(`unsupported data segment kind ${flags}`);
    const offset = Number(BigInt.asUintN(32, constExpr(s, I32, 'data segment')));
    const len = s.u32();
    s.bytesN(len);
    const initial = m.memory.min * 65536;
    if (offset + len > initial) throw new ServiceCodeRejection(`data segment out of bounds of the initial memory (${offset} + ${len} > ${initial} bytes)`);
    m.dataSegments++;
    m.dataBytes += len;
  }
  // copied into memory at every instantiation (cost table v4, docs/gas.md "Instantiation")
  if (m.dataSegments > MAX_DATA_SEGMENTS) throw new ServiceCodeRejection(`${m.dataSegments} data segments exceed the cap of ${MAX_DATA_SEGMENTS} segments`);
  if (m.dataBytes > MAX_DATA_BYTES) throw new ServiceCodeRejection(`data segments of ${m.dataBytes} bytes exceed the cap of ${MAX_DATA_BYTES} bytes`);
}

/** Function bodies (at most MAX_DEFINED_FUNCTIONS), parsed and checked by `parseBody` under one instruction and loop budget. */
function parseCodeSection(s: WasmBinaryReader, m: ServiceModule): void {
  const importTypes = m.importTypes;
  const typeOfFunction = (index: number): FuncType | undefined => {
    const t = index < importTypes.length ? importTypes[index] : m.functionTypes[index - importTypes.length];
    return t === undefined ? undefined : m.types[t];
  };
  const n = s.u32();
  if (n > MAX_DEFINED_FUNCTIONS) throw new ServiceCodeRejection(`module defines ${n} functions, over the limit of ${MAX_DEFINED_FUNCTIONS}`);
  // shared by every body: the instruction objects of the whole module must fit an executor's heap,
  // and its loops TurboFan's compile time (module-limits.ts)
  const budget = { instructions: MAX_MODULE_INSTRUCTIONS, loops: MAX_MODULE_LOOPS };
  for (let i = 0; i < n; i++) {
    const len = s.u32();
    const bytes = s.bytesN(len);
    m.bodies.push(parseBody(bytes, m.importedFunctionCount + i, m.types, typeOfFunction, budget));
  }
}

/** Exactly one memory, exported as `memory`, and every entry point exported with its signature (docs/service-abi.md). */
function checkMemoryAndEntryPoints(m: ServiceModule, st: ParseState): void {
  if (st.memoryCount !== 1)
    throw new ServiceCodeRejection(st.memoryCount === 0 ? 'missing memory: the module must define exactly one memory' : 'multiple memories');
  const mem = st.exports.get('memory');
  if (mem === undefined || mem.kind !== 0x02) throw new ServiceCodeRejection('missing export: memory', 'exports');
  for (const [name, sig] of Object.entries(ENTRY_POINT_SIGNATURES)) {
    const e = st.exports.get(name);
    if (e === undefined || e.kind !== 0x00) throw new ServiceCodeRejection(`missing export: ${name}`, 'exports');
    const typeIndex = e.index < m.importTypes.length ? m.importTypes[e.index] : m.functionTypes[e.index - m.importTypes.length];
    const t = typeIndex === undefined ? undefined : m.types[typeIndex];
    if (t === undefined || !sameSig(t, sig)) throw new ServiceCodeRejection(`wrong signature for export ${name}`, 'exports');
  }
}

function parseBody(
  bytes: Uint8Array,
  funcIndex: number,
  types: FuncType[],
  typeOfFunction: (index: number) => FuncType | undefined,
  budget: { instructions: number; loops: number },
): FunctionBody {
  const own = typeOfFunction(funcIndex);
  if (own === undefined) throw new ServiceCodeRejection(`malformed module: function ${funcIndex} has no type`);
  const r = new WasmBinaryReader(bytes);
  let locals = 0;
  const localGroups = r.u32();
  for (let n = localGroups; n > 0; n--) {
    locals += r.u32();
    valueType(r.u8(), `locals of function ${funcIndex}`);
    if (locals > MAX_FUNCTION_LOCALS) throw new ServiceCodeRejection(`function ${funcIndex} declares more than ${MAX_FUNCTION_LOCALS} locals`);
  }
  const codeStart = r.pos;
  const instructions: Instruction[] = [];
  let depth = 1;
  // kinds of the open blocks (1 = loop) and how many of them are loops
  const open = new Uint8Array(MAX_CONTROL_DEPTH + 2);
  let loops = 0;
  // all loops of the function, nested or not (TurboFan's compile time, module-limits.ts)
  let functionLoops = 0;
  while (depth > 0) {
    if (--budget.instructions < 0) throw new ServiceCodeRejection(`module has more than ${MAX_MODULE_INSTRUCTIONS} instructions`);
    const start = r.pos;
    let op = r.u8();
    const ins: Instruction = { op, start, end: start };
    if (PLAIN_OPS.has(op)) {
      if (op === 0x0b) {
        depth--;
        loops -= open[depth] as number;
      }
    } else if (op === 0x02 || op === 0x03 || op === 0x04) {
      const bt = r.sleb(33);
      if (bt < 0n && bt !== -64n && bt !== -1n && bt !== -2n) throw new ServiceCodeRejection(`unsupported block type in function ${funcIndex}`);
      ins.blockType = Number(bt);
      // depth counts the function body's own frame too
      if (depth > MAX_CONTROL_DEPTH) throw new ServiceCodeRejection(`function ${funcIndex} nests blocks more than ${MAX_CONTROL_DEPTH} deep`);
      open[depth] = op === 0x03 ? 1 : 0;
      if (op === 0x03 && ++loops > MAX_LOOP_DEPTH) throw new ServiceCodeRejection(`function ${funcIndex} nests loops more than ${MAX_LOOP_DEPTH} deep`);
      if (op === 0x03 && ++functionLoops > MAX_FUNCTION_LOOPS)
        throw new ServiceCodeRejection(`function ${funcIndex} has more than ${MAX_FUNCTION_LOOPS} loops`);
      if (op === 0x03 && --budget.loops < 0) throw new ServiceCodeRejection(`module has more than ${MAX_MODULE_LOOPS} loops`);
      depth++;
    } else if (op === 0x0c || op === 0x0d) {
      ins.labels = [r.u32()];
    } else if (op === 0x0e) {
      ins.labels = [];
      for (let n = r.u32(); n >= 0; n--) ins.labels.push(r.u32());
    } else if (op === 0x10) {
      ins.callee = r.u32();
    } else if (op === 0x11) {
      ins.typeIndex = r.u32();
      if (r.u8() !== 0x00) throw new ServiceCodeRejection(`unsupported call_indirect table in function ${funcIndex}`);
    } else if (op >= 0x20 && op <= 0x24) {
      r.u32();
    } else if (LOAD_STORE_OPS.has(op)) {
      r.u32();
      r.u32();
    } else if (op === 0x3f || op === 0x40) {
      if (r.u8() !== 0x00) throw new ServiceCodeRejection(`unsupported memory index in function ${funcIndex}`);
    } else if (op === 0x41) {
      r.sleb(32);
    } else if (op === 0x42) {
      r.sleb(64);
    } else if (op === 0xfc) {
      const sub = r.u32();
      op = 0xfc00 | sub;
      ins.op = op;
      if (sub === 10) {
        if (r.u8() !== 0 || r.u8() !== 0) throw new ServiceCodeRejection(`unsupported memory index in function ${funcIndex}`);
      } else if (sub === 11) {
        if (r.u8() !== 0) throw new ServiceCodeRejection(`unsupported memory index in function ${funcIndex}`);
      } else if (sub <= 7) {
        throw new ServiceCodeRejection(`float instruction 0xfc ${sub} in function ${funcIndex}`);
      } else {
        throw new ServiceCodeRejection(`unsupported opcode 0xfc ${sub} in function ${funcIndex}`);
      }
    } else if (FLOAT_OPS.has(op)) {
      throw new ServiceCodeRejection(`float instruction ${hex(op)} in function ${funcIndex}`);
    } else {
      throw new ServiceCodeRejection(`unsupported opcode ${hex(op)} in function ${funcIndex}`);
    }
    ins.end = r.pos;
    instructions.push(ins);
  }
  if (!r.atEnd) throw new ServiceCodeRejection(`malformed module: trailing bytes in function ${funcIndex}`);
  const maxStackHeight = operandStackHeight(instructions, types, typeOfFunction, funcIndex);
  const slots = own.params.length + locals + maxStackHeight;
  if (slots > MAX_FRAME_SLOTS)
    throw new ServiceCodeRejection(
      `function ${funcIndex} needs ${slots} frame slots (params + locals + operand stack), over the ${MAX_FRAME_SLOTS}-slot limit`,
    );
  return { bytes, codeStart, localGroups, localCount: locals, maxStackHeight, instructions };
}

/** Values popped and pushed by instructions with a fixed stack effect (integer MVP + sign-extension + bulk). */
function fixedEffect(op: number): [pop: number, push: number] | undefined {
  if (op === 0x01) return [0, 0];
  if (op === 0x1a || op === 0x21 || op === 0x24 || op === 0x0d) return [1, 0];
  if (op === 0x1b) return [3, 1];
  if (op === 0x20 || op === 0x23 || op === 0x3f || op === 0x41 || op === 0x42) return [0, 1];
  if (op === 0x22 || op === 0x40) return [1, 1];
  if (op >= 0x28 && op <= 0x35) return [1, 1];
  if (op >= 0x36 && op <= 0x3e) return [2, 0];
  if (
    op === 0x45 ||
    op === 0x50 ||
    (op >= 0x67 && op <= 0x69) ||
    (op >= 0x79 && op <= 0x7b) ||
    op === 0xa7 ||
    op === 0xac ||
    op === 0xad ||
    (op >= 0xc0 && op <= 0xc4)
  )
    return [1, 1];
  if ((op >= 0x46 && op <= 0x4f) || (op >= 0x51 && op <= 0x5a) || (op >= 0x6a && op <= 0x78) || (op >= 0x7c && op <= 0x8a)) return [2, 1];
  if (op === 0xfc0a || op === 0xfc0b) return [3, 0];
  return undefined;
}

/**
 * Upper bound of the operand-stack height (values) a validated function body reaches, by the
 * standard abstract interpretation over control frames (as Parity's wasm-instrument stack-height
 * pass): after `unreachable`, `br`, `br_table` or `return` the stack is reset to the frame base.
 * Used to bound every frame so MAX_CALL_DEPTH frames fit the executor's native stack (docs/sandbox.md).
 */
export function operandStackHeight(
  instructions: Instruction[],
  types: FuncType[],
  typeOfFunction: (index: number) => FuncType | undefined,
  funcIndex: number,
): number {
  const blockArity = (bt: number): [params: number, results: number] => {
    if (bt === -64) return [0, 0];
    if (bt === -1 || bt === -2) return [0, 1];
    const t = types[bt];
    if (t === undefined) throw new ServiceCodeRejection(`malformed module: bad block type in function ${funcIndex}`);
    return [t.params.length, t.results.length];
  };
  const frames: { base: number; params: number; results: number; unreachable: boolean }[] = [{ base: 0, params: 0, results: 0, unreachable: false }];
  let height = 0;
  let max = 0;
  const top = () => frames[frames.length - 1] as { base: number; params: number; results: number; unreachable: boolean };
  const pop = (n: number): void => {
    const f = top();
    height = f.unreachable ? Math.max(f.base, height - n) : height - n;
  };
  const push = (n: number): void => {
    height += n;
    if (height > max) max = height;
  };
  const polymorphic = (): void => {
    const f = top();
    height = f.base;
    f.unreachable = true;
  };
  for (const x of instructions) {
    const op = x.op;
    const fixed = fixedEffect(op);
    if (fixed !== undefined) {
      pop(fixed[0]);
      push(fixed[1]);
      continue;
    }
    switch (op) {
      case 0x00:
      case 0x0c:
      case 0x0f:
        polymorphic();
        break;
      case 0x0e:
        pop(1);
        polymorphic();
        break;
      case 0x02:
      case 0x03:
      case 0x04: {
        if (op === 0x04) pop(1);
        const [params, results] = blockArity(x.blockType ?? -64);
        pop(params);
        frames.push({ base: height, params, results, unreachable: false });
        push(params);
        break;
      }
      case 0x05: {
        const f = top();
        height = f.base;
        f.unreachable = false;
        push(f.params);
        break;
      }
      case 0x0b: {
        const f = frames.pop();
        if (f === undefined) throw new ServiceCodeRejection(`malformed module: unbalanced end in function ${funcIndex}`);
        height = f.base;
        if (frames.length > 0) push(f.results);
        break;
      }
      case 0x10:
      case 0x11: {
        const t = op === 0x10 ? typeOfFunction(x.callee ?? -1) : types[x.typeIndex ?? -1];
        if (t === undefined) throw new ServiceCodeRejection(`malformed module: bad call target in function ${funcIndex}`);
        pop(t.params.length + (op === 0x11 ? 1 : 0));
        push(t.results.length);
        break;
      }
      default:
        throw new ServiceCodeRejection(`unsupported opcode ${hex(op)} in function ${funcIndex}`);
    }
  }
  return max;
}
