/**
 * The accumulation state transition of GP 0.7.2 section 12: which available work reports are
 * accumulated now and which wait in the ready queue for their prerequisites (12.1-12.2), the
 * outer, parallel and single-service accumulation (Δ+, Δ*, Δ1; 12.3), the accumulated history,
 * the accumulation output root and the accumulation statistics (12.4, 13).
 *
 * Pure: takes the pre-state and returns a new post-state (the partial state's accounts are copied
 * where changed). Requires `initAccumulateHashing()` (Blake2b and Keccak) to have resolved.
 */
import { blake2b256, initHashing, type WorkReport } from '@jam/domain';
import { createKeccak, type IHasher } from 'hash-wasm';
import type { AccumulateInput, DeferredTransfer } from './accumulate-host-calls';
import { accumulateService, encodeOperand, type ServiceAccumulation } from './accumulate-invocation';
import { clonePartialState, hex, requestKey, type AccumulateChainConfig, type PartialState } from './accumulate-state';

/** A ready-queue entry (GP 0.7.2 section 12 ϑ item): a report and the package hashes it still waits for. */
export interface ReadyRecord {
  report: WorkReport;
  /** Package hashes (32 bytes) not yet accumulated. */
  dependencies: Uint8Array[];
}

/** The state accumulation reads and writes. */
export interface AccumulateStfState {
  /** τ: the previous block's timeslot. */
  slot: number;
  /** η'_0: the posterior entropy accumulator (32 bytes). */
  entropy: Uint8Array;
  /** ϑ: E slots of ready records. */
  readyQueue: ReadyRecord[][];
  /** ξ: E slots of accumulated package hashes. */
  accumulated: Uint8Array[][];
  /** The partial state: accounts, privileges, staging set, authorizer queues. */
  partial: PartialState;
}

/** One service's accumulation statistics this block (GP 0.7.2 section 12.4, S: count of digests, gas used). */
export interface AccumulateStatistics {
  service: number;
  /** Work digests of the service accumulated this block. */
  count: number;
  gasUsed: bigint;
}

/** Result of the accumulation STF. */
export interface AccumulateStfResult {
  state: AccumulateStfState;
  /** The accumulation output root (θ' commitment): Keccak binary Merkle root of E4(s) ++ h, sorted. */
  root: Uint8Array;
  /** The (service, yield) pairs the root commits to, sorted. */
  outputs: { service: number; hash: Uint8Array }[];
  statistics: AccumulateStatistics[];
}

let keccak: IHasher | undefined;

/** Loads the hashers the STF uses (Blake2b-256 and Keccak-256). Idempotent. */
export async function initAccumulateHashing(): Promise<void> {
  await initHashing();
  keccak ??= await createKeccak(256);
}

function keccak256(...parts: Uint8Array[]): Uint8Array {
  if (keccak === undefined) throw new Error('accumulate hashing is not initialised: await initAccumulateHashing()');
  keccak.init();
  for (const p of parts) keccak.update(p);
  return keccak.digest('binary');
}

/** GP 0.7.2 appendix E M_B with Keccak: the well-balanced binary Merkle root (32 zero bytes when empty). */
export function binaryMerkleRoot(leaves: Uint8Array[]): Uint8Array {
  if (leaves.length === 0) return new Uint8Array(32);
  if (leaves.length === 1) return keccak256(leaves[0]!);
  const node = (v: Uint8Array[]): Uint8Array => {
    if (v.length === 1) return v[0]!;
    const mid = Math.ceil(v.length / 2);
    return keccak256(Buffer.from('node'), node(v.slice(0, mid)), node(v.slice(mid)));
  };
  return node(leaves);
}

const pkg = (r: WorkReport): string => hex(r.package_spec.hash);

/** E of GP 0.7.2 section 12: drops records whose package is in `done` and removes `done` from the dependencies. */
function edit(records: readonly ReadyRecord[], done: ReadonlySet<string>): ReadyRecord[] {
  return records.filter((r) => !done.has(pkg(r.report))).map((r) => ({ report: r.report, dependencies: r.dependencies.filter((d) => !done.has(hex(d))) }));
}

/** Q of GP 0.7.2 section 12: the reports whose dependencies are met, in order, repeatedly. */
function accumulatable(records: ReadyRecord[]): WorkReport[] {
  const out: WorkReport[] = [];
  let rest = records;
  for (;;) {
    const ready = rest.filter((r) => r.dependencies.length === 0).map((r) => r.report);
    if (ready.length === 0) return out;
    out.push(...ready);
    rest = edit(rest, new Set(ready.map(pkg)));
  }
}

interface Batch {
  state: PartialState;
  transfers: DeferredTransfer[];
  outputs: Map<string, { service: number; hash: Uint8Array }>;
  gas: Map<number, bigint>;
}

