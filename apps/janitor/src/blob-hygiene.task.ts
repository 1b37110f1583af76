import { randomInt } from 'node:crypto';
import type { BlobEntry, BlobStore, BlobStoreMaintenance } from '@jam/blob-store';
import type { PreimageRepository } from '@jam/persistence';
import type { JamMetrics, Logger } from '@jam/telemetry';

/** What the blob hygiene task needs. */
export interface BlobHygieneDeps {
  preimages: PreimageRepository;
  blobs: BlobStore & BlobStoreMaintenance;
  metrics: JamMetrics;
  logger: Logger;
}

/** Settings of the blob hygiene task. */
export interface BlobHygieneOptions {
  /** `preimage_gc_grace_hours`: orphan blobs written within it are kept (an upload may be about to record its row). */
  graceHours: number;
  /** `blob_verify_sample`: blobs re-hashed per run (0 = none). */
  verifySample: number;
  /** Blobs examined by the orphan sweep per run (default {@link ORPHAN_SCAN_LIMIT}). */
  orphanScanLimit?: number;
  /** First shard (0..255) of the scans; random by default so runs cover the store over time. */
  startShard?: number;
}

/** Temp files of uploads older than this are from crashed uploads (no request lives this long: request_timeout_ms <= 1 h). */
export const TMP_MAX_AGE_MS = 3_600_000;
/** Blobs examined by the orphan sweep per run. */
export const ORPHAN_SCAN_LIMIT = 10_000;
const LOOKUP_BATCH = 500;
const HOUR_MS = 3_600_000;

/** What one hygiene run did. */
export interface BlobHygieneResult {
  tmpFiles: number;
  restored: number;
  orphans: number;
  verified: number;
  corrupt: string[];
}

/**
 * Blob store hygiene (threat model "Storage Bloat" and "Object Store Misuse": background verifier):
 * 1. puts back blobs a crashed GC left in the trash (an orphan is safe, a lost blob is not);
 * 2. removes temp files of crashed uploads older than {@link TMP_MAX_AGE_MS};
 * 3. orphan sweep: deletes blobs with no preimage row that were not written within the grace
 *    period (left by a GC crash between its row delete and blob delete, or an upload that died
 *    between storing the bytes and recording the row); bounded per run;
 * 4. verifier: re-hashes `verifySample` blobs and reports the corrupt ones in the log and
 *    `jam_blobs_corrupt_total`. It never deletes them: an operator decides (restore from a
 *    backup, or ask the uploader to PUT again, which replaces the file with verified bytes).
 */
export async function runBlobHygiene(deps: BlobHygieneDeps, opts: BlobHygieneOptions): Promise<BlobHygieneResult> {
  const restored = await deps.blobs.recoverTrash();
  if (restored > 0) deps.logger.warn({ restored }, 'blob hygiene restored blobs a crashed GC left in the trash');
  const tmpFiles = await deps.blobs.sweepTmp(TMP_MAX_AGE_MS);
  deps.metrics.janitorDeleted.inc({ task: 'blob-hygiene', kind: 'tmp_file' }, tmpFiles);

  const freshSince = new Date(Date.now() - opts.graceHours * HOUR_MS);
  const scanLimit = opts.orphanScanLimit ?? ORPHAN_SCAN_LIMIT;
  let orphans = 0;
  let scanned = 0;
  let batch: BlobEntry[] = [];
  const flush = async () => {
    // A blob older than the grace period whose row is missing now cannot gain one without a new
    // upload, and an upload rewrites the file first (fresh mtime), which deleteUnlessFresh keeps.
    const known = await deps.preimages.existing(batch.map((b) => b.hash));
    for (const b of batch) {
      if (known.has(b.hash) || b.modifiedAt.getTime() >= freshSince.getTime()) continue;
      if (await deps.blobs.deleteUnlessFresh(b.hash, freshSince)) {
        orphans++;
        deps.metrics.janitorDeleted.inc({ task: 'blob-hygiene', kind: 'orphan_blob' });
      }
    }
    batch = [];
  };
  for await (const entry of deps.blobs.entries(opts.startShard ?? randomInt(256))) {
    batch.push(entry);
    if (batch.length >= LOOKUP_BATCH) await flush();
    if (++scanned >= scanLimit) break;
  }
  await flush();

  const corrupt: string[] = [];
  let verified = 0;
  if (opts.verifySample > 0) {
    for await (const entry of deps.blobs.entries(opts.startShard ?? randomInt(256))) {
      if (verified >= opts.verifySample) break;
      verified++;
      if ((await deps.blobs.verify(entry.hash)) === 'corrupt') {
        corrupt.push(entry.hash);
        deps.metrics.blobsCorrupt.inc();
        deps.logger.error({ hash: entry.hash, length: entry.length }, 'blob verifier: stored bytes do not match their hash (kept for an operator)');
      }
    }
  }
  if (tmpFiles > 0 || orphans > 0) deps.logger.info({ tmpFiles, orphans, verified }, 'blob hygiene removed crashed-upload temp files and orphan blobs');
  return { tmpFiles, restored, orphans, verified, corrupt };
}
