/**
 * `accumulatePvmServices` with in-memory stand-ins for the GP state, the accumulator and the
 * accumulation repository: what it asks the GP path to run (the report restricted to the PVM
 * services, without prerequisites), the account it creates at a service's first accumulation, the
 * rows it writes, and how it counts failures that are not guest results. The real path
 * (PostgreSQL, executors, the pipeline) is covered by test/accumulate/gp-accumulate-vectors and
 * test/e2e/pvm-accumulate.
 */
import type { WorkReport } from '@jam/domain';
import { GpStateLimitError, type AccumulationRepository, type GpAccountInfo, type GpAccumulationRow, type GpStateRepository } from '@jam/persistence';
import { SandboxExecutorError, type AccumulateStfResult } from '@jam/sandbox';
import { JamMetrics, createLogger } from '@jam/telemetry';
import { GpAccumulateWallClockError, type GpAccumulateInput, type GpAccumulator } from './gp-accumulator';
import { accumulatePvmServices, productServiceBalance, type PvmAccumulateDeps } from './pvm-accumulate';

const zero = new Uint8Array(32);
const HASH = `0x${'11'.repeat(32)}`;
const digest = (service: number) => ({
  service_id: service,
  code_hash: zero,
  payload_hash: zero,
  accumulate_gas: 1000n,
  result: { ok: new Uint8Array(0) },
  refine_load: { gas_used: 0n, imports: 0, extrinsic_count: 0, extrinsic_size: 0, exports: 0 },
});
const report: WorkReport = {
  package_spec: { hash: zero, length: 1, erasure_root: zero, exports_root: zero, exports_count: 0 },
  context: { anchor: zero, state_root: zero, beefy_root: zero, lookup_anchor: zero, lookup_anchor_slot: 0, prerequisites: [new Uint8Array(32).fill(9)] },
  core_index: 0,
  authorizer_hash: zero,
  auth_gas_used: 0n,
  auth_output: new Uint8Array(0),
  segment_root_lookup: [],
  results: [digest(7), digest(8)],
} as unknown as WorkReport;

function setup(run: (input: GpAccumulateInput) => Promise<AccumulateStfResult>, opts: { maxFailures?: number } = {}) {
  const created: { owner: string; id: number; info: GpAccountInfo; preimages: Map<string, Uint8Array> }[] = [];
  const refused: GpAccumulationRow[] = [];
  const inputs: GpAccumulateInput[] = [];
  const rows: GpAccumulationRow[] = [];
  const failures = new Map<number, number>();
  const state = {
    hasAccount: async (id: number) => created.some((c) => c.id === id),
    createAccount: async (owner: string, id: number, info: GpAccountInfo, preimages: Map<string, Uint8Array>) => {
      created.push({ owner, id, info, preimages });
      return true;
    },
    accumulated: async (hash: string, ids: number[]) => ids.every((id) => rows.some((r) => r.reportHash === hash && r.serviceId === id)),
    recordWithoutState: async (r: GpAccumulationRow[]) => {
      refused.push(...r);
    },
  } as unknown as GpStateRepository;
  const accumulator = {
    accumulate: async (input: GpAccumulateInput) => {
      inputs.push(input);
      const result = await run(input);
      rows.push(...(input.rows?.(result) ?? []));
      return { status: 'applied', result, logs: [] };
    },
  } as unknown as GpAccumulator;
  const maxFailures = opts.maxFailures ?? 2;
  const accumulations = {
    recordSandboxFailure: async (o: { serviceId: number; kind: string }) => {
      const n = (failures.get(o.serviceId) ?? 0) + 1;
      failures.set(o.serviceId, n);
      const final = n >= maxFailures;
      return { failures: n, final, applied: final, status: final ? (o.kind === 'wall_clock' ? 'timed_out' : 'sandbox_failed') : undefined };
    },
  } as unknown as AccumulationRepository;
  const deps: PvmAccumulateDeps = {
    gp: { accumulator, state },
    accumulations,
    storageQuota: { maxBytes: 1_000_000, maxItems: 1_000 },
    maxAccumulateTimeouts: maxFailures,
    maxSandboxFailures: maxFailures,
    metrics: new JamMetrics({ defaultMetrics: false }),
    logger: createLogger({ level: 'silent' }),
  };
  const job = {
    report,
    reportHash: HASH,
    packageHash: HASH,
    priority: 3,
    services: [{ serviceId: 7, owner: 'alice', code: Uint8Array.of(1, 2, 3), codeHash: `0x${'ab'.repeat(32)}`, minItemGas: 5n, minMemoGas: 6n }],
  };
  return { deps, job, created, inputs, rows, failures, refused };
}

