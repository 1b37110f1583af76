/**
 * The accumulate host calls of GP 0.7.2 appendix B (B.7 general and accumulate functions) over
 * an accumulation context (the `(x, y)` pair of B.7: the working context and its checkpoint).
 * Each handler reads its arguments from ω7.., changes the context's partial state only through
 * `own` (copy on first write), and answers in ω7 (and ω8 for `query`). A handler returns 'panic'
 * where GP says ☇ (an unreadable or unwritable memory range).
 *
 * Gas (docs/service-abi.md, "PVM services"): every call costs PVM_HOST_CALL_GAS = 10 (charged by
 * the machine before the handler), a successful `transfer` costs ω9 more (GP 0.7.2 B.7: g = 10 + t), `log`
 * costs 10 too (JIP-1 says 0; the GP 0.7.2 accumulate vectors' gas figures count 10 per `log`).
 */
import { pvmLog, type PvmLogState } from '../pvm-log';
import { blake2b256, GpWriter } from '@jam/domain';
import { HOST_FULL, HOST_HUH, HOST_NONE, HOST_OK, HOST_WHAT, HOST_WHO } from '../../host-abi';
import * as id from '../host-call-ids';
import type { PvmHostContext } from '../pvm.machine';
import {
  cloneAccount,
  clonePartialState,
  hex,
  HOST_CASH,
  HOST_CORE,
  HOST_LOW,
  requestKey,
  thresholdBalance,
  TRANSFER_MEMO_BYTES,
  type AccumulateChainConfig,
  type PartialState,
  type ServiceAccount,
} from './accumulate-state';

/** A deferred transfer (GP 0.7.2 section 12 X: source, destination, amount, memo, gas). */
export interface DeferredTransfer {
  source: number;
  destination: number;
  amount: bigint;
  /** W_T = 128 bytes. */
  memo: Uint8Array;
  gas: bigint;
}

/** One accumulation input (GP 0.7.2 section 12 I): a work-digest operand or a deferred transfer. */
export type AccumulateInput = { kind: 'operand'; encoded: Uint8Array; gas: bigint } | { kind: 'transfer'; transfer: DeferredTransfer };

/** The mutable part of the accumulation context (GP 0.7.2 appendix B.7, the context L: e, i, t, y, p). */
interface ContextParts {
  state: PartialState;
  nextServiceId: number;
  transfers: DeferredTransfer[];
  yieldHash: Uint8Array | null;
  provisions: { service: number; blob: Uint8Array }[];
}

/** The accumulation context pair (x, y) of one service's accumulation, GP 0.7.2 B.7. */
export class AccumulateContext {
  x: ContextParts;
  y: ContextParts;
  /** Accounts x owns (copied since the last checkpoint); others are shared with y. */
  private owned = new Set<number>();
  /**
   * An embedder's extra limit on `write` (the product's storage quota and write-set caps): called
   * with the key and value a write would store (value empty = delete) once GP's own checks passed;
   * a result code refuses the write with it, null lets it happen.
   */
  writeLimit?: (key: Uint8Array, value: Uint8Array) => bigint | null;
  /** Where JIP-1 `log` lines go (the embedder's capture); absent: they are dropped. */
  logState?: PvmLogState;
  /** Computes x_i when `new` first needs it (GP 0.7.2 appendix B.7, Ψ_A; it hashes, so only on demand). */
  firstServiceId?: () => number;

  constructor(
    readonly service: number,
    readonly timeslot: number,
    readonly entropy: Uint8Array,
    readonly inputs: readonly AccumulateInput[],
    readonly cfg: AccumulateChainConfig,
    state: PartialState,
    nextServiceId: number,
  ) {
    this.x = { state, nextServiceId, transfers: [], yieldHash: null, provisions: [] };
    this.y = this.copyParts();
  }

  private copyParts(): ContextParts {
    const x = this.x;
    return {
      state: clonePartialState(x.state),
      nextServiceId: x.nextServiceId,
      transfers: [...x.transfers],
      yieldHash: x.yieldHash,
      provisions: [...x.provisions],
    };
  }

  /** `checkpoint`: y = x (GP 0.7.2 B.7). */
  checkpoint(): void {
    this.y = this.copyParts();
    this.owned.clear();
  }

