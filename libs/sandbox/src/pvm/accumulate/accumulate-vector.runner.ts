/**
 * Runs one accumulate STF test vector (JAM conformance vectors `stf/accumulate/tiny/*.json`, GP
 * 0.7.2; copy with provenance in test/fixtures/jam-vectors/stf/accumulate/) through the GP
 * accumulation of this module: the vector's accounts become the partial state, its reports the
 * available reports, its slot and entropy the context. Compares the output root and the post-state
 * the vector gives: slot, entropy, ready queue (package hashes and dependencies), accumulated
 * history, privileges, statistics (accumulate count and gas; the other fields zero) and every
 * account (metadata, storage, preimages, preimage requests). Used by
 * test/sandbox/accumulate-vectors.spec.ts and `npm run bench -- accumulate-vectors`.
 */
import { parseJamJson, workReportFromJson, type WorkReport } from '@jam/domain';
import { hex, requestKey, TINY_ACCUMULATE_CONFIG, type PartialState, type ServiceAccount } from './accumulate-state';
import { accumulateStf, type AccumulateStfResult, type AccumulateStfState, type ReadyRecord } from './accumulate-stf';

/** Outcome of one vector: `mismatches` is empty when everything matched. */
export interface AccumulateVectorResult {
  name: string;
  /** Work reports given as input. */
  reports: number;
  /** Gas used by all services (gas). */
  gasUsed: bigint;
  mismatches: string[];
}

type Json = Record<string, unknown>;

const int = (v: unknown): bigint => (typeof v === 'bigint' ? v : BigInt(v as number));
const num = (v: unknown): number => Number(int(v));
const bytes = (v: unknown): Uint8Array => Buffer.from(String(v).replace(/^0x/, ''), 'hex');
const list = (v: unknown): Json[] => v as Json[];

function account(j: Json): ServiceAccount {
  const s = j['service'] as Json;
  return {
    info: {
      codeHash: bytes(s['code_hash']),
      balance: int(s['balance']),
      minItemGas: int(s['min_item_gas']),
      minMemoGas: int(s['min_memo_gas']),
      bytes: int(s['bytes']),
      depositOffset: int(s['deposit_offset']),
      items: num(s['items']),
      creationSlot: num(s['creation_slot']),
      lastAccumulationSlot: num(s['last_accumulation_slot']),
      parentService: num(s['parent_service']),
    },
    storage: new Map(list(j['storage']).map((e) => [hex(bytes(e['key'])), bytes(e['value'])])),
    preimages: new Map(list(j['preimage_blobs']).map((e) => [hex(bytes(e['hash'])), bytes(e['blob'])])),
    requests: new Map(
      list(j['preimage_requests']).map((e) => {
        const k = e['key'] as Json;
        return [requestKey(bytes(k['hash']), num(k['length'])), (e['value'] as unknown[]).map(num)];
      }),
    ),
  };
}

function state(j: Json): AccumulateStfState {
  const p = j['privileges'] as Json;
  const partial: PartialState = {
    accounts: new Map(list(j['accounts']).map((a) => [num(a['id']), account(a['data'] as Json)])),
    privileges: {
      manager: num(p['bless']),
      assigners: (p['assign'] as unknown[]).map(num),
      delegator: num(p['designate']),
      registrar: num(p['register']),
      alwaysAccumulate: new Map(list(p['always_acc']).map((z) => [num(z['id']), int(z['gas'])])),
    },
    stagingSet: [],
    authQueues: [],
  };
  const ready = (j['ready_queue'] as Json[][]).map((slot) =>
    slot.map((r): ReadyRecord => ({ report: workReportFromJson(r['report']), dependencies: (r['dependencies'] as unknown[]).map(bytes) })),
  );
  return {
    slot: num(j['slot']),
    entropy: bytes(j['entropy']),
    readyQueue: ready,
    accumulated: (j['accumulated'] as unknown[][]).map((s) => s.map(bytes)),
    partial,
  };
}

function accountView(a: ServiceAccount): unknown {
  const i = a.info;
  return {
    info: {
      ...i,
      codeHash: hex(i.codeHash),
      balance: `${i.balance}`,
      minItemGas: `${i.minItemGas}`,
      minMemoGas: `${i.minMemoGas}`,
      bytes: `${i.bytes}`,
      depositOffset: `${i.depositOffset}`,
    },
    storage: [...a.storage].map(([k, v]) => `${k}=${hex(v)}`).sort(),
    preimages: [...a.preimages].map(([k, v]) => `${k}:${v.length}:${hex(v).slice(0, 64)}`).sort(),
    requests: [...a.requests].map(([k, v]) => `${k}=${v.join(',')}`).sort(),
  };
}

