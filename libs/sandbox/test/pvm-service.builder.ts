/**
 * Assembles small JAM service blobs for tests (GP 0.7.2 A.2 / A.7): E(↕metadata) ++ standard
 * program (no read-only or read-write data, a stack) whose code blob is given as instructions.
 * Refine starts at pc 0 and accumulate at pc 5, so the first instruction is a 5-byte `jump` to the
 * refine body and the second, at pc 5, the accumulate body (here `jump [r0]`, i.e. halt).
 */

/** One instruction's bytes (opcode first). */
export type Instruction = number[];

/** GP eq. C.1 compact natural for n < 2^14 (one or two bytes). */
function compact(n: number): number[] {
  if (n < 128) return [n];
  if (n < 1 << 14) return [0x80 + (n >> 8), n & 0xff];
  throw new Error('the builder writes |c| in at most two bytes');
}

/** Generic program blob (GP A.2) of `instructions` laid out back to back, no jump table. */
export function codeBlob(instructions: Instruction[]): Uint8Array {
  const code = instructions.flat();
  const mask = new Uint8Array(Math.ceil(code.length / 8));
  let at = 0;
  for (const ins of instructions) {
    mask[at >> 3]! |= 1 << (at & 7);
    at += ins.length;
  }
  return Uint8Array.from([0, 0, ...compact(code.length), ...code, ...mask]);
}

function le(n: number, bytes: number): number[] {
  return Array.from({ length: bytes }, (_, i) => Math.floor(n / 256 ** i) % 256);
}

/** Where the standard program puts read-only data (GP A.7: Z_Z). */
export const RO_DATA_ADDRESS = 0x10000;

/** Where the standard program puts read-write data when the read-only data is at most 64 KiB and not empty (GP A.7: 2·Z_Z + Z(|o|)). */
export const RW_DATA_ADDRESS = 0x30000;

/**
 * A JAM service blob: metadata `m`, stack of `stackSize` bytes, refine body `refine` (instructions
 * after pc 7), read-only data `roData` at RO_DATA_ADDRESS and read-write data `rwData` after it
 * (at RW_DATA_ADDRESS when `roData` has 1 to 65,536 bytes).
 */
export function pvmServiceBlob(
  refine: Instruction[],
  opts: { metadata?: string; stackSize?: number; roData?: Uint8Array; rwData?: Uint8Array } = {},
): Uint8Array {
  const code = codeBlob([[0x28, ...le(7, 4)], [0x32, 0x00], ...refine]);
  const metadata = new TextEncoder().encode(opts.metadata ?? 'test');
  const ro = [...(opts.roData ?? [])];
  const rw = [...(opts.rwData ?? [])];
  const program = [...le(ro.length, 3), ...le(rw.length, 3), ...le(0, 2), ...le(opts.stackSize ?? 8192, 3), ...ro, ...rw, ...le(code.length, 4), ...code];
  return Uint8Array.from([metadata.length, ...metadata, ...program]);
}

/** halt: `jump [r0 + 0]` (r0 holds 2^32 - 2^16 at start, GP A.7). */
export const HALT: Instruction = [0x32, 0x00];
/** `ecalli n` */
export const ecalli = (n: number): Instruction => [0x0a, n];
/** `rD = imm` (load_imm, imm as 0-4 bytes, sign-extended) */
export const loadImm = (d: number, imm: number[]): Instruction => [0x33, d, ...imm];
/** `rD = rS + imm` (add_imm_64) */
export const addImm64 = (d: number, s: number, imm: number[]): Instruction => [0x95, (s << 4) | d, ...imm];
/** `rD = imm` (load_imm_64, 8-byte immediate) */
export const loadImm64 = (d: number, imm: bigint): Instruction => [
  0x14,
  d,
  ...Array.from({ length: 8 }, (_, i) => Number((BigInt.asUintN(64, imm) >> BigInt(8 * i)) & 0xffn)),
];
/** `u64 [address] = rA` (store_u64, absolute address below 2^31) */
export const storeU64 = (a: number, address: number): Instruction => [0x3e, a, ...le(address, 4)];
/** `u32 [address] = rA` (store_u32, absolute address below 2^31) */
export const storeU32 = (a: number, address: number): Instruction => [0x3d, a, ...le(address, 4)];
/** `rD = rA + rB` (add_64) */
export const add64 = (d: number, a: number, b: number): Instruction => [0xc8, (b << 4) | a, d];
/** `rD = rS` (move_reg) */
export const moveReg = (d: number, s: number): Instruction => [0x64, (s << 4) | d];
/** `u64 [rB + imm] = rA` (store_ind_u64) */
export const storeIndU64 = (a: number, b: number, imm: number[]): Instruction => [0x7b, (b << 4) | a, ...imm];

/**
 * Refine code that echoes the payload: fetches this item's payload (fetch selector 13) to the
 * stack and returns it. ω7 = out = ω1 - 4096, ω8 = 0, ω9 = 4096, ω10 = 13, ω11 = 0 (item 0); then
 * output (out, size).
 */
export const ECHO_REFINE: readonly Instruction[] = [
  addImm64(7, 1, [0x00, 0xf0]),
  loadImm(8, []),
  loadImm(9, [0x00, 0x10]),
  loadImm(10, [13]),
  loadImm(11, []),
  ecalli(1),
  moveReg(8, 7),
  addImm64(7, 1, [0x00, 0xf0]),
  HALT,
];