  /** The account `s` of x for writing (copied on first write since the last checkpoint). */
  own(s: number): ServiceAccount {
    const a = this.x.state.accounts.get(s);
    if (a === undefined) throw new Error(`service ${s} is not in the partial state`);
    if (this.owned.has(s)) return a;
    const c = cloneAccount(a);
    this.x.state.accounts.set(s, c);
    this.owned.add(s);
    return c;
  }

  /** Adds a new account to x (owned). */
  create(s: number, a: ServiceAccount): void {
    this.x.state.accounts.set(s, a);
    this.owned.add(s);
  }

  /** `check` of GP 0.7.2 appendix B.7: the first free service index at or after `i`, wrapping in [S, 2^32 - 2^8). */
  check(i: number): number {
    const S = this.cfg.minPublicServiceIndex;
    const span = 2 ** 32 - S - 2 ** 8;
    let at = i;
    while (this.x.state.accounts.has(at)) at = ((at - S + 1) % span) + S;
    return at;
  }
}

const U32 = 1n << 32n;
const SELF = (1n << 64n) - 1n;

function readMem(ctx: PvmHostContext, address: bigint, length: bigint): Uint8Array | null {
  if (length === 0n) return new Uint8Array(0);
  if (address + length > U32) return null;
  return ctx.read(Number(address), Number(length));
}

function writeMem(ctx: PvmHostContext, address: bigint, data: Uint8Array): boolean {
  if (data.length === 0) return true;
  if (address + BigInt(data.length) > U32) return false;
  return ctx.write(Number(address), data);
}

/** Copies v[f .. f + l] to memory at o (GP 0.7.2 B.7 pattern of fetch/lookup/read/info); false when unwritable. */
function writeSlice(ctx: PvmHostContext, o: bigint, v: Uint8Array, fReg: bigint, lReg: bigint): boolean {
  const size = BigInt(v.length);
  const f = fReg < size ? fReg : size;
  const l = lReg < size - f ? lReg : size - f;
  return writeMem(ctx, o, v.subarray(Number(f), Number(f + l)));
}

function encodeInput(i: AccumulateInput): Uint8Array {
  const w = new GpWriter();
  if (i.kind === 'operand') {
    w.compact(0, 'kind');
    w.bytes(i.encoded);
  } else {
    const t = i.transfer;
    w.compact(1, 'kind');
    w.u32(t.source, 'source');
    w.u32(t.destination, 'destination');
    w.u64(t.amount, 'amount');
    w.bytes(t.memo);
    w.u64(t.gas, 'gas');
  }
  return w.finish();
}

function fetchValue(c: AccumulateContext, r: bigint[]): Uint8Array | null {
  switch (r[10]) {
    case 0n:
      return c.cfg.constantsBlob;
    case 1n:
      return c.entropy;
    case 14n: {
      const w = new GpWriter();
      w.compact(c.inputs.length, 'inputs');
      for (const i of c.inputs) w.bytes(encodeInput(i));
      return w.finish();
    }
    case 15n: {
      const i = r[11]! < BigInt(c.inputs.length) ? c.inputs[Number(r[11])] : undefined;
      return i === undefined ? null : encodeInput(i);
    }
    default:
      return null;
  }
}

/** The account a general call (lookup/read/info) names in ω7: self for 2^64 - 1 or x_s, else d[ω7], else undefined. */
function named(c: AccumulateContext, reg: bigint): ServiceAccount | undefined {
  if (reg === SELF || reg === BigInt(c.service)) return c.x.state.accounts.get(c.service);
  return reg < U32 ? c.x.state.accounts.get(Number(reg)) : undefined;
}

function gasFetch(c: AccumulateContext, ctx: PvmHostContext): void | 'panic' {
  const r = ctx.registers;
  const v = fetchValue(c, r);
  if (v === null) {
    r[7] = HOST_NONE;
    return;
  }
  if (!writeSlice(ctx, r[7]!, v, r[8]!, r[9]!)) return 'panic';
  r[7] = BigInt(v.length);
}

function lookup(c: AccumulateContext, ctx: PvmHostContext): void | 'panic' {
  const r = ctx.registers;
  const h = readMem(ctx, r[8]!, 32n);
  if (h === null) return 'panic';
  const v = named(c, r[7]!)?.preimages.get(hex(h));
  if (v === undefined) {
    r[7] = HOST_NONE;
    return;
  }
  if (!writeSlice(ctx, r[9]!, v, r[10]!, r[11]!)) return 'panic';
  r[7] = BigInt(v.length);
}

