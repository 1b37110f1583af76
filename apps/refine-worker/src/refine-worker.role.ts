import { loadOrCreateAttesterKeys } from '@jam/attest';
import { toHex } from '@jam/domain';
import { consume } from '@jam/queue';
import { REFINE_PACKAGE_V1, refineExpressQueueName, refineQueueName } from '@jam/queue-contracts';
import type { RoleModule } from '@jam/runtime';
import { sharedSandboxPool } from '@jam/sandbox';
import { RefineProcessor } from './refine.processor';

/**
 * The refine-worker role: loads (or, for a new attester, creates) the keys of
 * `JAM_ATTESTER_INDEXES`, registers their public keys, and consumes each attester's
 * `refine-a<i>` queue with `refine_concurrency` jobs at a time and its express queue
 * `refine-express-a<i>` (short packages) with `refine_express_concurrency` more, on the process's
 * sandbox pool (docs/fairness.md).
 */
export function refineWorkerRole(): RoleModule {
  return {
    role: 'refine-worker',
    async start(host) {
      const { config, repos } = host;
      const sandbox = await sharedSandboxPool(host, {
        size: config.sandboxPoolSize,
        expressSize: config.sandboxExpressExecutors,
        generalNice: config.sandboxGeneralNice,
        wallClockMs: config.sandboxWallClockMs,
        uid: config.sandboxUid,
        gid: config.sandboxGid,
      });
      const keys = loadOrCreateAttesterKeys(config.keysDir, config.attesterIndexes);
      for (const key of keys) await repos.attesters.upsert(key.index, toHex(key.publicKey));
      const processor = new RefineProcessor({
        ...repos,
        blobs: host.blobs,
        sandbox,
        queue: host.queue,
        keys: new Map(keys.map((k) => [k.index, k])),
        metrics: host.metrics,
        logger: host.logger,
        maxSandboxFailures: config.maxSandboxFailures,
        attesterCount: config.attesters,
        threshold: config.attestationThreshold,
      });
      for (const key of keys) {
        for (const [name, concurrency] of [
          [refineQueueName(key.index), config.refineConcurrency],
          [refineExpressQueueName(key.index), config.refineExpressConcurrency],
        ] as const) {
          consume(host.queue, name, { [REFINE_PACKAGE_V1]: (job) => processor.handle(job) }, { concurrency, wrap: host.instrument(name) });
        }
      }
    },
  };
}
