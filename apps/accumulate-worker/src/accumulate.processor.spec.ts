/**
 * Unit tests of the accumulate processor's decisions (one module: the repositories and the
 * sandbox are in-memory stand-ins; the accumulation stand-in keeps the repository's rules: one
 * row per (report, service), writes applied with the row, failures counted per kind until the
 * bound, then recorded as the final row; the blob store is a real filesystem store in a temp dir).
 * What runs, what is applied exactly once, what is counted and retried, and when the package
 * fails (docs/architecture.md section 6). The worker path with PostgreSQL, Redis and real
 * processes: test/accumulate/*.e2e-spec.ts.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { blake2b256, encodeWorkReport, initHashing, toHex, type WorkDigest, type WorkExecResult, type WorkReport } from '@jam/domain';
import { BlobUnavailableError, FilesystemBlobStore, type BlobStore } from '@jam/blob-store';
import { PermanentJobError } from '@jam/queue';
import { ACCUMULATE_REPORT_V1, MalformedJobError } from '@jam/queue-contracts';
import { MAX_GAS_LIMIT, SandboxExecutorError, type AccumulateOutcome, type AccumulateRequest, type SandboxPool } from '@jam/sandbox';
import type {
  AccumulationRepository,
  AccumulationStatus,
  ServiceRecord,
  ServiceRepository,
  WorkPackageRecord,
  WorkPackageRepository,
  WorkPackageStatus,
  WorkPackageTransitionFields,
  WorkReportRepository,
} from '@jam/persistence';
import { JamMetrics, createLogger } from '@jam/telemetry';
import { AccumulateProcessor } from './accumulate.processor';

const PKG = `0x${'11'.repeat(32)}`;
const REPORT = `0x${'22'.repeat(32)}`;
const PRIORITY = 9;
const MAX_TIMEOUTS = 2;
const MAX_FAILURES = 3;
const QUOTA = { maxBytes: 1024, maxItems: 2 };
const bytes = (s: string) => new TextEncoder().encode(s);
const hex = (s: string) => toHex(bytes(s));

async function* once(b: Uint8Array): AsyncGenerator<Uint8Array> {
  yield b;
}

/** In-memory `accumulation` + `accumulation_attempt` + `service_storage` with the repository's rules. */
class FakeAccumulations {
  /** (report, service) -> the recorded row */
  readonly rows = new Map<string, { status: AccumulationStatus; gasUsed: bigint }>();
  /** (report, service) -> failures counted per kind */
  readonly attempts = new Map<string, Record<'wall_clock' | 'executor' | 'blob', number>>();
  /** service -> stored state, by 0x-hex key */
  readonly storage = new Map<number, Map<string, Uint8Array>>();
  /** A footprint the database would report for a service, when the test wants one larger than any state it stores. */
  readonly footprintOverride = new Map<number, { bytes: number; items: number }>();
  applyCalls = 0;

  private footprint(serviceId: number) {
    const state = this.storage.get(serviceId) ?? new Map<string, Uint8Array>();
    let total = 0;
    for (const [k, v] of state) total += (k.length - 2) / 2 + v.length;
    return this.footprintOverride.get(serviceId) ?? { bytes: total, items: state.size };
  }

  async applyOnce(opts: {
    reportHash: string;
    serviceId: number;
    loadLimit: { bytes: number; items: number };
    run: (s: {
      footprint: { bytes: number; items: number };
      storage: Map<string, Uint8Array> | null;
    }) => Promise<AccumulateOutcome & { status: AccumulationStatus }>;
  }) {
    this.applyCalls++;
    const key = `${opts.reportHash}/${opts.serviceId}`;
    const done = this.rows.get(key);
    if (done) return { applied: false, status: done.status };
    const footprint = this.footprint(opts.serviceId);
    const within = footprint.bytes <= opts.loadLimit.bytes && footprint.items <= opts.loadLimit.items;
    const state = this.storage.get(opts.serviceId) ?? new Map<string, Uint8Array>();
    // whatever run throws rolls back: nothing below happens
    const outcome = await opts.run({ footprint, storage: within ? new Map(state) : null });
    for (const w of outcome.writes) {
      if (w.value === null) state.delete(toHex(w.key));
      else state.set(toHex(w.key), w.value);
    }
    this.storage.set(opts.serviceId, state);
    this.rows.set(key, { status: outcome.status, gasUsed: outcome.gasUsed });
    return { applied: true, status: outcome.status };
  }