function read(c: AccumulateContext, ctx: PvmHostContext): void | 'panic' {
  const r = ctx.registers;
  const k = readMem(ctx, r[8]!, r[9]!);
  if (k === null) return 'panic';
  const v = named(c, r[7]!)?.storage.get(hex(k));
  if (v === undefined) {
    r[7] = HOST_NONE;
    return;
  }
  if (!writeSlice(ctx, r[10]!, v, r[11]!, r[12]!)) return 'panic';
  r[7] = BigInt(v.length);
}

function write(c: AccumulateContext, ctx: PvmHostContext): void | 'panic' {
  const r = ctx.registers;
  const k = readMem(ctx, r[7]!, r[8]!);
  const v = readMem(ctx, r[9]!, r[10]!);
  if (k === null || v === null) return 'panic';
  const cur = c.x.state.accounts.get(c.service)!;
  const key = hex(k);
  const old = cur.storage.get(key);
  let bytes = cur.info.bytes;
  let items = cur.info.items;
  if (old !== undefined) {
    bytes -= BigInt(34 + k.length + old.length);
    items -= 1;
  }
  if (v.length > 0) {
    bytes += BigInt(34 + k.length + v.length);
    items += 1;
  }
  if (thresholdBalance(c.cfg, items, bytes, cur.info.depositOffset) > cur.info.balance) {
    r[7] = HOST_FULL;
    return;
  }
  const limit = c.writeLimit?.(k, v) ?? null;
  if (limit !== null) {
    r[7] = limit;
    return;
  }
  const a = c.own(c.service);
  if (v.length > 0) a.storage.set(key, v);
  else a.storage.delete(key);
  a.info.bytes = bytes;
  a.info.items = items;
  r[7] = old === undefined ? HOST_NONE : BigInt(old.length);
}

function info(c: AccumulateContext, ctx: PvmHostContext): void | 'panic' {
  const r = ctx.registers;
  const a = named(c, r[7]!);
  if (a === undefined) {
    r[7] = HOST_NONE;
    return;
  }
  const i = a.info;
  const w = new GpWriter();
  w.bytes(i.codeHash);
  w.u64(i.balance, 'balance');
  w.u64(thresholdBalance(c.cfg, i.items, i.bytes, i.depositOffset), 'threshold');
  w.u64(i.minItemGas, 'g');
  w.u64(i.minMemoGas, 'm');
  w.u64(i.bytes, 'o');
  w.u32(i.items, 'i');
  w.u64(i.depositOffset, 'f');
  w.u32(i.creationSlot, 'r');
  w.u32(i.lastAccumulationSlot, 'a');
  w.u32(i.parentService, 'p');
  const v = w.finish();
  if (!writeSlice(ctx, r[8]!, v, r[9]!, r[10]!)) return 'panic';
  r[7] = BigInt(v.length);
}

function u32s(bytes: Uint8Array, count: number): number[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Array.from({ length: count }, (_, i) => view.getUint32(i * 4, true));
}

function bless(c: AccumulateContext, ctx: PvmHostContext): void | 'panic' {
  const r = ctx.registers;
  const a = readMem(ctx, r[8]!, BigInt(4 * c.cfg.cores));
  const n = r[12]!;
  const z = n > U32 ? null : readMem(ctx, r[11]!, 12n * n);
  if (a === null || z === null) return 'panic';
  if (r[7]! >= U32 || r[9]! >= U32 || r[10]! >= U32) {
    r[7] = HOST_WHO;
    return;
  }
  const view = new DataView(z.buffer, z.byteOffset, z.byteLength);
  const always = new Map<number, bigint>();
  for (let j = 0; j < Number(n); j++) always.set(view.getUint32(j * 12, true), view.getBigUint64(j * 12 + 4, true));
  c.x.state.privileges = {
    manager: Number(r[7]),
    assigners: u32s(a, c.cfg.cores),
    delegator: Number(r[9]),
    registrar: Number(r[10]),
    alwaysAccumulate: always,
  };
  r[7] = HOST_OK;
}

