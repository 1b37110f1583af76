import { randomInt } from 'node:crypto';
import type { TieredBlobStore } from '@jam/blob-store';
import type { PreimageRepository } from '@jam/persistence';
import type { JamMetrics, Logger } from '@jam/telemetry';

/** What the S3 migrator needs. */
export interface BlobMigrationDeps {
  preimages: PreimageRepository;
  tiered: TieredBlobStore;
  metrics: JamMetrics;
  logger: Logger;
}

/** Settings of one migrator run. */
export interface BlobMigrationOptions {
  /** Blobs moved per run at most (`s3_migrate_batch`; 0 = off). */
  limit: number;
  /** Filesystem blobs examined per run at most (bounds the scan when few are large). */
  scanLimit?: number;
  /** First shard (0..255) of the scan; random by default. */
  startShard?: number;
}

/** What one migrator run did. */
export interface BlobMigrationResult {
  moved: number;
  failed: number;
}

/**
 * S3 offload migrator (threat model "Object Store Misuse": background migrator): moves
 * filesystem blobs of at least `s3_offload_min_bytes` (left from before offload was on, or by a
 * failed offload) to S3. Per blob: upload (re-hashed, uploaded only when it matches), set the
 * row's storage_tier to 's3', then delete the local copy. Reads try both tiers, so the blob stays
 * readable at every step; a crash leaves a duplicate (the next run finishes it), never a loss.
 * Blobs without a row (orphans) are left to the orphan sweep. A failure is logged and the run
 * goes on with the next blob.
 */
export async function runBlobMigration(deps: BlobMigrationDeps, opts: BlobMigrationOptions): Promise<BlobMigrationResult> {
  let moved = 0;
  let failed = 0;
  if (opts.limit <= 0) return { moved, failed };
  const scanLimit = opts.scanLimit ?? opts.limit * 100;
  let scanned = 0;
  for await (const entry of deps.tiered.local.entries(opts.startShard ?? randomInt(256))) {
    if (moved + failed >= opts.limit || ++scanned > scanLimit) break;
    if (entry.length < deps.tiered.minBytes) continue;
    if (!(await deps.preimages.exists(entry.hash))) continue;
    try {
      const { stream } = await deps.tiered.local.getStream(entry.hash);
      await deps.tiered.remote.put(entry.hash, stream, { maxBytes: entry.length });
      await deps.preimages.setStorageTier(entry.hash, 's3');
      await deps.tiered.local.delete(entry.hash);
      moved++;
      deps.metrics.janitorDeleted.inc({ task: 'blob-migrate', kind: 'migrated_blob' });
    } catch (err) {
      failed++;
      deps.logger.warn({ err, hash: entry.hash, length: entry.length }, 'blob migrator: could not move blob to S3 (kept on the filesystem)');
    }
  }
  if (moved > 0 || failed > 0) deps.logger.info({ moved, failed }, 'blob migrator moved filesystem blobs to S3');
  return { moved, failed };
}