/** Echo service: refine is {@link ECHO_REFINE}. */
export function echoService(): Uint8Array {
  return pvmServiceBlob([...ECHO_REFINE]);
}

/**
 * Gas-and-WHAT service: refine calls `gas` (ω7 = gas left), stores it at ω1 - 8, calls host call
 * 3 (`read`, not provided to PVM refine: ω7 = WHAT), stores that at ω1 - 16, returns those 16
 * bytes: LE(WHAT) ++ LE(gas left).
 */
export function gasAndWhatService(): Uint8Array {
  return pvmServiceBlob([ecalli(0), storeIndU64(7, 1, [0xf8]), ecalli(3), storeIndU64(7, 1, [0xf0]), addImm64(7, 1, [0xf0]), loadImm(8, [16]), HALT]);
}

/** A service whose refine loops forever (`jump` to itself): runs until out of gas. */
export function spinService(): Uint8Array {
  return pvmServiceBlob([[0x28, 0x00]]);
}

/**
 * Heap-toucher: `sbrk` grows the heap by ω7 = 2^31 - 4096 bytes, then a loop stores one byte per 4 KiB
 * page over it (r8 = address, r9 = pages left), about 3 gas per page: cheap gas, much memory.
 */
export function heapToucherService(): Uint8Array {
  return pvmServiceBlob([
    loadImm(7, [0x00, 0xf0, 0xff, 0x7f]), // r7 = 2^31 - 4096
    loadImm(9, [0xff, 0xff, 0x07]), // r9 = 2^19 - 1 pages
    [101, 0x78], // r8 = sbrk(r7)
    [0x01], // fallthrough: the loop below starts a block
    [0x78, 0x80], // u8 [r8 + 0] = r0
    addImm64(8, 8, [0x00, 0x10]), // r8 += 4096
    addImm64(9, 9, [0xff]), // r9 -= 1
    [0x52, 0x09, 0xf7], // jump back 9 bytes to the store if r9 != 0
    loadImm(8, []),
    HALT,
  ]);
}

/** One host call of a `hostCallScript`: registers to set (the rest keep their values), then `ecalli call`. */
export interface HostCallStep {
  call: number;
  regs: Partial<Record<number, bigint>>;
}

/**
 * A service whose refine makes `steps` in order and after each stores ω7 and ω8 at
 * RW_DATA_ADDRESS + 16·k and + 16·k + 8 (so `rwData` must hold 16 bytes per step first), then
 * returns its whole read-write data (at most 48 KiB). `roData` must not be empty.
 */
export function hostCallScript(steps: HostCallStep[], opts: { roData: Uint8Array; rwData: Uint8Array }): Uint8Array {
  const body: Instruction[] = [];
  steps.forEach((step, k) => {
    for (const [reg, v] of Object.entries(step.regs)) if (v !== undefined) body.push(loadImm64(Number(reg), v));
    body.push(ecalli(step.call), storeU64(7, RW_DATA_ADDRESS + 16 * k), storeU64(8, RW_DATA_ADDRESS + 16 * k + 8));
  });
  body.push(loadImm64(7, BigInt(RW_DATA_ADDRESS)), loadImm64(8, BigInt(opts.rwData.length)), HALT);
  return pvmServiceBlob(body, { roData: opts.roData, rwData: opts.rwData });
}

/** Read-write layout of `preimageExportService`'s output (offsets from RW_DATA_ADDRESS, bytes). */
export const PREIMAGE_EXPORT_LAYOUT = Object.freeze({ results: 0, hash: 128, preimage: 256, extrinsic: 1536, imported: 2048, size: 4096 });

/**
 * A PVM service using the GP refine calls end to end. Refine: `fetch` 13 (item 0's payload, a
 * 32-byte hash) to `hash`; `lookup` (this service) of that hash to `preimage` (up to 1024 bytes);
 * `export` of those 1024 bytes (one segment); `fetch` 6 (this item's imported segment 0, first 64
 * bytes) to `imported`; `fetch` 4 (this item's extrinsic 0, first 256 bytes) to `extrinsic`. It
 * returns its read-write data (PREIMAGE_EXPORT_LAYOUT.size bytes): the 5 calls' ω7 and ω8 at
 * `results`, then the areas above.
 */
export function preimageExportService(): Uint8Array {
  const L = PREIMAGE_EXPORT_LAYOUT;
  const a = (offset: number) => BigInt(RW_DATA_ADDRESS + offset);
  return hostCallScript(
    [
      { call: 1, regs: { 7: a(L.hash), 8: 0n, 9: 32n, 10: 13n, 11: 0n } },
      { call: 2, regs: { 7: (1n << 64n) - 1n, 8: a(L.hash), 9: a(L.preimage), 10: 0n, 11: 1024n } },
      { call: 7, regs: { 7: a(L.preimage), 8: 1024n } },
      { call: 1, regs: { 7: a(L.imported), 8: 0n, 9: 64n, 10: 6n, 11: 0n } },
      { call: 1, regs: { 7: a(L.extrinsic), 8: 0n, 9: 256n, 10: 4n, 11: 0n } },
    ],
    { roData: Uint8Array.of(0), rwData: new Uint8Array(L.size) },
  );
}
