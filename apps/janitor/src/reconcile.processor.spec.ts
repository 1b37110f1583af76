import { createInProcessQueue, type JobQueue } from '@jam/queue';
import { ATTESTATION_QUEUE, REFINE_PACKAGE_V1, attestationJobId, refineExpressQueueName, refineJobId, refineQueueName } from '@jam/queue-contracts';
import type { AttestationRecord, AttestationRepository, WorkPackageRepository, WorkPackageStatus, WorkPackageSummary } from '@jam/persistence';
import { JamMetrics, createLogger } from '@jam/telemetry';
import { reconcile, type ReconcileDeps } from './reconcile.processor';

const PKG = `0x${'11'.repeat(32)}`;
const REPORT = `0x${'22'.repeat(32)}`;
const SIG = `0x${'33'.repeat(64)}`;

/** Declared refine gas of a long package (above G_A): its refine jobs use `refine-a<i>`. */
const LONG_GAS = 5_000_000_000n;

/**
 * Reconciler deps around one stale package in `status` whose recorded attesters are `signed` (all
 * on REPORT), declaring `refineGas` (gas).
 */
function depsFor(status: WorkPackageStatus, signed: number[], queue: JobQueue, queuePriority = 1, refineGas = LONG_GAS): ReconcileDeps {
  const row = { hash: PKG, status, reportHash: null, queuePriority, refineGas } as WorkPackageSummary;
  const workPackages = { findStale: async (statuses: WorkPackageStatus[]) => (statuses.includes(status) ? [row] : []) };
  const records: AttestationRecord[] = signed.map((i) => ({ reportHash: REPORT, attesterIndex: i, packageHash: PKG, signature: SIG, createdAt: new Date(0) }));
  const attestations = {
    reportHashesForPackage: async () => (signed.length > 0 ? [{ reportHash: REPORT, signers: signed.length }] : []),
    listByReport: async () => records,
  };
  return {
    workPackages: workPackages as unknown as WorkPackageRepository,
    attestations: attestations as unknown as AttestationRepository,
    queue,
    attesterCount: 3,
    threshold: 2,
    metrics: new JamMetrics(),
    logger: createLogger({ level: 'silent' }),
  };
}

describe('reconcile', () => {
  let queue: JobQueue;
  beforeEach(() => {
    queue = createInProcessQueue();
  });
  afterEach(() => queue.close());

  it('re-enqueues refine for the attesters that have not signed, and no attestation below the threshold', async () => {
    expect(await reconcile(depsFor('refining', [0], queue), 0)).toBe(2);
    expect(await queue.isQueued(refineQueueName(0), refineJobId(PKG, 0))).toBe(false);
    expect(await queue.isQueued(refineQueueName(1), refineJobId(PKG, 1))).toBe(true);
    expect(await queue.isQueued(refineQueueName(2), refineJobId(PKG, 2))).toBe(true);
    expect((await queue.counts(ATTESTATION_QUEUE)).waiting).toBe(0);
  });

  it('re-drives the verdict of a package every attester signed but that never became attested (crash after the inserts)', async () => {
    const deps = depsFor('attesting', [0, 1, 2], queue);
    expect(await reconcile(deps, 0)).toBe(1);
    expect(await queue.isQueued(ATTESTATION_QUEUE, attestationJobId(REPORT, 0))).toBe(true);
    for (let i = 0; i < 3; i++) expect((await queue.counts(refineQueueName(i))).waiting).toBe(0);
    // Still queued: the next run adds nothing.
    expect(await reconcile(deps, 0)).toBe(0);
  });

  it('re-drives the verdict as soon as the threshold is met, besides the missing refine', async () => {
    expect(await reconcile(depsFor('pending', [0, 1], queue), 0)).toBe(2);
    expect(await queue.isQueued(ATTESTATION_QUEUE, attestationJobId(REPORT, 0))).toBe(true);
    expect(await queue.isQueued(refineQueueName(2), refineJobId(PKG, 2))).toBe(true);
  });

  it("re-enqueues with the package's stored fair-share priority, between the jobs of lower and higher numbers", async () => {
    // A busy submitter's package (priority 7) lost its refine job: the re-enqueued job keeps its
    // place behind a quieter submitter's (3) and ahead of a busier one's (9) (docs/fairness.md).
    const other = (n: number): string => `0x${String(n).padStart(2, '0').repeat(32)}`;
    const q1 = refineQueueName(1);
    await queue.enqueue(q1, REFINE_PACKAGE_V1, { package_hash: other(90), attester_index: 1 }, { jobId: refineJobId(other(90), 1), priority: 9 });
    await queue.enqueue(q1, REFINE_PACKAGE_V1, { package_hash: other(30), attester_index: 1 }, { jobId: refineJobId(other(30), 1), priority: 3 });
    expect(await reconcile(depsFor('pending', [0, 2], queue, 7), 0)).toBe(2);
    const order: string[] = [];
    queue.process(q1, async (job) => void order.push((job.payload as { package_hash: string }).package_hash), { concurrency: 1 });
    while ((await queue.counts(q1)).waiting + (await queue.counts(q1)).active > 0) await new Promise((r) => setTimeout(r, 5));
    expect(order).toEqual([other(30), PKG, other(90)]);
  });

  it("re-enqueues a short package's refine jobs on the express queues, and not where a job of it is still queued", async () => {
    // declared refine gas at most G_A: the express queue (docs/fairness.md, "Express refine queues")
    const deps = depsFor('pending', [], queue, 1, 10_000_000n);
    // attester 1's job is still in its general queue (enqueued before express queues existed): it still drives the package
    await queue.enqueue(refineQueueName(1), REFINE_PACKAGE_V1, { package_hash: PKG, attester_index: 1 }, { jobId: refineJobId(PKG, 1), priority: 1 });
    expect(await reconcile(deps, 0)).toBe(2);
    for (const i of [0, 2]) {
      expect(await queue.isQueued(refineExpressQueueName(i), refineJobId(PKG, i))).toBe(true);
      expect(await queue.isQueued(refineQueueName(i), refineJobId(PKG, i))).toBe(false);
    }
    expect(await queue.isQueued(refineExpressQueueName(1), refineJobId(PKG, 1))).toBe(false);
    // Everything queued now: the next run adds nothing.
    expect(await reconcile(deps, 0)).toBe(0);
  });
});