/** R of GP 0.7.2 section 12: the holder's own change wins only when the manager left the value as it was. */
const pick = (original: number, byManager: number, byHolder: number): number => (byManager === original ? byHolder : byManager);

/** Δ* of GP 0.7.2 section 12: every service of the batch accumulates from the same state; results merge. */
function parallel(
  cfg: AccumulateChainConfig,
  e: PartialState,
  transfers: DeferredTransfer[],
  reports: WorkReport[],
  free: Map<number, bigint>,
  slot: number,
  entropy: Uint8Array,
): Batch {
  const inputs = new Map<number, { list: AccumulateInput[]; gas: bigint }>();
  const entry = (s: number) => inputs.get(s) ?? inputs.set(s, { list: [], gas: 0n }).get(s)!;
  for (const t of transfers) {
    const x = entry(t.destination);
    x.list.push({ kind: 'transfer', transfer: t });
    x.gas += t.gas;
  }
  for (const r of reports)
    r.results.forEach((d, i) => {
      const x = entry(d.service_id);
      x.list.push({ kind: 'operand', encoded: encodeOperand(r, i), gas: d.accumulate_gas });
      x.gas += d.accumulate_gas;
    });
  for (const [s, g] of free) entry(s).gas += g;
  const services = [...inputs.keys()].sort((a, b) => a - b);
  const results = new Map<number, ServiceAccumulation>();
  for (const s of services) {
    const x = inputs.get(s)!;
    results.set(s, accumulateService(cfg, e, slot, entropy, s, x.gas, x.list));
  }
  return merge(e, services, results, slot);
}

function merge(e: PartialState, services: number[], results: Map<number, ServiceAccumulation>, slot: number): Batch {
  const post = clonePartialState(e);
  const removed = new Set<number>();
  const provisions: { service: number; blob: Uint8Array }[] = [];
  const out: Batch = { state: post, transfers: [], outputs: new Map(), gas: new Map() };
  for (const s of services) {
    const r = results.get(s)!;
    out.gas.set(s, r.gasUsed);
    out.transfers.push(...r.transfers);
    if (r.yieldHash !== null) out.outputs.set(`${s}:${hex(r.yieldHash)}`, { service: s, hash: r.yieldHash });
    provisions.push(...r.provisions);
    // n: the service's own account and the accounts it created; m: the accounts it removed
    for (const [id, a] of r.state.accounts) if (id === s || !e.accounts.has(id)) post.accounts.set(id, a);
    for (const id of e.accounts.keys()) if (!r.state.accounts.has(id)) removed.add(id);
  }
  for (const id of removed) post.accounts.delete(id);
  const after = (s: number): PartialState => results.get(s)?.state ?? e;
  const p = e.privileges;
  const m = after(p.manager).privileges;
  post.privileges = {
    manager: m.manager,
    alwaysAccumulate: new Map(m.alwaysAccumulate),
    assigners: p.assigners.map((a, c) => pick(a, m.assigners[c] ?? a, after(a).privileges.assigners[c] ?? a)),
    delegator: pick(p.delegator, m.delegator, after(p.delegator).privileges.delegator),
    registrar: pick(p.registrar, m.registrar, after(p.registrar).privileges.registrar),
  };
  post.stagingSet = after(p.delegator).stagingSet;
  post.authQueues = e.authQueues.map((q, c) => after(p.assigners[c]!).authQueues[c] ?? q);
  // P of GP 0.7.2 section 12: provided preimages still solicited become available now
  return { ...out, state: integrate(post, provisions, slot) };
}

function integrate(state: PartialState, provisions: { service: number; blob: Uint8Array }[], slot: number): PartialState {
  for (const { service, blob } of provisions) {
    const a = state.accounts.get(service);
    if (a === undefined) continue;
    const h = blake2b256(blob);
    const key = requestKey(h, blob.length);
    if (a.requests.get(key)?.length !== 0) continue;
    const copy = { ...a, info: { ...a.info }, preimages: new Map(a.preimages), requests: new Map(a.requests) };
    copy.preimages.set(hex(h), blob);
    copy.requests.set(key, [slot]);
    state.accounts.set(service, copy);
  }
  return state;
}

