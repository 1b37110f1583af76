import type { z } from 'zod';
import type { ACCUMULATE_REPORT_V1, RECONCILE_V1, REFINE_PACKAGE_V1, VERIFY_ATTESTATION_V1 } from './job-names.constants';
import type {
  accumulateReportV1Schema,
  reconcileV1Schema,
  refinePackageV1Schema,
  verifyAttestationV1Schema,
} from './job-payload.schema';

export type Hash = `0x${string}`;

export type RefinePackageV1 = z.infer<typeof refinePackageV1Schema>;
export type VerifyAttestationV1 = z.infer<typeof verifyAttestationV1Schema>;
export type AccumulateReportV1 = z.infer<typeof accumulateReportV1Schema>;
export type ReconcileV1 = z.infer<typeof reconcileV1Schema>;

/**
 * Every job as a discriminated union on `name` (immich style): adding a job means adding a
 * member here, and `JobPayload<N>` follows.
 */
export type JobItem =
  | { name: typeof REFINE_PACKAGE_V1; payload: RefinePackageV1 }
  | { name: typeof VERIFY_ATTESTATION_V1; payload: VerifyAttestationV1 }
  | { name: typeof ACCUMULATE_REPORT_V1; payload: AccumulateReportV1 }
  | { name: typeof RECONCILE_V1; payload: ReconcileV1 };

export type JobName = JobItem['name'];
export type JobPayload<N extends JobName> = Extract<JobItem, { name: N }>['payload'];