  async recordSandboxFailure(opts: { reportHash: string; serviceId: number; kind: 'wall_clock' | 'executor' | 'blob'; maxFailures: number; gasUsed: bigint }) {
    const key = `${opts.reportHash}/${opts.serviceId}`;
    const counts = this.attempts.get(key) ?? { wall_clock: 0, executor: 0, blob: 0 };
    const done = this.rows.get(key);
    if (done) return { failures: counts[opts.kind], final: true, applied: false, status: done.status };
    counts[opts.kind]++;
    this.attempts.set(key, counts);
    const failures = counts[opts.kind];
    if (failures < opts.maxFailures) return { failures, final: false, applied: false };
    const status = ({ wall_clock: 'timed_out', executor: 'sandbox_failed', blob: 'blob_unavailable' } as const)[opts.kind];
    this.rows.set(key, { status, gasUsed: opts.gasUsed });
    return { failures, final: true, applied: true, status };
  }

  row(serviceId: number) {
    return this.rows.get(`${REPORT}/${serviceId}`);
  }
  counted(serviceId: number) {
    return this.attempts.get(`${REPORT}/${serviceId}`) ?? { wall_clock: 0, executor: 0, blob: 0 };
  }
}

/** What the sandbox does for one accumulate call: an outcome, or an error it throws. */
type GuestBehaviour = (req: AccumulateRequest) => Partial<AccumulateOutcome> | Error;

const ok =
  (writes: [string, string | null][] = []): GuestBehaviour =>
  () => ({ status: 'ok', gasUsed: 500n, writes: writes.map(([k, v]) => ({ key: bytes(k), value: v === null ? null : bytes(v) })) });