function compare(what: string, got: unknown, want: unknown, out: string[]): void {
  const [g, w] = [JSON.stringify(got), JSON.stringify(want)];
  if (g !== w) out.push(`${what}: got ${g.slice(0, 400)}, expected ${w.slice(0, 400)}`);
}

const queueView = (q: ReadyRecord[][]) => q.map((slot) => slot.map((r) => ({ pkg: hex(r.report.package_spec.hash), deps: r.dependencies.map(hex) })));

function statisticsView(j: Json[]): unknown {
  return j.map((s) => {
    const r = s['record'] as Json;
    const others = Object.entries(r).filter(([k, v]) => !k.startsWith('accumulate_') && num(v) !== 0);
    return { service: num(s['id']), count: num(r['accumulate_count']), gasUsed: `${int(r['accumulate_gas_used'])}`, others: others.map(([k]) => k) };
  });
}

/** A vector read into the STF's types: the input, the pre-state and what it expects. */
export interface AccumulateVector {
  name: string;
  slot: number;
  reports: WorkReport[];
  pre: AccumulateStfState;
  post: AccumulateStfState;
  /** Hex of the expected output root, or 'err'. */
  output: string;
  /** The expected statistics (JSON form). */
  statistics: Json[];
}

/**
 * Reads one vector given as JSON text (numbers up to 2^64 - 1 as BigInt).
 * @throws Error when the text is not a well-formed vector
 */
export function parseAccumulateVector(name: string, text: string): AccumulateVector {
  const t = parseJamJson(text) as Json;
  const input = t['input'] as Json;
  const postJson = t['post_state'] as Json;
  const output = t['output'] as Json;
  return {
    name,
    slot: num(input['slot']),
    reports: list(input['reports']).map((r) => workReportFromJson(r)),
    pre: state(t['pre_state'] as Json),
    post: state(postJson),
    output: 'ok' in output ? hex(bytes(output['ok'])) : 'err',
    statistics: list(postJson['statistics']),
  };
}

/**
 * Runs a parsed vector through `accumulateStf` (tiny chain spec) and compares everything it expects.
 * @throws only on an engine fault of the PVM interpreter
 */
export function checkAccumulateVector(v: AccumulateVector): AccumulateVectorResult {
  return compareAccumulateVector(v, accumulateStf(TINY_ACCUMULATE_CONFIG, v.pre, v.slot, v.reports));
}

/**
 * Compares what an accumulation produced for a vector (`r`: the post-state, output root and
 * statistics, from `accumulateStf` or read back from wherever it was stored) with everything the
 * vector expects.
 */
export function compareAccumulateVector(v: AccumulateVector, r: Pick<AccumulateStfResult, 'state' | 'root' | 'statistics'>): AccumulateVectorResult {
  const { post } = v;
  const mismatches: string[] = [];
  compare('output', hex(r.root), v.output, mismatches);
  compare('slot', r.state.slot, post.slot, mismatches);
  compare('entropy', hex(r.state.entropy), hex(post.entropy), mismatches);
  compare('ready_queue', queueView(r.state.readyQueue), queueView(post.readyQueue), mismatches);
  compare(
    'accumulated',
    r.state.accumulated.map((s) => s.map(hex)),
    post.accumulated.map((s) => s.map(hex)),
    mismatches,
  );
  const privileges = (p: PartialState['privileges']) => ({
    m: p.manager,
    a: p.assigners,
    v: p.delegator,
    r: p.registrar,
    z: [...p.alwaysAccumulate].map(([s, g]) => `${s}:${g}`),
  });
  compare('privileges', privileges(r.state.partial.privileges), privileges(post.partial.privileges), mismatches);
  const stats = r.statistics.map((s) => ({ service: s.service, count: s.count, gasUsed: `${s.gasUsed}`, others: [] }));
  compare('statistics', stats, statisticsView(v.statistics), mismatches);
  const ids = (p: PartialState) => [...p.accounts.keys()].sort((a, b) => a - b);
  compare('account ids', ids(r.state.partial), ids(post.partial), mismatches);
  for (const id of ids(post.partial)) {
    const got = r.state.partial.accounts.get(id);
    if (got !== undefined) compare(`account ${id}`, accountView(got), accountView(post.partial.accounts.get(id)!), mismatches);
  }
  return { name: v.name, reports: v.reports.length, gasUsed: r.statistics.reduce((s, x) => s + x.gasUsed, 0n), mismatches };
}

/**
 * Reads and runs one vector given as JSON text (`parseAccumulateVector` + `checkAccumulateVector`).
 * @throws Error when the text is not a well-formed vector; an engine abort propagates
 */
export function runAccumulateVector(name: string, text: string): AccumulateVectorResult {
  return checkAccumulateVector(parseAccumulateVector(name, text));
}
