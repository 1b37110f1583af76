/**
 * The refine host calls of a PVM service (GP 0.7.2 appendix B, the refine invocation Ψ_R): `gas`,
 * `fetch` (every refine selector), `lookup`, `historical_lookup`, `export`, the inner-VM calls
 * `machine`/`peek`/`poke`/`pages`/`invoke`/`expunge`, and JIP-1 `log`. Any other index answers
 * WHAT (accumulate calls included). Registers, results and panics follow GP 0.7.2; each call first
 * costs PVM_HOST_CALL_GAS (10, charged by pvm.machine.ts), then our per-byte charge for bytes it
 * moves (`copyGas`), PVM_INNER_MACHINE_GAS for `machine`, and the inner machine's gas for `invoke`
 * (docs/service-abi.md, "PVM services", lists each price and why it differs from GP's flat 10).
 */
import { GP_MAX_PACKAGE_EXPORTS, GP_SEGMENT_SIZE, toHex } from '@jam/domain';
import { HOST_HUH, HOST_NONE, HOST_OK, HOST_OOB, HOST_WHAT, HOST_WHO, HOST_FULL, MAX_SERVICE_CODE_BYTES } from '../../host-abi';
import type { RefineJob } from '../../service.executor';
import {
  PVM_HOST_EXPORT,
  PVM_HOST_EXPUNGE,
  PVM_HOST_FETCH,
  PVM_HOST_GAS,
  PVM_HOST_HISTORICAL_LOOKUP,
  PVM_HOST_INVOKE,
  PVM_HOST_LOG,
  PVM_HOST_LOOKUP,
  PVM_HOST_MACHINE,
  PVM_HOST_PAGES,
  PVM_HOST_PEEK,
  PVM_HOST_POKE,
} from '../host-call-ids';
import { pvmLog, type PvmLogState } from '../pvm-log';
import type { PvmHostCallHandler, PvmHostContext } from '../pvm.machine';
import { charge, copyGas, guestReadable, guestWritable, readGuest, readU64, writeGuest, writeU64, COPY_CHUNK, ADDRESS_SPACE } from './guest-memory';
import { InnerMachines, PVM_INNER_MACHINE_GAS } from './inner-machines';
import { RefineFetchData } from './refine-data';

/** What one PVM refine run's host calls read and produce. */
export interface PvmRefineState extends PvmLogState {
  job: RefineJob;
  data: RefineFetchData;
  /** Segments exported so far, W_G bytes each. */
  exports: Uint8Array[];
  machines: InnerMachines;
}

/** A fresh state for one refine run of `job`. */
export function pvmRefineState(job: RefineJob): PvmRefineState {
  return { job, data: new RefineFetchData(job), exports: [], machines: new InnerMachines(), logs: [], droppedLogs: 0 };
}

type Verdict = void | 'panic' | 'out-of-gas';

/** 2^64 - 1: "this service" in `lookup`/`historical_lookup`'s ω7. */
const SELF = (1n << 64n) - 1n;

/**
 * Windowed copy of `v` to μ[ω7..] as GP `fetch`/`lookup` do: f = min(offset, |v|), l = min(len,
 * |v| - f); ω7 = |v|; panic when μ[o..o+l] is not writable; charges copyGas(l) first.
 */
function copyOut(ctx: PvmHostContext, v: Uint8Array, out: bigint, offset: bigint, len: bigint): Verdict {
  const size = BigInt(v.length);
  const f = offset < size ? offset : size;
  const l = len < size - f ? len : size - f;
  if (!charge(ctx, copyGas(l))) return 'out-of-gas';
  if (!writeGuest(ctx, out, v.subarray(Number(f), Number(f + l)))) return 'panic';
  ctx.registers[7] = size;
}

/** GP 0.7.2 `fetch` (1): ω10 selector, ω11/ω12 indices; ω7 output, ω8 offset, ω9 length. */
function fetch(s: PvmRefineState, ctx: PvmHostContext): Verdict {
  const r = ctx.registers;
  const v = s.data.value(r[10]!, r[11]!, r[12]!);
  if (v === null) {
    r[7] = HOST_NONE;
    return;
  }
  return copyOut(ctx, v, r[7]!, r[8]!, r[9]!);
}

/**
 * GP 0.7.2 `lookup` (2) and `historical_lookup` (6): ω7 service (2^64 - 1 or our id: this
 * service; any other: NONE, we hold no other service's preimages), ω8 hash address (panic when
 * unreadable), ω9 output, ω10 offset, ω11 length. The preimages are the job's (this item's
 * extrinsics, by Blake2b-256), available at every slot including the lookup anchor slot.
 */
