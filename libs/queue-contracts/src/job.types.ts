import type { z } from 'zod';
import type {
  ACCUMULATE_REPORT_V1,
  BLOB_HYGIENE_V1,
  PREIMAGE_GC_V1,
  RECONCILE_V1,
  REFINE_PACKAGE_V1,
  RETENTION_V1,
  VERIFY_ATTESTATION_V1,
} from './job-names.constants';
import type {
  accumulateReportV1Schema,
  blobHygieneV1Schema,
  preimageGcV1Schema,
  reconcileV1Schema,
  refinePackageV1Schema,
  retentionV1Schema,
  verifyAttestationV1Schema,
} from './job-payload.schema';

export type Hash = `0x${string}`;

export type RefinePackageV1 = z.infer<typeof refinePackageV1Schema>;
export type VerifyAttestationV1 = z.infer<typeof verifyAttestationV1Schema>;
export type AccumulateReportV1 = z.infer<typeof accumulateReportV1Schema>;
export type ReconcileV1 = z.infer<typeof reconcileV1Schema>;
export type RetentionV1 = z.infer<typeof retentionV1Schema>;
export type PreimageGcV1 = z.infer<typeof preimageGcV1Schema>;
export type BlobHygieneV1 = z.infer<typeof blobHygieneV1Schema>;

/**
 * Every job as a discriminated union on `name` (immich style): adding a job means adding a
 * member here, and `JobPayload<N>` follows.
 */
export type JobItem =
  | { name: typeof REFINE_PACKAGE_V1; payload: RefinePackageV1 }
  | { name: typeof VERIFY_ATTESTATION_V1; payload: VerifyAttestationV1 }
  | { name: typeof ACCUMULATE_REPORT_V1; payload: AccumulateReportV1 }
  | { name: typeof RECONCILE_V1; payload: ReconcileV1 }
  | { name: typeof RETENTION_V1; payload: RetentionV1 }
  | { name: typeof PREIMAGE_GC_V1; payload: PreimageGcV1 }
  | { name: typeof BLOB_HYGIENE_V1; payload: BlobHygieneV1 };

export type JobName = JobItem['name'];
export type JobPayload<N extends JobName> = Extract<JobItem, { name: N }>['payload'];
