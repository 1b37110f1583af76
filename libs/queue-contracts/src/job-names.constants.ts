/**
 * WARNING: job names are stored with every queued job and select its payload schema.
 * Renaming one strands the jobs already queued. A payload change gets a NEW versioned name
 * (`refine-package.v2`) next to the old one until the old queue is drained.
 */

/** WARNING: see the file header. Refine one work package as one attester. */
export const REFINE_PACKAGE_V1 = 'refine-package.v1' as const;
/** WARNING: see the file header. Verify and count one attester's signature on a report. */
export const VERIFY_ATTESTATION_V1 = 'verify-attestation.v1' as const;
/** WARNING: see the file header. Accumulate one attested report. */
export const ACCUMULATE_REPORT_V1 = 'accumulate-report.v1' as const;
/** WARNING: see the file header. Janitor: re-enqueue work whose job is missing. */
export const RECONCILE_V1 = 'reconcile.v1' as const;
/** WARNING: see the file header. Janitor: delete finished packages past retention_days with their dependants. */
export const RETENTION_V1 = 'retention.v1' as const;
/** WARNING: see the file header. Janitor: delete unreferenced preimages (rows, then blobs) past the grace period. */
export const PREIMAGE_GC_V1 = 'preimage-gc.v1' as const;
/** WARNING: see the file header. Janitor: blob store hygiene (crashed-upload temp files, orphan blobs, sampled re-hash). */
export const BLOB_HYGIENE_V1 = 'blob-hygiene.v1' as const;

/** Every job name, in a stable order. */
export const JOB_NAMES = [REFINE_PACKAGE_V1, VERIFY_ATTESTATION_V1, ACCUMULATE_REPORT_V1, RECONCILE_V1, RETENTION_V1, PREIMAGE_GC_V1, BLOB_HYGIENE_V1] as const;
