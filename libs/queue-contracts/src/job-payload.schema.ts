import { z } from 'zod';
import {
  ACCUMULATE_REPORT_V1,
  BLOB_HYGIENE_V1,
  PREIMAGE_GC_V1,
  RECONCILE_V1,
  REFINE_PACKAGE_V1,
  RETENTION_V1,
  VERIFY_ATTESTATION_V1,
} from './job-names.constants';

/**
 * Payload schemas. Payloads carry ids and hashes only, never blobs or secrets (docs/architecture.md section 12, habit 5).
 * Hashes: Blake2b-256, `0x` + 64 lowercase hex digits (docs/architecture.md section 2).
 * Signatures: Ed25519, `0x` + 128 lowercase hex digits.
 * Objects are strict: an unknown key is a malformed payload, not silently dropped.
 */
export const hashSchema = z.string().regex(/^0x[0-9a-f]{64}$/, 'expected 0x + 64 lowercase hex digits (32-byte hash)');
export const signatureSchema = z.string().regex(/^0x[0-9a-f]{128}$/, 'expected 0x + 128 lowercase hex digits (64-byte Ed25519 signature)');
export const attesterIndexSchema = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

export const refinePackageV1Schema = z.object({ package_hash: hashSchema, attester_index: attesterIndexSchema }).strict();
export const verifyAttestationV1Schema = z
  .object({
    report_hash: hashSchema,
    package_hash: hashSchema,
    attester_index: attesterIndexSchema,
    signature: signatureSchema,
  })
  .strict();
export const accumulateReportV1Schema = z.object({ report_hash: hashSchema, package_hash: hashSchema }).strict();
export const reconcileV1Schema = z.object({}).strict();
/** Storage tasks carry nothing: settings come from the janitor's config, the work from the database. */
export const retentionV1Schema = z.object({}).strict();
export const preimageGcV1Schema = z.object({}).strict();
export const blobHygieneV1Schema = z.object({}).strict();

/** Job name -> payload schema. The one place a name is tied to its shape. */
export const JOB_PAYLOAD_SCHEMAS = {
  [REFINE_PACKAGE_V1]: refinePackageV1Schema,
  [VERIFY_ATTESTATION_V1]: verifyAttestationV1Schema,
  [ACCUMULATE_REPORT_V1]: accumulateReportV1Schema,
  [RECONCILE_V1]: reconcileV1Schema,
  [RETENTION_V1]: retentionV1Schema,
  [PREIMAGE_GC_V1]: preimageGcV1Schema,
  [BLOB_HYGIENE_V1]: blobHygieneV1Schema,
} as const;