function assign(c: AccumulateContext, ctx: PvmHostContext): void | 'panic' {
  const r = ctx.registers;
  const q = readMem(ctx, r[8]!, BigInt(32 * c.cfg.authQueueSize));
  if (q === null) return 'panic';
  const core = r[7]!;
  const p = c.x.state.privileges;
  if (core >= BigInt(c.cfg.cores)) {
    r[7] = HOST_CORE;
    return;
  }
  if (p.assigners[Number(core)] !== c.service) {
    r[7] = HOST_HUH;
    return;
  }
  if (r[9]! >= U32) {
    r[7] = HOST_WHO;
    return;
  }
  const queues = c.x.state.authQueues;
  while (queues.length < c.cfg.cores) queues.push([]);
  queues[Number(core)] = Array.from({ length: c.cfg.authQueueSize }, (_, i) => q.slice(i * 32, i * 32 + 32));
  p.assigners[Number(core)] = Number(r[9]);
  r[7] = HOST_OK;
}

function designate(c: AccumulateContext, ctx: PvmHostContext): void | 'panic' {
  const r = ctx.registers;
  const keys = readMem(ctx, r[7]!, BigInt(336 * c.cfg.validators));
  if (keys === null) return 'panic';
  if (c.x.state.privileges.delegator !== c.service) {
    r[7] = HOST_HUH;
    return;
  }
  c.x.state.stagingSet = Array.from({ length: c.cfg.validators }, (_, i) => keys.slice(i * 336, i * 336 + 336));
  r[7] = HOST_OK;
}

function newService(c: AccumulateContext, ctx: PvmHostContext): void | 'panic' {
  const r = ctx.registers;
  const codeHash = readMem(ctx, r[7]!, 32n);
  const l = r[8]!;
  if (codeHash === null || l >= U32) return 'panic';
  const [g, m, f, wanted] = [r[9]!, r[10]!, r[11]!, r[12]!];
  const p = c.x.state.privileges;
  if (f !== 0n && c.service !== p.manager) {
    r[7] = HOST_HUH;
    return;
  }
  const self = c.x.state.accounts.get(c.service)!;
  const bytes = 81n + l;
  const t = thresholdBalance(c.cfg, 2, bytes, f);
  const left = self.info.balance - t;
  if (left < thresholdBalance(c.cfg, self.info.items, self.info.bytes, self.info.depositOffset)) {
    r[7] = HOST_CASH;
    return;
  }
  const S = c.cfg.minPublicServiceIndex;
  const reserved = c.service === p.registrar && wanted < BigInt(S);
  if (reserved && c.x.state.accounts.has(Number(wanted))) {
    r[7] = HOST_FULL;
    return;
  }
  if (c.firstServiceId !== undefined) {
    c.x.nextServiceId = c.firstServiceId();
    c.firstServiceId = undefined;
  }
  const newId = reserved ? Number(wanted) : c.x.nextServiceId;
  c.create(newId, {
    info: {
      codeHash,
      balance: t,
      minItemGas: g,
      minMemoGas: m,
      bytes,
      depositOffset: f,
      items: 2,
      creationSlot: c.timeslot,
      lastAccumulationSlot: 0,
      parentService: c.service,
    },
    storage: new Map(),
    preimages: new Map(),
    requests: new Map([[requestKey(codeHash, l), []]]),
  });
  c.own(c.service).info.balance = left;
  if (!reserved) c.x.nextServiceId = c.check(S + ((c.x.nextServiceId - S + 42) % (2 ** 32 - S - 2 ** 8)));
  r[7] = BigInt(newId);
}

function upgrade(c: AccumulateContext, ctx: PvmHostContext): void | 'panic' {
  const r = ctx.registers;
  const h = readMem(ctx, r[7]!, 32n);
  if (h === null) return 'panic';
  const a = c.own(c.service);
  a.info.codeHash = h;
  a.info.minItemGas = r[8]!;
  a.info.minMemoGas = r[9]!;
  r[7] = HOST_OK;
}

