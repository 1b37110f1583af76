import { createInProcessQueue, type JobQueue } from '@jam/queue';
import { ATTESTATION_QUEUE, attestationJobId, refineJobId, refineQueueName } from '@jam/queue-contracts';
import type { AttestationRecord, AttestationRepository, WorkPackageRepository, WorkPackageStatus, WorkPackageSummary } from '@jam/persistence';
import { JamMetrics, createLogger } from '@jam/telemetry';
import { reconcile, type ReconcileDeps } from './reconcile.processor';

const PKG = `0x${'11'.repeat(32)}`;
const REPORT = `0x${'22'.repeat(32)}`;
const SIG = `0x${'33'.repeat(64)}`;

/** Reconciler deps around one stale package in `status` whose recorded attesters are `signed` (all on REPORT). */
function depsFor(status: WorkPackageStatus, signed: number[], queue: JobQueue): ReconcileDeps {
  const row = { hash: PKG, status, reportHash: null } as WorkPackageSummary;
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
});
