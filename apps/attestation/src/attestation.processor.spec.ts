/**
 * Unit tests of the attestation processor's decisions (one module: the repositories are in-memory
 * stand-ins with the real ones' rules: one attestation per (report, attester), compare-and-set
 * status transitions; signatures are real Ed25519, the queue the real in-process driver). Which
 * signatures count, when the threshold attests and enqueues accumulate, when conflicting reports
 * dispute the package (docs/architecture.md section 6, "Threshold and disputes"). The same path
 * with PostgreSQL, Redis and real processes: test/e2e/production.e2e-spec.ts.
 */
import * as crypto from 'node:crypto';
import { encodeWorkReport, engineAuthOutput, initHashing, reportHash, toHex, type EngineIdentity, type WorkReport } from '@jam/domain';
import { PermanentJobError, createInProcessQueue, type JobEnqueueOptions, type JobQueue } from '@jam/queue';
import { ACCUMULATE_QUEUE, ACCUMULATE_REPORT_V1, MalformedJobError, VERIFY_ATTESTATION_V1, accumulateJobId } from '@jam/queue-contracts';
import { rawPublicKey, signGuarantee, type AttesterKey } from '@jam/attest';
import { ENGINE_IDENTITY } from '@jam/sandbox';
import type {
  AttestationRepository,
  AttesterRepository,
  WorkPackageRecord,
  WorkPackageRepository,
  WorkPackageStatus,
  WorkPackageTransitionFields,
  WorkReportRecord,
  WorkReportRepository,
} from '@jam/persistence';
import { JamMetrics, createLogger } from '@jam/telemetry';
import { AttestationProcessor } from './attestation.processor';

const ATTESTERS = 3;
const THRESHOLD = 2;
const PRIORITY = 42;
const PKG = `0x${'11'.repeat(32)}`;
const OTHER_PKG = `0x${'12'.repeat(32)}`;
/** The engine identity of an older build: its reports hash differently (docs/architecture.md section 6, "Deterministic refine"). */
const OLD_ENGINE: EngineIdentity = { ...ENGINE_IDENTITY, version: `${ENGINE_IDENTITY.version}-old` };

/** A one-digest report of package PKG whose output is `output`. */
function report(output: string, engine: EngineIdentity = ENGINE_IDENTITY): WorkReport {
  const zero = new Uint8Array(32);
  return {
    package_spec: { hash: crypto.createHash('sha256').update(PKG).digest(), length: 100, erasure_root: zero, exports_root: zero, exports_count: 0 },
    context: { anchor: zero, state_root: zero, beefy_root: zero, lookup_anchor: zero, lookup_anchor_slot: 0, prerequisites: [] },
    core_index: 0,
    authorizer_hash: zero,
    auth_gas_used: 0n,
    // the engine identity lives in auth_output, so the report hash binds it (GP H(E(report)))
    auth_output: engineAuthOutput(engine),
    segment_root_lookup: [],
    results: [
      {
        service_id: 7,
        code_hash: zero,
        payload_hash: zero,
        accumulate_gas: 1_000_000n,
        result: { ok: new TextEncoder().encode(output) },
        refine_load: { gas_used: 1n, imports: 0, extrinsic_count: 0, extrinsic_size: 0, exports: 0 },
      },
    ],
  };
}

/** In-memory `attestation` with the repository's rules: unique (report, attester); tallies count distinct attesters per report of a package. */
class FakeAttestations {
  readonly rows: { reportHash: string; packageHash: string; attesterIndex: number; signature: string }[] = [];
  /** @param reportOf the package of a stored report, by report hash */
  constructor(private readonly reportOf: (reportHash: string) => string | undefined = () => undefined) {}
  async insertIfReportOf(input: { reportHash: string; attesterIndex: number; packageHash: string; signature: string }) {
    if (this.reportOf(input.reportHash) !== input.packageHash) return { report: false, created: false };
    return { report: true, ...(await this.insertIfAbsent(input)) };
  }
  async insertIfAbsent(input: { reportHash: string; attesterIndex: number; packageHash: string; signature: string }) {
    if (this.rows.some((r) => r.reportHash === input.reportHash && r.attesterIndex === input.attesterIndex)) return { created: false };
    this.rows.push({ ...input });
    return { created: true };
  }
  async reportHashesForPackage(packageHash: string) {
    const signers = new Map<string, Set<number>>();
    for (const r of this.rows.filter((x) => x.packageHash === packageHash))
      signers.set(r.reportHash, (signers.get(r.reportHash) ?? new Set()).add(r.attesterIndex));
    return [...signers].map(([h, s]) => ({ reportHash: h, signers: s.size }));
  }
}