function transfer(c: AccumulateContext, ctx: PvmHostContext): void | 'panic' | 'out-of-gas' {
  const r = ctx.registers;
  const [dest, amount, gas] = [r[7]!, r[8]!, r[9]!];
  const memo = readMem(ctx, r[10]!, BigInt(TRANSFER_MEMO_BYTES));
  if (memo === null) return 'panic';
  const d = dest < U32 ? c.x.state.accounts.get(Number(dest)) : undefined;
  if (d === undefined) {
    r[7] = HOST_WHO;
    return;
  }
  if (gas < d.info.minMemoGas) {
    r[7] = HOST_LOW;
    return;
  }
  const self = c.x.state.accounts.get(c.service)!;
  const left = self.info.balance - amount;
  if (left < thresholdBalance(c.cfg, self.info.items, self.info.bytes, self.info.depositOffset)) {
    r[7] = HOST_CASH;
    return;
  }
  // GP 0.7.2 B.7: a successful transfer costs ω9 more (g = 10 + t, t = ω9 when OK); the machine
  // charged the 10, so ϱ < g is gasLeft < ω9: out of gas with nothing changed (B.5), and the
  // state reverts to the checkpoint
  if (ctx.gasLeft < gas) return 'out-of-gas';
  ctx.gasLeft -= gas;
  c.own(c.service).info.balance = left;
  c.x.transfers.push({ source: c.service, destination: Number(dest), amount, memo, gas });
  r[7] = HOST_OK;
}

function eject(c: AccumulateContext, ctx: PvmHostContext): void | 'panic' {
  const r = ctx.registers;
  const h = readMem(ctx, r[8]!, 32n);
  if (h === null) return 'panic';
  const target = r[7]!;
  const d = target < U32 && target !== BigInt(c.service) ? c.x.state.accounts.get(Number(target)) : undefined;
  const owner = new Uint8Array(32);
  new DataView(owner.buffer).setUint32(0, c.service, true);
  if (d === undefined || Buffer.compare(Buffer.from(d.info.codeHash), Buffer.from(owner)) !== 0) {
    r[7] = HOST_WHO;
    return;
  }
  const l = (d.info.bytes > 81n ? d.info.bytes : 81n) - 81n;
  const req = d.requests.get(requestKey(h, l));
  if (d.info.items !== 2 || req === undefined) {
    r[7] = HOST_HUH;
    return;
  }
  if (req.length === 2 && req[1]! < c.timeslot - c.cfg.expungePeriod) {
    c.own(c.service).info.balance += d.info.balance;
    c.x.state.accounts.delete(Number(target));
    r[7] = HOST_OK;
    return;
  }
  r[7] = HOST_HUH;
}

function query(c: AccumulateContext, ctx: PvmHostContext): void | 'panic' {
  const r = ctx.registers;
  const h = readMem(ctx, r[7]!, 32n);
  if (h === null) return 'panic';
  const a = c.x.state.accounts.get(c.service)!.requests.get(requestKey(h, r[8]!));
  if (a === undefined) {
    r[7] = HOST_NONE;
    r[8] = 0n;
    return;
  }
  const t = a.map(BigInt);
  r[7] = BigInt(t.length) + (t.length > 0 ? t[0]! << 32n : 0n);
  r[8] = t.length === 2 ? t[1]! : t.length === 3 ? t[1]! + (t[2]! << 32n) : 0n;
}

function solicit(c: AccumulateContext, ctx: PvmHostContext): void | 'panic' {
  const r = ctx.registers;
  const h = readMem(ctx, r[7]!, 32n);
  if (h === null) return 'panic';
  const z = r[8]!;
  const self = c.x.state.accounts.get(c.service)!;
  const key = requestKey(h, z);
  const cur = self.requests.get(key);
  if (cur !== undefined && cur.length !== 2) {
    r[7] = HOST_HUH;
    return;
  }
  const items = self.info.items + (cur === undefined ? 2 : 0);
  const bytes = self.info.bytes + (cur === undefined ? 81n + z : 0n);
  if (thresholdBalance(c.cfg, items, bytes, self.info.depositOffset) > self.info.balance) {
    r[7] = HOST_FULL;
    return;
  }
  const a = c.own(c.service);
  a.requests.set(key, cur === undefined ? [] : [...cur, c.timeslot]);
  a.info.items = items;
  a.info.bytes = bytes;
  r[7] = HOST_OK;
}

