/**
 * One service's accumulation, Δ1 of GP 0.7.2 section 12 with Ψ_A of appendix B.7: the service's
 * code (its preimage `a_p[a_c]`, a JAM service blob) runs from pc 5 with the arguments
 * E(τ', s, |i|) and the sum of its inputs' gas, over a context whose partial state the accumulate
 * host calls change; a halt keeps the working context x (and a 32-byte output becomes the
 * yield), a panic, page fault or running out of gas keeps the checkpoint y.
 */
import { blake2b256, encodeWorkExecResult, GpWriter, type WorkReport } from '@jam/domain';
import { decodeServiceBlob, PvmProgramRejection, PVM_ACCUMULATE_ENTRY, type PvmServiceBlob } from '../pvm-program';
import { PVM_PRODUCT_ENGINE, runPvm } from '../pvm.machine';
import { accumulateHostCalls, AccumulateContext, type AccumulateInput, type DeferredTransfer } from './accumulate-host-calls';
import { clonePartialState, type AccumulateChainConfig, type PartialState } from './accumulate-state';

/** What Δ1 returns for one service (GP 0.7.2 section 12 O: e, t, y, u, p). */
export interface ServiceAccumulation {
  /** The post partial state as this service left it. */
  state: PartialState;
  /** Transfers it deferred, in the order it made them. */
  transfers: DeferredTransfer[];
  /** Its accumulation output (yield), 32 bytes, or null. */
  yieldHash: Uint8Array | null;
  /** Gas it used. */
  gasUsed: bigint;
  /** Preimages it provided: (service, blob). */
  provisions: { service: number; blob: Uint8Array }[];
}

/** The operand tuple of one work digest (GP 0.7.2 section 12.3, the operand tuple U: p, e, a, y, g, l, t), encoded for `fetch`. */
export function encodeOperand(report: WorkReport, digestIndex: number): Uint8Array {
  const d = report.results[digestIndex]!;
  const w = new GpWriter();
  w.bytes(report.package_spec.hash);
  w.bytes(report.package_spec.exports_root);
  w.bytes(report.authorizer_hash);
  w.bytes(d.payload_hash);
  w.compact(d.accumulate_gas, 'gas');
  w.bytes(encodeWorkExecResult(d.result));
  w.blob(report.auth_output, 'auth_output');
  return w.finish();
}

/** Decoded service blobs, by the code bytes' identity (the same preimage object decodes once). */
const blobs = new WeakMap<Uint8Array, PvmServiceBlob | null>();

function serviceBlob(bytes: Uint8Array): PvmServiceBlob | null {
  let b = blobs.get(bytes);
  if (b === undefined) {
    try {
      b = decodeServiceBlob(bytes);
    } catch (e) {
      if (!(e instanceof PvmProgramRejection)) throw e;
      b = null;
    }
    blobs.set(bytes, b);
  }
  return b;
}

/**
 * The first service index x_i of a service's context (GP 0.7.2 appendix B.7, Ψ_A): check(E4⁻¹(H(E(s, η'_0,
 * τ'))) mod (2^32 − S − 2^8) + S), check over the accounts `taken` at the start of the invocation.
 */
function firstServiceId(cfg: AccumulateChainConfig, taken: ReadonlySet<number>, service: number, entropy: Uint8Array, timeslot: number): number {
  const w = new GpWriter();
  w.compact(service, 'service');
  w.bytes(entropy);
  w.compact(timeslot, 'timeslot');
  const h = blake2b256(w.finish());
  const S = cfg.minPublicServiceIndex;
  const span = 2 ** 32 - S - 2 ** 8;
  let i = (new DataView(h.buffer, h.byteOffset, 4).getUint32(0, true) % span) + S;
  while (taken.has(i)) i = ((i - S + 1) % span) + S;
  return i;
}

/**
 * Δ1: accumulates service `service` with its inputs (transfers to it, then its operands) and
 * `gas` (the sum of their gas and its free gas). Incoming transfer amounts are credited first.
 * Without code (no account, no preimage of the code hash, over W_C, or not a service blob) the
 * service does not run and uses no gas. Never changes `state`.
 * @throws only on an engine fault of the PVM interpreter
 */
export function accumulateService(
  cfg: AccumulateChainConfig,
  state: PartialState,
  timeslot: number,
  entropy: Uint8Array,
  service: number,
  gas: bigint,
  inputs: readonly AccumulateInput[],
  trace?: (index: number) => void,
): ServiceAccumulation {
  const e = clonePartialState(state);
  const empty = { state: e, transfers: [], yieldHash: null, gasUsed: 0n, provisions: [] };
  const account = e.accounts.get(service);
  if (account === undefined) return empty;
  const credit = inputs.reduce((s, i) => s + (i.kind === 'transfer' ? i.transfer.amount : 0n), 0n);
  const ctx = new AccumulateContext(service, timeslot, entropy, inputs, cfg, e, 0);
  if (credit > 0n) ctx.own(service).info.balance += credit;
  const embedder = cfg.embedder;
  if (embedder?.writeLimit !== undefined) ctx.writeLimit = embedder.writeLimit(service, account.storage);
  if (embedder?.logs !== undefined) {
    const captured = embedder.logs.get(service) ?? { logs: [], droppedLogs: 0 };
    embedder.logs.set(service, captured);
    ctx.logState = captured;
  }
  const codeHash = Buffer.from(account.info.codeHash).toString('hex');
  const code = account.preimages.get(codeHash);
  const blob = code === undefined || code.length > cfg.maxServiceCodeSize ? null : serviceBlob(code);
  if (code === undefined || blob === null) return { ...empty, state: ctx.x.state };
  const taken = new Set(e.accounts.keys());
  ctx.firstServiceId = () => firstServiceId(cfg, taken, service, entropy, timeslot);
  ctx.checkpoint();
  const args = new GpWriter();
  args.compact(timeslot, 'timeslot');
  args.compact(service, 'service');
  args.compact(inputs.length, 'inputs');
  return runPvm(
    { kind: 'service', bytes: code, blob: blob.program.blob, pc: PVM_ACCUMULATE_ENTRY, args: args.finish() },
    gas,
    accumulateHostCalls(ctx, trace),
    (r, m): ServiceAccumulation => {
      const gasUsed = gas - r.gasLeft;
      if (r.exit !== 'halt') {
        const y = ctx.y;
        return { state: y.state, transfers: y.transfers, yieldHash: y.yieldHash, gasUsed, provisions: y.provisions };
      }
      const x = ctx.x;
      const [ptr, len] = [r.registers[7]!, r.registers[8]!];
      const out = len === 32n && ptr + len <= 1n << 32n ? m.readMemory(Number(ptr), 32) : null;
      return { state: x.state, transfers: x.transfers, yieldHash: out ?? x.yieldHash, gasUsed, provisions: x.provisions };
    },
    PVM_PRODUCT_ENGINE,
  );
}