/** The package row with compare-and-set transitions, as `WorkPackageRepository.transition` does them. */
class FakeWorkPackages {
  readonly transitions: WorkPackageStatus[] = [];
  constructor(readonly row: WorkPackageRecord) {}
  async get(hash: string) {
    return hash === this.row.hash ? { ...this.row } : null;
  }
  async transition(hash: string, from: readonly WorkPackageStatus[], to: WorkPackageStatus, fields: WorkPackageTransitionFields = {}) {
    if (hash !== this.row.hash || !from.includes(this.row.status)) return false;
    Object.assign(this.row, { status: to, ...fields });
    this.transitions.push(to);
    return true;
  }
  async transitionAndRead(hash: string, from: readonly WorkPackageStatus[], to: WorkPackageStatus, fields: WorkPackageTransitionFields = {}) {
    const moved = await this.transition(hash, from, to, fields);
    return { moved, row: await this.get(hash) };
  }
}

/** The real in-process queue, with each enqueue's options kept to check job ids and priorities. */
function recordingQueue(): { queue: JobQueue; enqueued: { queue: string; name: string; payload: unknown; opts: JobEnqueueOptions }[] } {
  const inner = createInProcessQueue();
  const enqueued: { queue: string; name: string; payload: unknown; opts: JobEnqueueOptions }[] = [];
  const queue: JobQueue = Object.assign(Object.create(inner) as JobQueue, {
    enqueue: (async (q, name, payload, opts) => {
      enqueued.push({ queue: q, name, payload, opts });
      return inner.enqueue(q, name, payload, opts);
    }) as JobQueue['enqueue'],
    close: () => inner.close(),
  });
  return { queue, enqueued };
}