function forget(c: AccumulateContext, ctx: PvmHostContext): void | 'panic' {
  const r = ctx.registers;
  const h = readMem(ctx, r[7]!, 32n);
  if (h === null) return 'panic';
  const z = r[8]!;
  const key = requestKey(h, z);
  const cur = c.x.state.accounts.get(c.service)!.requests.get(key);
  const old = (t: number): boolean => t < c.timeslot - c.cfg.expungePeriod;
  if (cur === undefined) {
    r[7] = HOST_HUH;
    return;
  }
  if (cur.length === 0 || (cur.length === 2 && old(cur[1]!))) {
    const a = c.own(c.service);
    a.requests.delete(key);
    a.preimages.delete(hex(h));
    a.info.items -= 2;
    a.info.bytes -= 81n + z;
  } else if (cur.length === 1) {
    c.own(c.service).requests.set(key, [cur[0]!, c.timeslot]);
  } else if (cur.length === 3 && old(cur[1]!)) {
    c.own(c.service).requests.set(key, [cur[2]!, c.timeslot]);
  } else {
    r[7] = HOST_HUH;
    return;
  }
  r[7] = HOST_OK;
}

function yieldHash(c: AccumulateContext, ctx: PvmHostContext): void | 'panic' {
  const h = readMem(ctx, ctx.registers[7]!, 32n);
  if (h === null) return 'panic';
  c.x.yieldHash = h;
  ctx.registers[7] = HOST_OK;
}

function provide(c: AccumulateContext, ctx: PvmHostContext): void | 'panic' {
  const r = ctx.registers;
  const blob = readMem(ctx, r[8]!, r[9]!);
  if (blob === null) return 'panic';
  const target = r[7] === SELF ? c.service : r[7]! < U32 ? Number(r[7]) : -1;
  const a = c.x.state.accounts.get(target);
  if (a === undefined) {
    r[7] = HOST_WHO;
    return;
  }
  const req = a.requests.get(requestKey(blake2b256(blob), blob.length));
  const dup = c.x.provisions.some((p) => p.service === target && Buffer.compare(Buffer.from(p.blob), Buffer.from(blob)) === 0);
  if (req === undefined || req.length !== 0 || dup) {
    r[7] = HOST_HUH;
    return;
  }
  c.x.provisions.push({ service: target, blob });
  r[7] = HOST_OK;
}

type Handler = (c: AccumulateContext, ctx: PvmHostContext) => void | 'panic' | 'out-of-gas';

const HANDLERS = new Map<number, Handler>([
  [id.PVM_HOST_GAS, (_c, ctx) => void (ctx.registers[7] = ctx.gasLeft)],
  [id.PVM_HOST_FETCH, gasFetch],
  [id.PVM_HOST_LOOKUP, lookup],
  [id.PVM_HOST_READ, read],
  [id.PVM_HOST_WRITE, write],
  [id.PVM_HOST_INFO, info],
  [id.PVM_HOST_BLESS, bless],
  [id.PVM_HOST_ASSIGN, assign],
  [id.PVM_HOST_DESIGNATE, designate],
  [
    id.PVM_HOST_CHECKPOINT,
    (c, ctx) => {
      c.checkpoint();
      ctx.registers[7] = ctx.gasLeft;
    },
  ],
  [id.PVM_HOST_NEW, newService],
  [id.PVM_HOST_UPGRADE, upgrade],
  [id.PVM_HOST_TRANSFER, transfer],
  [id.PVM_HOST_EJECT, eject],
  [id.PVM_HOST_QUERY, query],
  [id.PVM_HOST_SOLICIT, solicit],
  [id.PVM_HOST_FORGET, forget],
  [id.PVM_HOST_YIELD, yieldHash],
  [id.PVM_HOST_PROVIDE, provide],
  // JIP-1 log is no GP 0.7.2 host call: the accumulate mutator's default case charges 10 and sets
  // ω7 = WHAT (appendix B.4), as the vectors' gas figures count (their README says 0) and
  // typeberry does under 0.7.2; the line is kept when the embedder captures logs
  [
    id.PVM_HOST_LOG,
    (c, ctx) => {
      if (c.logState !== undefined) pvmLog(c.logState, ctx);
      ctx.registers[7] = HOST_WHAT;
    },
  ],
]);

/**
 * The host-call handler of one accumulate invocation: dispatches by index to the GP 0.7.2
 * accumulate host calls; an unknown index answers WHAT (GP 0.7.2 B.7, refine-only calls included).
 */
export function accumulateHostCalls(c: AccumulateContext, trace?: (index: number) => void): (ctx: PvmHostContext) => void | 'panic' | 'out-of-gas' {
  return (ctx) => {
    trace?.(ctx.index);
    const h = HANDLERS.get(ctx.index);
    if (h === undefined) {
      ctx.registers[7] = HOST_WHAT;
      return;
    }
    return h(c, ctx);
  };
}