function lookup(s: PvmRefineState, ctx: PvmHostContext): Verdict {
  const r = ctx.registers;
  const hash = readGuest(ctx, r[8]!, 32n);
  if (hash === null) return 'panic';
  const own = r[7] === SELF || r[7] === BigInt(s.job.serviceId ?? 0);
  const v = own ? s.job.preimages.get(toHex(hash)) : undefined;
  if (v === undefined) {
    r[7] = HOST_NONE;
    return;
  }
  return copyOut(ctx, v, r[9]!, r[10]!, r[11]!);
}

/**
 * GP 0.7.2 `export` (7): ω7 address, ω8 length; the min(ω8, W_G) bytes there, zero-padded to W_G,
 * become the next exported segment; ω7 = its index in the package (export offset + exports so
 * far), FULL once that would reach W_X; panic when the bytes are unreadable.
 */
function exportSegment(s: PvmRefineState, ctx: PvmHostContext): Verdict {
  const r = ctx.registers;
  const z = r[8]! < BigInt(GP_SEGMENT_SIZE) ? r[8]! : BigInt(GP_SEGMENT_SIZE);
  if (!charge(ctx, copyGas(z))) return 'out-of-gas';
  const bytes = readGuest(ctx, r[7]!, z);
  if (bytes === null) return 'panic';
  const index = (s.job.exportOffset ?? 0) + s.exports.length;
  if (index >= GP_MAX_PACKAGE_EXPORTS) {
    r[7] = HOST_FULL;
    return;
  }
  const segment = new Uint8Array(GP_SEGMENT_SIZE);
  segment.set(bytes);
  s.exports.push(segment);
  r[7] = BigInt(index);
}

/** GP 0.7.2 `machine` (8): ω7 program address, ω8 its length, ω9 initial pc; ω7 = the new machine's id, HUH. */
function machine(s: PvmRefineState, ctx: PvmHostContext): Verdict {
  const r = ctx.registers;
  const [po, pz] = [r[7]!, r[8]!];
  if (po + pz > ADDRESS_SPACE) return 'panic';
  if (pz > BigInt(MAX_SERVICE_CODE_BYTES)) {
    r[7] = HOST_HUH;
    return;
  }
  if (!charge(ctx, PVM_INNER_MACHINE_GAS + copyGas(pz))) return 'out-of-gas';
  const code = readGuest(ctx, po, pz);
  if (code === null) return 'panic';
  const n = s.machines.create(code, r[9]!);
  r[7] = n === 'huh' ? HOST_HUH : n;
}

/**
 * GP 0.7.2 `peek` (9): ω7 machine, ω8 outer destination, ω9 inner source, ω10 length; OK, WHO, OOB;
 * panic when the destination is not writable (checked first by GP; here checked in full only when
 * the answer would otherwise be WHO or OOB, else found by the copy itself, which ends the run).
 */
function peek(s: PvmRefineState, ctx: PvmHostContext): Verdict {
  const r = ctx.registers;
  const [n, o, src, z] = [r[7]!, r[8]!, r[9]!, r[10]!];
  if (!charge(ctx, copyGas(z))) return 'out-of-gas';
  if (o + z > ADDRESS_SPACE) return 'panic';
  const error = !s.machines.has(n) ? HOST_WHO : !s.machines.readable(n, src, z) ? HOST_OOB : undefined;
  if (error !== undefined) {
    if (!guestWritable(ctx, o, z)) return 'panic';
    r[7] = error;
    return;
  }
  let written = true;
  s.machines.read(n, src, z, (at, bytes) => {
    written &&= writeGuest(ctx, o + BigInt(at), bytes);
  });
  if (!written) return 'panic';
  r[7] = HOST_OK;
}

/**
 * GP 0.7.2 `poke` (10): ω7 machine, ω8 outer source, ω9 inner destination, ω10 length; OK, WHO,
 * OOB; panic when the source is not readable (checked first, as GP does; a source of one chunk is
 * read once).
 */
function poke(s: PvmRefineState, ctx: PvmHostContext): Verdict {
  const r = ctx.registers;
  const [n, src, o, z] = [r[7]!, r[8]!, r[9]!, r[10]!];
  if (!charge(ctx, copyGas(z))) return 'out-of-gas';
  const single = z <= BigInt(COPY_CHUNK) ? readGuest(ctx, src, z) : undefined;
  if (single === null || (single === undefined && !guestReadable(ctx, src, z))) return 'panic';
  if (!s.machines.has(n)) {
    r[7] = HOST_WHO;
    return;
  }
  if (!s.machines.writable(n, o, z)) {
    r[7] = HOST_OOB;
    return;
  }
  if (single !== undefined) s.machines.write(n, o, single);
  else
    for (let at = 0n; at < z; at += BigInt(COPY_CHUNK)) {
      const k = z - at < BigInt(COPY_CHUNK) ? z - at : BigInt(COPY_CHUNK);
      s.machines.write(n, o + at, readGuest(ctx, src + at, k)!);
    }
  r[7] = HOST_OK;
}