describe('AttestationProcessor: which signatures count, threshold and disputes', () => {
  const keys: AttesterKey[] = [];
  const queues: JobQueue[] = [];
  let reportA: string;
  let reportB: string;
  let reportAOldEngine: string;

  beforeAll(async () => {
    await initHashing();
    for (let i = 0; i < ATTESTERS; i++) {
      const privateKey = crypto.generateKeyPairSync('ed25519').privateKey;
      keys.push({ index: i, privateKey, publicKey: rawPublicKey(privateKey) });
    }
    reportA = toHex(reportHash(report('A')));
    reportB = toHex(reportHash(report('B')));
    reportAOldEngine = toHex(reportHash(report('A', OLD_ENGINE)));
  });
  afterEach(async () => {
    await Promise.all(queues.splice(0).map((q) => q.close()));
  });

  /** A processor on package PKG (status `status`) whose stored reports are A, B and A made by the old engine. */
  function fixture(status: WorkPackageStatus = 'refining') {
    const row = { hash: PKG, status, reportHash: null, queuePriority: PRIORITY, errorCode: null, errorMessage: null } as unknown as WorkPackageRecord;
    const workPackages = new FakeWorkPackages(row);
    const stored = new Map<string, WorkReportRecord>();
    const store = (h: string, r: WorkReport, engine: EngineIdentity, packageHash = PKG) =>
      stored.set(h, {
        reportHash: h,
        packageHash,
        encoded: encodeWorkReport(r),
        engine: JSON.stringify(engine),
        guestLog: null,
        hashFormat: 2,
        createdAt: new Date(0),
      });
    store(reportA, report('A'), ENGINE_IDENTITY);
    store(reportB, report('B'), ENGINE_IDENTITY);
    store(reportAOldEngine, report('A', OLD_ENGINE), OLD_ENGINE);
    const workReports = { get: async (h: string) => stored.get(h) ?? null };
    const attesterKeys = new Map(keys.map((k) => [k.index, k.publicKey]));
    const attesters = {
      reads: 0,
      list: async () => {
        attesters.reads++;
        return [...attesterKeys].map(([index, publicKey]) => ({ index, publicKey: toHex(publicKey), createdAt: new Date(0) }));
      },
    };
    const attestations = new FakeAttestations((h) => stored.get(h)?.packageHash);
    const { queue, enqueued } = recordingQueue();
    queues.push(queue);
    const metrics = new JamMetrics({ defaultMetrics: false });
    const processor = new AttestationProcessor({
      workPackages: workPackages as unknown as WorkPackageRepository,
      workReports: workReports as unknown as WorkReportRepository,
      attesters: attesters as unknown as AttesterRepository,
      attestations: attestations as unknown as AttestationRepository,
      queue,
      threshold: THRESHOLD,
      attesterCount: ATTESTERS,
      metrics,
      logger: createLogger({ level: 'silent' }),
    });
    const handle = (payload: unknown) => processor.handle({ id: 'attest-x', name: VERIFY_ATTESTATION_V1, attempt: 1, payload });
    /** Delivers attester `i`'s attestation of `report` (signed over `signedHash`, by `signer`'s key). */
    const deliver = (i: number, rep: string, opts: { signedHash?: string; signer?: number; packageHash?: string } = {}) =>
      handle({
        report_hash: rep,
        package_hash: opts.packageHash ?? PKG,
        attester_index: i,
        signature: toHex(signGuarantee(keys[opts.signer ?? i]!, Buffer.from((opts.signedHash ?? rep).slice(2), 'hex'))),
      });
    const outcome = async (o: 'accepted' | 'duplicate' | 'invalid') =>
      (await metrics.attestations.get()).values.find((v) => v.labels['outcome'] === o)?.value ?? 0;
    const disputes = async () => (await metrics.disputes.get()).values[0]?.value ?? 0;
    const accumulateJobs = async () => (await queue.counts(ACCUMULATE_QUEUE)).waiting;
    return { row, workPackages, attestations, attesters, attesterKeys, enqueued, handle, deliver, outcome, disputes, accumulateJobs };
  }

  it('below the threshold: the signature is stored and the package is attesting; no accumulate job', async () => {
    const f = fixture();
    await f.deliver(0, reportA);
    expect(f.attestations.rows).toEqual([expect.objectContaining({ reportHash: reportA, packageHash: PKG, attesterIndex: 0 })]);
    expect(f.row).toMatchObject({ status: 'attesting', reportHash: null });
    expect(await f.outcome('accepted')).toBe(1);
    expect(await f.accumulateJobs()).toBe(0);
  });

  it('the threshold-th distinct signer attests the package with its report and enqueues accumulate once, with the package priority', async () => {
    const f = fixture();
    await f.deliver(0, reportA);
    await f.deliver(1, reportA);
    expect(f.row).toMatchObject({ status: 'attested', reportHash: reportA });
    expect(f.enqueued).toEqual([
      {
        queue: ACCUMULATE_QUEUE,
        name: ACCUMULATE_REPORT_V1,
        payload: { report_hash: reportA, package_hash: PKG },
        opts: expect.objectContaining({ jobId: accumulateJobId(reportA), priority: PRIORITY }),
      },
    ]);
    // the third signature changes nothing: still attested, the job id collapses the enqueue
    await f.deliver(2, reportA);
    expect(f.row.status).toBe('attested');
    expect(await f.accumulateJobs()).toBe(1);
    expect(await f.outcome('accepted')).toBe(3);
  });

  it('a duplicate delivery of one attester counts once: it never makes a threshold alone', async () => {
    const f = fixture();
    await f.deliver(0, reportA);
    await f.deliver(0, reportA);
    expect(f.attestations.rows).toHaveLength(1);
    expect(f.row.status).toBe('attesting');
    expect([await f.outcome('accepted'), await f.outcome('duplicate')]).toEqual([1, 1]);
    expect(await f.accumulateJobs()).toBe(0);
  });

  it('a retried delivery after the threshold re-enqueues a lost accumulate job (same job id), and none once accumulate has started', async () => {
    const f = fixture();
    await f.deliver(0, reportA);
    await f.deliver(1, reportA);
    expect(f.enqueued).toHaveLength(1);
    await f.deliver(1, reportA);
    expect(f.enqueued.map((e) => e.opts.jobId)).toEqual([accumulateJobId(reportA), accumulateJobId(reportA)]);
    expect(await f.accumulateJobs()).toBe(1);

    f.row.status = 'accumulating';
    await f.deliver(2, reportA);
    expect(f.enqueued).toHaveLength(2);
    expect(f.row.status).toBe('accumulating');
  });

  it('conflicting reports, neither a strict majority: the package is disputed (conflicting_reports), accumulate blocked, counted once', async () => {
    const f = fixture();
    await f.deliver(0, reportA);
    await f.deliver(1, reportB);
    expect(f.row).toMatchObject({ status: 'disputed', errorCode: 'conflicting_reports', reportHash: null });
    expect(f.row.errorMessage).toBe(`conflicting reports: ${[reportA, reportB].sort().join(', ')}`);
    expect(await f.disputes()).toBe(1);
    expect(f.enqueued).toEqual([]);
    // a redelivery while disputed changes nothing and is not a second dispute
    await f.deliver(0, reportA);
    expect(f.row.status).toBe('disputed');
    expect(await f.disputes()).toBe(1);
    // a later signature for B (2 of 3 against 1): B is now a strict-majority threshold and wins
    await f.deliver(2, reportB);
    expect(f.row).toMatchObject({ status: 'attested', reportHash: reportB });
    expect(f.enqueued.map((e) => e.opts.jobId)).toEqual([accumulateJobId(reportB)]);
    expect(await f.disputes()).toBe(1);
  });

  it('conflicting reports where one holds a strict-majority threshold: that report is attested, no dispute', async () => {
    const f = fixture();
    await f.deliver(0, reportA);
    await f.deliver(1, reportA);
    await f.deliver(2, reportB);
    expect(f.row).toMatchObject({ status: 'attested', reportHash: reportA });
    expect(await f.disputes()).toBe(0);
    expect(await f.accumulateJobs()).toBe(1);
  });

  it('wrong engine: a signature over the old engine’s hash of the same report is invalid for the new one, and is not stored', async () => {
    const f = fixture();
    expect(reportAOldEngine).not.toBe(reportA);
    const err = await f.deliver(0, reportA, { signedHash: reportAOldEngine }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermanentJobError);
    expect((err as Error).message).toBe(`invalid signature from attester 0 on ${reportA}`);
    expect(f.attestations.rows).toEqual([]);
    expect(f.row.status).toBe('refining');
    expect(await f.outcome('invalid')).toBe(1);
  });

  it('wrong engine: attestations of one report made by two engines never add up to a threshold; they conflict', async () => {
    const f = fixture();
    await f.deliver(0, reportAOldEngine);
    await f.deliver(1, reportA);
    expect(f.row).toMatchObject({ status: 'disputed', errorCode: 'conflicting_reports' });
    expect(f.enqueued).toEqual([]);
  });

  it('refuses for good, storing nothing: an unknown attester, a signature by another attester’s key, a report that is not stored or is another package’s', async () => {
    const f = fixture();
    const refusals = [
      [() => f.deliver(ATTESTERS, reportA, { signer: 0 }), `unknown attester ${ATTESTERS}`],
      [() => f.deliver(1, reportA, { signer: 2 }), `invalid signature from attester 1 on ${reportA}`],
      [() => f.deliver(0, `0x${'ee'.repeat(32)}`), `report 0x${'ee'.repeat(32)} is not a stored report of package ${PKG}`],
      [() => f.deliver(0, reportA, { packageHash: OTHER_PKG }), `report ${reportA} is not a stored report of package ${OTHER_PKG}`],
    ] as const;
    for (const [run, message] of refusals) {
      const err = await run().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PermanentJobError);
      expect((err as Error).message).toBe(message);
    }
    expect(f.attestations.rows).toEqual([]);
    expect(f.workPackages.transitions).toEqual([]);
    expect(await f.outcome('invalid')).toBe(refusals.length);
    expect(f.enqueued).toEqual([]);
  });

  it('reads the attester set once for many attestations, and again before refusing: a re-keyed attester is accepted with its new key', async () => {
    const f = fixture();
    await f.deliver(0, reportA);
    await f.deliver(1, reportA);
    await f.deliver(2, reportA);
    expect(f.attesters.reads).toBe(1);
    // attester 1 re-keys (a refine worker's upsert): the cached copy has the old key
    const privateKey = crypto.generateKeyPairSync('ed25519').privateKey;
    const rekeyed: AttesterKey = { index: 1, privateKey, publicKey: rawPublicKey(privateKey) };
    f.attesterKeys.set(1, rekeyed.publicKey);
    await f.handle({
      report_hash: reportB,
      package_hash: PKG,
      attester_index: 1,
      signature: toHex(signGuarantee(rekeyed, Buffer.from(reportB.slice(2), 'hex'))),
    });
    expect(f.attesters.reads).toBe(2);
    expect(f.attestations.rows.filter((r) => r.reportHash === reportB)).toEqual([expect.objectContaining({ attesterIndex: 1 })]);
    // the old key no longer verifies once the set is re-read
    const err = await f.deliver(1, reportAOldEngine).catch((e: unknown) => e);
    expect((err as Error).message).toBe(`invalid signature from attester 1 on ${reportAOldEngine}`);
  });

  it('a malformed payload is final (MalformedJobError) and stores nothing', async () => {
    const f = fixture();
    const err = await f.handle({ report_hash: reportA, attester_index: 0 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MalformedJobError);
    expect(f.attestations.rows).toEqual([]);
    expect(f.workPackages.transitions).toEqual([]);
  });

  it('a signature for a package that already failed or was accumulated is recorded but moves nothing', async () => {
    const f = fixture('accumulated');
    await f.deliver(0, reportA);
    await f.deliver(1, reportA);
    expect(f.attestations.rows).toHaveLength(2);
    expect(f.row.status).toBe('accumulated');
    expect(f.workPackages.transitions).toEqual([]);
    expect(f.enqueued).toEqual([]);
  });
});