const stfResult = (gas: bigint) => ({ statistics: [{ service: 7, count: 1, gasUsed: gas }] }) as unknown as AccumulateStfResult;

describe('accumulatePvmServices', () => {
  it('runs one GP accumulation of the PVM digests only, without prerequisites, and writes one ok row per service with its gas', async () => {
    const t = setup(async () => stfResult(1234n));
    expect(await accumulatePvmServices(t.deps, t.job)).toEqual([]);
    expect(t.inputs).toHaveLength(1);
    const r = t.inputs[0]!.reports[0]!;
    expect(r.results.map((d) => d.service_id)).toEqual([7]);
    expect(r.context.prerequisites).toEqual([]);
    expect(t.inputs[0]!.priority).toBe(3);
    expect(t.rows).toEqual([{ reportHash: HASH, packageHash: HASH, serviceId: 7, status: 'ok', gasUsed: 1234n }]);
  });

  it('creates the GP account at the first accumulation only: code as preimage, gas minima, the balance of a full quota', async () => {
    const t = setup(async () => stfResult(1n));
    await accumulatePvmServices(t.deps, t.job);
    await accumulatePvmServices(t.deps, t.job);
    expect(t.created).toHaveLength(1);
    const c = t.created[0]!;
    expect(c.id).toBe(7);
    expect([...c.preimages]).toEqual([['ab'.repeat(32), Uint8Array.of(1, 2, 3)]]);
    expect(c.info).toMatchObject({ minItemGas: 5n, minMemoGas: 6n, balance: productServiceBalance(t.deps.storageQuota) });
    // B_S + B_I·items + B_L·bytes of the full chain spec: 100 + 10·1,000 + 1·1,000,000
    expect(productServiceBalance(t.deps.storageQuota)).toBe(1_010_100n);
  });

  it('runs nothing on a redelivery whose accumulation rows are already written', async () => {
    const t = setup(async () => stfResult(1n));
    await accumulatePvmServices(t.deps, t.job);
    await accumulatePvmServices(t.deps, t.job);
    expect(t.inputs).toHaveLength(1);
  });

  it("runs one accumulation per owner over that owner's services, and creates each account as its owner's", async () => {
    const t = setup(async () => stfResult(1n));
    const bob = { ...t.job.services[0]!, serviceId: 8, owner: 'bob' };
    expect(await accumulatePvmServices(t.deps, { ...t.job, services: [bob, ...t.job.services] })).toEqual([]);
    expect(t.inputs.map((i) => [i.owner, i.reports[0]!.results.map((d) => d.service_id)])).toEqual([
      ['alice', [7]],
      ['bob', [8]],
    ]);
    expect(t.created.map((c) => [c.owner, c.id])).toEqual([
      ['alice', 7],
      ['bob', 8],
    ]);
  });

  it('records storage_over_limit without state when the GP state refuses the accumulation (state too large, id taken)', async () => {
    const t = setup(async () => {
      throw new GpStateLimitError('state_too_large', 'over the snapshot limits');
    });
    expect(await accumulatePvmServices(t.deps, t.job)).toEqual([{ serviceId: 7, status: 'storage_over_limit' }]);
    expect(t.refused).toEqual([{ reportHash: HASH, packageHash: HASH, serviceId: 7, status: 'storage_over_limit', gasUsed: 0n }]);
    expect(t.failures.size).toBe(0);
  });

  it('counts a wall-clock kill per service, rethrows it below the bound, and records timed_out at the bound', async () => {
    const t = setup(async () => {
      throw new GpAccumulateWallClockError('killed');
    });
    await expect(accumulatePvmServices(t.deps, t.job)).rejects.toBeInstanceOf(GpAccumulateWallClockError);
    expect(await accumulatePvmServices(t.deps, t.job)).toEqual([{ serviceId: 7, status: 'timed_out' }]);
    expect(t.failures.get(7)).toBe(2);
    expect(t.rows).toEqual([]);
  });

  it('counts an executor failure the same way (sandbox_failed) and rethrows other errors uncounted', async () => {
    const t = setup(
      async () => {
        throw new SandboxExecutorError('crashed', 'gone');
      },
      { maxFailures: 1 },
    );
    expect(await accumulatePvmServices(t.deps, t.job)).toEqual([{ serviceId: 7, status: 'sandbox_failed' }]);
    const u = setup(async () => {
      throw new Error('connection reset');
    });
    await expect(accumulatePvmServices(u.deps, u.job)).rejects.toThrow('connection reset');
    expect(u.failures.size).toBe(0);
  });
});