/** GP 0.7.2 `pages` (11): ω7 machine, ω8 first page, ω9 count, ω10 mode 0-4; OK, WHO, HUH. */
function pages(s: PvmRefineState, ctx: PvmHostContext): Verdict {
  const r = ctx.registers;
  if (!s.machines.has(r[7]!)) {
    r[7] = HOST_WHO;
    return;
  }
  const plan = s.machines.planPages(r[7]!, r[8]!, r[9]!, r[10]!);
  if (plan === 'huh') {
    r[7] = HOST_HUH;
    return;
  }
  if (!charge(ctx, BigInt(plan.pages) + copyGas(plan.bytes))) return 'out-of-gas';
  plan.apply();
  r[7] = HOST_OK;
}

/** Bytes of `invoke`'s memory block: E8(gas) ++ 13 × E8(register). */
const INVOKE_BLOCK = 8 + 13 * 8;

/**
 * GP 0.7.2 `invoke` (12): ω7 machine, ω8 address of E8(gas) ++ E8(ω0..ω12) (112 bytes, panic when
 * not writable); runs the machine, writes its gas left and registers back there; ω7 = exit (0 halt,
 * 1 panic, 2 fault, 3 host, 4 out of gas), ω8 = host-call index or fault address; WHO. The inner
 * gas used is also charged to this machine (ours: GP charges 10), out of gas when it has less left.
 */
function invoke(s: PvmRefineState, ctx: PvmHostContext): Verdict {
  const r = ctx.registers;
  const [n, o] = [r[7]!, r[8]!];
  if (!guestWritable(ctx, o, BigInt(INVOKE_BLOCK))) return 'panic';
  if (!s.machines.has(n)) {
    r[7] = HOST_WHO;
    return;
  }
  const block = readGuest(ctx, o, BigInt(INVOKE_BLOCK))!;
  const gas = readU64(block, 0);
  const registers = Array.from({ length: 13 }, (_, i) => readU64(block, 8 + i * 8));
  const budget = gas < ctx.gasLeft ? gas : ctx.gasLeft;
  const res = s.machines.invoke(n, registers, budget);
  if (res === 'memory') return 'panic';
  // the inner machine ran out of our gas, not its own: this machine is out of gas
  if (res.exit === 4n && budget < gas) return 'out-of-gas';
  ctx.gasLeft -= res.gasUsed;
  writeU64(block, 0, res.gasLeft);
  res.registers.forEach((v, i) => writeU64(block, 8 + i * 8, v));
  writeGuest(ctx, o, block);
  r[7] = res.exit;
  if (res.arg !== undefined) r[8] = res.arg;
}

/** GP 0.7.2 `expunge` (13): ω7 machine; ω7 = its pc, WHO. */
function expunge(s: PvmRefineState, ctx: PvmHostContext): Verdict {
  const pc = s.machines.expunge(ctx.registers[7]!);
  ctx.registers[7] = pc === null ? HOST_WHO : pc;
}

/** The host-call handler of one PVM refine run over `state`. */
export function refineHostCalls(state: PvmRefineState): PvmHostCallHandler {
  return (ctx) => {
    switch (ctx.index) {
      case PVM_HOST_GAS:
        ctx.registers[7] = ctx.gasLeft;
        return;
      case PVM_HOST_FETCH:
        return fetch(state, ctx);
      case PVM_HOST_LOOKUP:
      case PVM_HOST_HISTORICAL_LOOKUP:
        return lookup(state, ctx);
      case PVM_HOST_EXPORT:
        return exportSegment(state, ctx);
      case PVM_HOST_MACHINE:
        return machine(state, ctx);
      case PVM_HOST_PEEK:
        return peek(state, ctx);
      case PVM_HOST_POKE:
        return poke(state, ctx);
      case PVM_HOST_PAGES:
        return pages(state, ctx);
      case PVM_HOST_INVOKE:
        return invoke(state, ctx);
      case PVM_HOST_EXPUNGE:
        return expunge(state, ctx);
      case PVM_HOST_LOG:
        return pvmLog(state, ctx);
      default:
        ctx.registers[7] = HOST_WHAT;
    }
  };
}
