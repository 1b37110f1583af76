import type { BlobStore, BlobStoreMaintenance } from '@jam/blob-store';
import type { PreimageRepository } from '@jam/persistence';
import type { JamMetrics, Logger } from '@jam/telemetry';

/** What the preimage GC needs. */
export interface PreimageGcDeps {
  preimages: PreimageRepository;
  blobs: BlobStore & BlobStoreMaintenance;
  metrics: JamMetrics;
  logger: Logger;
}

/** Settings of the preimage GC. */
export interface PreimageGcOptions {
  /** `preimage_gc_grace_hours`: a preimage uploaded (or re-uploaded) within it is kept. */
  graceHours: number;
  /** Preimages examined per run. */
  limit?: number;
}

/** Default preimages examined per run; the next run continues with what is left. */
export const PREIMAGE_GC_BATCH = 1000;

const HOUR_MS = 3_600_000;

/**
 * Preimage GC (threat model "Storage Bloat": refcounting and deletion of unreferenced blobs).
 * A preimage is referenced while
 * - a service uses it as code (`refcount`, incremented at registration, and the `service` row), or
 * - a stored work package names it as an extrinsic (`work_package_preimage`, written with the
 *   package and cascaded away by retention: packages inside retention, in flight or disputed
 *   keep their extrinsics), or
 * - it was uploaded within the grace period (`last_uploaded_at`, touched by every upload).
 * Each unreferenced one loses its rows first (one transaction that re-checks all of the above
 * under a row lock, PreimageRepository.deleteIfUnreferenced) and its blob after the commit,
 * unless the blob was written within the grace period (a racing upload). A crash in between
 * leaves an orphan blob, which the blob hygiene task removes; never a row without its blob.
 * @returns rows and blobs deleted.
 */
export async function runPreimageGc(deps: PreimageGcDeps, opts: PreimageGcOptions): Promise<{ preimages: number; blobs: number }> {
  const graceMs = opts.graceHours * HOUR_MS;
  let preimages = 0;
  let blobs = 0;
  for (const hash of await deps.preimages.findUnreferenced(graceMs, opts.limit ?? PREIMAGE_GC_BATCH)) {
    if (!(await deps.preimages.deleteIfUnreferenced(hash, graceMs))) continue;
    preimages++;
    deps.metrics.janitorDeleted.inc({ task: 'preimage-gc', kind: 'preimage' });
    if (await deps.blobs.deleteUnlessFresh(hash, new Date(Date.now() - graceMs))) {
      blobs++;
      deps.metrics.janitorDeleted.inc({ task: 'preimage-gc', kind: 'blob' });
    }
  }
  if (preimages > 0) deps.logger.info({ preimages, blobs, graceHours: opts.graceHours }, 'preimage GC deleted unreferenced preimages');
  return { preimages, blobs };
}