describe('AccumulateProcessor: exactly once, and only deterministic outcomes applied', () => {
  let tmp: string;
  let blobs: FilesystemBlobStore;
  const codes = new Map<number, Uint8Array>();

  beforeAll(async () => {
    await initHashing();
  });
  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'jam-accumulate-unit-'));
    blobs = new FilesystemBlobStore(tmp);
  });
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  const codeOf = (serviceId: number) => {
    if (!codes.has(serviceId)) codes.set(serviceId, new Uint8Array(crypto.randomBytes(64)));
    return codes.get(serviceId)!;
  };
  const codeHashOf = (serviceId: number) => toHex(blake2b256(codeOf(serviceId)));
  const putCode = (serviceId: number) => blobs.put(codeHashOf(serviceId), once(codeOf(serviceId)), { maxBytes: 1 << 20 });

  const digest = (serviceId: number, payload: string, accumulateGas: bigint, result: WorkExecResult = { ok: bytes(payload) }): WorkDigest => ({
    service_id: serviceId,
    code_hash: blake2b256(codeOf(serviceId)),
    payload_hash: blake2b256(bytes(payload)),
    accumulate_gas: accumulateGas,
    result,
    refine_load: { gas_used: 1n, imports: 0, extrinsic_count: 0, extrinsic_size: 0, exports: 0 },
  });

  /**
   * A processor on package PKG (status `status`, report REPORT with `digests`), services
   * `services` registered, and a sandbox answering each service with `guest[serviceId]`.
   */
  function fixture(opts: {
    digests: WorkDigest[];
    services?: number[];
    guest?: Record<number, GuestBehaviour>;
    status?: WorkPackageStatus;
    reportHash?: string | null;
    storedReport?: boolean;
    blobStore?: BlobStore;
  }) {
    const zero = new Uint8Array(32);
    const report: WorkReport = {
      package_spec: { hash: zero, length: 1, erasure_root: zero, exports_root: zero, exports_count: 0 },
      context: { anchor: zero, state_root: zero, beefy_root: zero, lookup_anchor: zero, lookup_anchor_slot: 0, prerequisites: [] },
      core_index: 0,
      authorizer_hash: zero,
      auth_gas_used: 0n,
      auth_output: new Uint8Array(0),
      segment_root_lookup: [],
      results: opts.digests,
    };
    const row = {
      hash: PKG,
      status: opts.status ?? 'attested',
      reportHash: opts.reportHash === undefined ? REPORT : opts.reportHash,
      queuePriority: PRIORITY,
      createdAt: new Date(),
      errorCode: null,
      errorMessage: null,
    } as unknown as WorkPackageRecord;
    const transitions: WorkPackageStatus[] = [];
    const workPackages = {
      get: async (h: string) => (h === PKG ? { ...row } : null),
      transition: async (h: string, from: readonly WorkPackageStatus[], to: WorkPackageStatus, fields: WorkPackageTransitionFields = {}) => {
        if (h !== PKG || !from.includes(row.status)) return false;
        Object.assign(row, { status: to, ...fields });
        transitions.push(to);
        return true;
      },
    };
    const workReports = {
      get: async (h: string) =>
        h === REPORT && opts.storedReport !== false ? { reportHash: REPORT, packageHash: PKG, encoded: encodeWorkReport(report) } : null,
    };
    const registered = new Set(opts.services ?? [...new Set(opts.digests.map((d) => d.service_id))]);
    const services = { get: async (id: number) => (registered.has(id) ? ({ id, codeHash: codeHashOf(id) } as ServiceRecord) : null) };
    const calls: { req: AccumulateRequest; priority: number | undefined }[] = [];
    const sandbox = {
      accumulate: async (req: AccumulateRequest, o?: { priority?: number }) => {
        calls.push({ req, priority: o?.priority });
        const answer = (opts.guest?.[req.serviceId] ?? ok())(req);
        if (answer instanceof Error) throw answer;
        return { status: 'ok', gasUsed: 0n, writes: [], logs: [], ...answer } as AccumulateOutcome;
      },
    };
    const accumulations = new FakeAccumulations();
    const metrics = new JamMetrics({ defaultMetrics: false });
    const processor = new AccumulateProcessor({
      workPackages: workPackages as unknown as WorkPackageRepository,
      workReports: workReports as unknown as WorkReportRepository,
      services: services as unknown as ServiceRepository,
      accumulations: accumulations as unknown as AccumulationRepository,
      blobs: opts.blobStore ?? blobs,
      sandbox: sandbox as unknown as SandboxPool,
      metrics,
      logger: createLogger({ level: 'silent' }),
      storageQuota: QUOTA,
      maxAccumulateTimeouts: MAX_TIMEOUTS,
      maxSandboxFailures: MAX_FAILURES,
    });
    const run = () =>
      processor.handle({ id: `accumulate-${REPORT}`, name: ACCUMULATE_REPORT_V1, payload: { report_hash: REPORT, package_hash: PKG }, attempt: 1 });
    const counter = async (c: keyof JamMetrics, labels: Record<string, string> = {}) =>
      ((await (metrics[c] as unknown as { get(): Promise<{ values: { value: number; labels: Record<string, unknown> }[] }> }).get()).values.find((v) =>
        Object.entries(labels).every(([k, l]) => v.labels[k] === l),
      )?.value ?? 0) as number;
    return { processor, row, transitions, accumulations, calls, run, counter };
  }

  it('applies each service once, in service order, with the summed gas, every operand and the package priority; then accumulated', async () => {
    await putCode(3);
    await putCode(5);
    const f = fixture({
      digests: [digest(5, 'e', 40n), digest(3, 'a', 10n), digest(3, 'b', 20n, { panic: null })],
      guest: { 3: ok([['k3', 'v3']]), 5: ok([['k5', 'v5']]) },
    });
    f.accumulations.storage.set(3, new Map([[hex('old'), bytes('x')]]));
    await f.run();
    expect(f.calls.map((c) => [c.req.serviceId, c.req.gasLimit, c.priority])).toEqual([
      [3, 30n, PRIORITY],
      [5, 40n, PRIORITY],
    ]);
    const first = f.calls[0]!.req;
    expect(first.code).toEqual(codeOf(3));
    expect(first.operands).toEqual([
      { packageHash: PKG, payloadHash: toHex(blake2b256(bytes('a'))), result: { ok: bytes('a') } },
      { packageHash: PKG, payloadHash: toHex(blake2b256(bytes('b'))), result: { panic: null } },
    ]);
    expect([...first.storage.entries()]).toEqual([[hex('old'), bytes('x')]]);
    expect(first.storageQuota).toEqual(QUOTA);
    expect(f.accumulations.storage.get(3)?.get(hex('k3'))).toEqual(bytes('v3'));
    expect(f.accumulations.storage.get(5)?.get(hex('k5'))).toEqual(bytes('v5'));
    expect(f.transitions).toEqual(['accumulating', 'accumulated']);
    expect(await f.counter('packages', { status: 'accumulated' })).toBe(1);
    expect(await f.counter('gasUsed', { phase: 'accumulate' })).toBe(1000);
  });

  it('exactly once: a redelivery after a crash mid-report runs only the services without a row; after the end it returns at once', async () => {
    await putCode(3);
    await putCode(5);
    const f = fixture({ digests: [digest(3, 'a', 10n), digest(5, 'b', 10n)], guest: { 3: ok([['n', '1']]), 5: ok([['n', '1']]) } });
    // service 3 was applied by a worker that died before service 5 (the package stayed accumulating)
    f.accumulations.rows.set(`${REPORT}/3`, { status: 'ok', gasUsed: 500n });
    f.row.status = 'accumulating';
    await f.run();
    expect(f.calls.map((c) => c.req.serviceId)).toEqual([5]);
    expect(f.accumulations.storage.get(3)).toBeUndefined();
    expect(f.row.status).toBe('accumulated');

    const applies = f.accumulations.applyCalls;
    await f.run();
    expect(f.calls).toHaveLength(1);
    expect(f.accumulations.applyCalls).toBe(applies);
    expect(f.transitions).toEqual(['accumulated']);
  });

  it('a guest panic or out-of-gas is a deterministic result: recorded with no writes, the package is accumulated', async () => {
    await putCode(3);
    await putCode(4);
    const f = fixture({
      digests: [digest(3, 'a', 10n), digest(4, 'b', 10n)],
      guest: {
        3: () => ({ status: 'panic', gasUsed: 7n, writes: [{ key: bytes('k'), value: bytes('v') }] }),
        4: () => ({ status: 'out_of_gas', gasUsed: 10n, writes: [] }),
      },
    });
    await f.run();
    expect(f.accumulations.row(3)).toEqual({ status: 'panic', gasUsed: 7n });
    expect(f.accumulations.row(4)).toEqual({ status: 'out_of_gas', gasUsed: 10n });
    expect(f.accumulations.storage.get(3)?.size).toBe(0);
    expect(f.row.status).toBe('accumulated');
    expect(await f.counter('sandboxTraps', { phase: 'accumulate', result: 'panic' })).toBe(1);
    expect(await f.counter('sandboxTraps', { phase: 'accumulate', result: 'out_of_gas' })).toBe(1);
  });

  it('a wall-clock kill rolls back and retries, counted; the max_accumulate_timeouts-th is recorded timed_out and fails the package', async () => {
    await putCode(3);
    const f = fixture({
      digests: [digest(3, 'a', 10n)],
      guest: { 3: () => ({ status: 'panic', gasUsed: 10n, timedOut: true, writes: [{ key: bytes('k'), value: bytes('v') }] }) },
    });
    const err = await f.run().catch((e: unknown) => e);
    expect((err as Error).name).toBe('AccumulateWallClockError');
    expect(err).not.toBeInstanceOf(PermanentJobError);
    expect(f.accumulations.counted(3)).toEqual({ wall_clock: 1, executor: 0, blob: 0 });
    expect(f.accumulations.row(3)).toBeUndefined();
    expect(f.row.status).toBe('accumulating');
    expect(await f.counter('accumulateTimeouts', { outcome: 'retry' })).toBe(1);

    await f.run();
    expect(f.accumulations.row(3)).toEqual({ status: 'timed_out', gasUsed: 10n });
    expect(f.accumulations.storage.get(3)).toBeUndefined();
    expect(f.row).toMatchObject({ status: 'failed', errorCode: 'accumulate_timeout' });
    expect(f.row.errorMessage).toBe('service 3: accumulate was killed by the sandbox wall clock on every try (max_accumulate_timeouts)');
    expect(await f.counter('accumulateTimeouts', { outcome: 'final' })).toBe(1);
    expect(await f.counter('packages', { status: 'failed' })).toBe(1);
  });

  it('an executor crash is counted apart from wall-clock kills; the max_sandbox_failures-th is sandbox_failed, charged the clamped gas limit', async () => {
    await putCode(3);
    const f = fixture({
      digests: [digest(3, 'a', MAX_GAS_LIMIT), digest(3, 'b', 5n)],
      guest: { 3: () => new SandboxExecutorError('crashed', 'executor exited with signal SIGKILL') },
    });
    for (let i = 1; i < MAX_FAILURES; i++) {
      await expect(f.run()).rejects.toThrow(SandboxExecutorError);
      expect(f.accumulations.counted(3)).toEqual({ wall_clock: 0, executor: i, blob: 0 });
    }
    await f.run();
    expect(f.accumulations.row(3)).toEqual({ status: 'sandbox_failed', gasUsed: MAX_GAS_LIMIT });
    expect(f.row).toMatchObject({ status: 'failed', errorCode: 'accumulate_sandbox_failure' });
    expect(await f.counter('sandboxFailures', { phase: 'accumulate', kind: 'executor', outcome: 'retry' })).toBe(MAX_FAILURES - 1);
    expect(await f.counter('sandboxFailures', { phase: 'accumulate', kind: 'executor', outcome: 'final' })).toBe(1);
  });

  it('code missing from the blob store: nothing runs, counted as a blob failure and retried; once restored it applies', async () => {
    const f = fixture({ digests: [digest(3, 'a', 10n)], guest: { 3: ok([['k', 'v']]) } });
    const err = await f.run().catch((e: unknown) => e);
    expect(BlobUnavailableError.is(err)).toBe(true);
    expect((err as Error).message).toMatch(/^blob unavailable: code of service 3 \(0x[0-9a-f]{64}\): no blob/);
    expect(f.calls).toEqual([]);
    expect(f.accumulations.counted(3)).toEqual({ wall_clock: 0, executor: 0, blob: 1 });

    await putCode(3);
    await f.run();
    expect(f.accumulations.row(3)).toEqual({ status: 'ok', gasUsed: 500n });
    expect(f.row.status).toBe('accumulated');
  });

  it('code unavailable for good: the max_sandbox_failures-th is blob_unavailable with no gas, and the package fails accumulate_blob_unavailable', async () => {
    const f = fixture({ digests: [digest(3, 'a', 10n)] });
    for (let i = 1; i < MAX_FAILURES; i++) await expect(f.run()).rejects.toThrow(BlobUnavailableError);
    await f.run();
    expect(f.calls).toEqual([]);
    expect(f.accumulations.row(3)).toEqual({ status: 'blob_unavailable', gasUsed: 0n });
    expect(f.row).toMatchObject({ status: 'failed', errorCode: 'accumulate_blob_unavailable' });
  });

  it('storage quota: state over the quota still runs (it may shrink); state too large to load is storage_over_limit without running', async () => {
    await putCode(3);
    await putCode(4);
    const f = fixture({ digests: [digest(3, 'a', 10n), digest(4, 'b', 10n)], guest: { 3: ok([['a', null]]), 4: ok([['x', 'y']]) } });
    f.accumulations.storage.set(
      3,
      new Map([
        [hex('a'), bytes('1')],
        [hex('b'), bytes('2')],
        [hex('c'), bytes('3')],
      ]),
    );
    f.accumulations.footprintOverride.set(4, { bytes: Number.MAX_SAFE_INTEGER, items: 1 });
    await f.run();
    expect(f.calls.map((c) => c.req.serviceId)).toEqual([3]);
    expect([...f.accumulations.storage.get(3)!.keys()]).toEqual([hex('b'), hex('c')]);
    expect(f.accumulations.row(3)).toEqual({ status: 'ok', gasUsed: 500n });
    expect(f.accumulations.row(4)).toEqual({ status: 'storage_over_limit', gasUsed: 0n });
    expect(f.row).toMatchObject({ status: 'failed', errorCode: 'storage_over_limit' });
    expect(f.row.errorMessage).toBe(
      'service 4: the service storage (for a PVM service: the GP state of its tenant) is larger than a sandbox executor can be given, or its GP accumulation named a service id of another tenant; nothing was written',
    );
    expect(await f.counter('storageOverQuota', { action: 'ran' })).toBe(1);
    expect(await f.counter('storageOverQuota', { action: 'refused' })).toBe(1);
  });

  it('one failing service does not stop the others: they apply, and the package fails naming the failed one', async () => {
    await putCode(3);
    await putCode(4);
    const f = fixture({
      digests: [digest(3, 'a', 10n), digest(4, 'b', 10n)],
      guest: { 3: () => new SandboxExecutorError('errored', 'engine fault'), 4: ok([['k', 'v']]) },
    });
    for (let i = 1; i < MAX_FAILURES; i++) await expect(f.run()).rejects.toThrow(SandboxExecutorError);
    await f.run();
    expect(f.accumulations.row(4)).toEqual({ status: 'ok', gasUsed: 500n });
    expect(f.accumulations.storage.get(4)?.get(hex('k'))).toEqual(bytes('v'));
    // service 4 ran once although the job ran MAX_FAILURES times: service 3 comes first and threw before it
    expect(f.calls.filter((c) => c.req.serviceId === 4)).toHaveLength(1);
    expect(f.row).toMatchObject({ status: 'failed', errorCode: 'accumulate_sandbox_failure' });
    expect(f.row.errorMessage).toBe('service 3: the sandbox executor crashed or reported an engine fault on every try (max_sandbox_failures)');
  });

  it('a service that no longer exists is skipped; the others apply and the package is accumulated', async () => {
    await putCode(4);
    const f = fixture({ digests: [digest(3, 'a', 10n), digest(4, 'b', 10n)], services: [4] });
    await f.run();
    expect(f.calls.map((c) => c.req.serviceId)).toEqual([4]);
    expect(f.accumulations.row(3)).toBeUndefined();
    expect(f.row.status).toBe('accumulated');
  });

  it('a database error is retried without being counted or recorded', async () => {
    await putCode(3);
    const f = fixture({ digests: [digest(3, 'a', 10n)] });
    (f.accumulations as unknown as { applyOnce: () => Promise<never> }).applyOnce = async () => {
      throw new Error('connection terminated unexpectedly');
    };
    await expect(f.run()).rejects.toThrow('connection terminated unexpectedly');
    expect(f.accumulations.counted(3)).toEqual({ wall_clock: 0, executor: 0, blob: 0 });
    expect(f.accumulations.row(3)).toBeUndefined();
    expect(f.row.status).toBe('accumulating');
  });

  it('refuses for good, running nothing: an unknown package, another report than the attested one, a package not yet attested, a report not stored, a malformed payload', async () => {
    await putCode(3);
    const digests = [digest(3, 'a', 10n)];
    const unknown = fixture({ digests });
    await expect(
      unknown.processor.handle({ id: 'x', name: ACCUMULATE_REPORT_V1, attempt: 1, payload: { report_hash: REPORT, package_hash: `0x${'99'.repeat(32)}` } }),
    ).rejects.toThrow(new PermanentJobError(`unknown package 0x${'99'.repeat(32)}`));

    const otherReport = fixture({ digests, reportHash: `0x${'33'.repeat(32)}` });
    await expect(otherReport.run()).rejects.toThrow(
      new PermanentJobError(`package ${PKG} is attested with report 0x${'33'.repeat(32)}; refusing to accumulate ${REPORT}`),
    );
    const disputed = fixture({ digests, status: 'disputed' });
    await expect(disputed.run()).rejects.toThrow(new PermanentJobError(`package ${PKG} is disputed with report ${REPORT}; refusing to accumulate ${REPORT}`));
    const notStored = fixture({ digests, storedReport: false });
    await expect(notStored.run()).rejects.toThrow(new PermanentJobError(`report ${REPORT} is not stored`));
    const malformed = fixture({ digests });
    await expect(malformed.processor.handle({ id: 'x', name: ACCUMULATE_REPORT_V1, attempt: 1, payload: { report_hash: REPORT } })).rejects.toThrow(
      MalformedJobError,
    );

    for (const f of [unknown, otherReport, disputed, notStored, malformed]) {
      expect(f.calls).toEqual([]);
      expect(f.transitions).toEqual([]);
      expect(f.accumulations.rows.size).toBe(0);
    }
  });

  it('a delivery for a package already failed or accumulated returns at once, touching nothing', async () => {
    for (const status of ['failed', 'accumulated'] as const) {
      const f = fixture({ digests: [digest(3, 'a', 10n)], status });
      await f.run();
      expect(f.calls).toEqual([]);
      expect(f.transitions).toEqual([]);
      expect(f.accumulations.applyCalls).toBe(0);
    }
  });
});
