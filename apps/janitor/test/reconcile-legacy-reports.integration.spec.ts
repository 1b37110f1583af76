/**
 * Packages in flight across the upgrade to GP report hashes (migration 1768000000000, engine
 * 0.7.0) are neither lost nor stuck: signatures on a legacy-format report (hash format 1) do not
 * count, so the reconciler re-enqueues every attester's refine job, even when the legacy
 * signatures alone would have met the threshold. Real PostgreSQL repositories, the in-process queue.
 */
import { randomBytes } from 'node:crypto';
import { initHashing, toHex } from '@jam/domain';
import type { Repositories } from '@jam/persistence';
import { createInProcessQueue, type JobQueue } from '@jam/queue';
import { ATTESTATION_QUEUE, refineExpressQueueName, refineJobId } from '@jam/queue-contracts';
import { createLogger, JamMetrics } from '@jam/telemetry';
import { createMigratedDatabase, type MigratedTestDatabase } from '../../../test/support/database';
import { reconcile } from '../src/reconcile.processor';

const rand32 = (): string => toHex(randomBytes(32));

describe('reconciler across the report-hash upgrade (PostgreSQL)', () => {
  let db: MigratedTestDatabase | undefined;
  let repos: Repositories;
  let queue: JobQueue;

  beforeAll(async () => {
    await initHashing();
    db = await createMigratedDatabase('reconlegacy');
    repos = db.repos;
    for (let i = 0; i < 3; i++) await repos.attesters.upsert(i, rand32());
    queue = createInProcessQueue();
  });
  afterAll(async () => {
    await queue?.close();
    await db?.drop();
  });

  it('re-refines a package whose only signatures are on a legacy report, and re-drives the verdict once GP-format signatures meet the threshold', async () => {
    const pkg = rand32();
    await repos.workPackages.insertIfAbsent({ hash: pkg, encoded: randomBytes(40), serviceIds: [], submittedBy: 'p' });
    expect(await repos.workPackages.transition(pkg, ['pending'], 'refining')).toBe(true);
    const legacy = rand32();
    await repos.workReports.insertIfAbsent({ reportHash: legacy, packageHash: pkg, encoded: randomBytes(10), engine: 'old', hashFormat: 1 });
    for (const i of [0, 1]) {
      await repos.attestations.insertIfAbsent({ reportHash: legacy, attesterIndex: i, packageHash: pkg, signature: toHex(randomBytes(64)) });
    }
    const deps = {
      ...repos,
      queue,
      attesterCount: 3,
      threshold: 2,
      metrics: new JamMetrics({ defaultMetrics: false }),
      logger: createLogger({ level: 'silent' }),
    };

    // two legacy signatures (a threshold's worth) neither decide the package nor stop its attesters from refining again
    expect(await reconcile(deps, 0)).toBe(3);
    // (the row declares no refine gas: a short package, so its jobs go to the express queues)
    for (let i = 0; i < 3; i++) expect(await queue.isQueued(refineExpressQueueName(i), refineJobId(pkg, i))).toBe(true);
    expect((await queue.counts(ATTESTATION_QUEUE)).waiting).toBe(0);

    // after the upgrade two attesters sign the GP-format report: the verdict is re-driven, the third still refines
    const current = rand32();
    await repos.workReports.insertIfAbsent({ reportHash: current, packageHash: pkg, encoded: randomBytes(10), engine: 'new' });
    for (const i of [0, 1]) {
      await repos.attestations.insertIfAbsent({ reportHash: current, attesterIndex: i, packageHash: pkg, signature: toHex(randomBytes(64)) });
    }
    expect(await repos.attestations.reportHashesForPackage(pkg)).toEqual([{ reportHash: current, signers: 2 }]);
    await reconcile(deps, 0);
    expect((await queue.counts(ATTESTATION_QUEUE)).waiting).toBe(1);
  });
});