/** Δ+ of GP 0.7.2 section 12: batches of reports within the gas limit, each batch's transfers feeding the next. */
function outer(
  cfg: AccumulateChainConfig,
  gasLimit: bigint,
  transfers: DeferredTransfer[],
  reports: WorkReport[],
  e: PartialState,
  free: Map<number, bigint>,
  slot: number,
  entropy: Uint8Array,
) {
  let count = 0;
  let outputs = new Map<string, { service: number; hash: Uint8Array }>();
  const gas: [number, bigint][] = [];
  let [g, t, rest, state, f] = [gasLimit, transfers, reports, e, free];
  for (;;) {
    let i = 0;
    let sum = 0n;
    for (const r of rest) {
      const need = r.results.reduce((s, d) => s + d.accumulate_gas, 0n);
      if (sum + need > g) break;
      sum += need;
      i++;
    }
    if (i + t.length + f.size === 0) return { count, state, outputs, gas };
    const b = parallel(cfg, state, t, rest.slice(0, i), f, slot, entropy);
    count += i;
    outputs = new Map([...outputs, ...b.outputs]);
    gas.push(...b.gas);
    const used = [...b.gas.values()].reduce((s, x) => s + x, 0n);
    g = g + t.reduce((s, x) => s + x.gas, 0n) - used;
    [t, rest, state, f] = [b.transfers, rest.slice(i), b.state, new Map()];
  }
}

/**
 * The accumulation STF (GP 0.7.2 section 12): `reports` (W, newly available) at timeslot `slot`
 * (τ' = H_t) over `pre`. Returns the post-state, the accumulation output root and the statistics.
 * Reports without prerequisites or segment-root lookups are accumulated at once; others wait in
 * the ready queue until every package they depend on is in the accumulated history.
 * @throws Error when hashing is not initialised (`initAccumulateHashing`)
 */
export function accumulateStf(cfg: AccumulateChainConfig, pre: AccumulateStfState, slot: number, reports: WorkReport[]): AccumulateStfResult {
  const E = cfg.epochLength;
  const m = slot % E;
  const history = new Set(pre.accumulated.flat().map(hex));
  const now = reports.filter((r) => r.context.prerequisites.length === 0 && r.segment_root_lookup.length === 0);
  const deps = (r: WorkReport): Uint8Array[] => [...r.context.prerequisites, ...r.segment_root_lookup.map((l) => l.work_package_hash)];
  const queued = edit(
    reports.filter((r) => !now.includes(r)).map((r) => ({ report: r, dependencies: deps(r) })),
    history,
  );
  const rotated = [...pre.readyQueue.slice(m), ...pre.readyQueue.slice(0, m)].flat();
  const all = [...now, ...accumulatable(edit([...rotated, ...queued], new Set(now.map(pkg))))];
  const free = pre.partial.privileges.alwaysAccumulate;
  const freeGas = [...free.values()].reduce((s, g) => s + g, 0n);
  const minimum = cfg.reportAccumulateGas * BigInt(cfg.cores) + freeGas;
  const gasLimit = cfg.totalAccumulateGas > minimum ? cfg.totalAccumulateGas : minimum;
  const o = outer(cfg, gasLimit, [], all, pre.partial, new Map(free), slot, pre.entropy);
  const done = all.slice(0, o.count);
  const doneSet = new Set(done.map(pkg));
  const newest = [...new Map(done.map((r) => [pkg(r), r.package_spec.hash])).values()].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  const accumulated = [...pre.accumulated.slice(1), newest];
  const readyQueue: ReadyRecord[][] = Array.from({ length: E }, () => []);
  for (let i = 0; i < E; i++) {
    const at = (((m - i) % E) + E) % E;
    if (i === 0) readyQueue[at] = edit(queued, doneSet);
    else if (i < slot - pre.slot) readyQueue[at] = [];
    else readyQueue[at] = edit(pre.readyQueue[at]!, doneSet);
  }
  const statistics = accumulationStatistics(done, o.gas);
  const partial = o.state === pre.partial ? clonePartialState(pre.partial) : o.state;
  for (const s of statistics) {
    const a = partial.accounts.get(s.service);
    if (a !== undefined) partial.accounts.set(s.service, { ...a, info: { ...a.info, lastAccumulationSlot: slot } });
  }
  const outputs = [...o.outputs.values()].sort((a, b) => a.service - b.service || Buffer.compare(Buffer.from(a.hash), Buffer.from(b.hash)));
  const leaves = outputs.map(({ service, hash }) => {
    const b = new Uint8Array(36);
    new DataView(b.buffer).setUint32(0, service, true);
    b.set(hash, 4);
    return b;
  });
  return { state: { slot, entropy: pre.entropy, readyQueue, accumulated, partial }, root: binaryMerkleRoot(leaves), outputs, statistics };
}

function accumulationStatistics(done: WorkReport[], gas: [number, bigint][]): AccumulateStatistics[] {
  const stats = new Map<number, AccumulateStatistics>();
  const at = (s: number) => stats.get(s) ?? stats.set(s, { service: s, count: 0, gasUsed: 0n }).get(s)!;
  for (const [s, g] of gas) at(s).gasUsed += g;
  for (const r of done) for (const d of r.results) at(d.service_id).count++;
  return [...stats.values()].filter((s) => s.count > 0 || s.gasUsed > 0n).sort((a, b) => a.service - b.service);
}
