/**
 * Wire shapes of the HTTP API (docs/architecture.md section 5) as zod schemas: request bodies the
 * gateway parses with them, and answers it sends, which the OpenAPI document describes from them.
 * snake_case fields, hashes as `0x` lowercase hex, times as ISO-8601 strings, numbers in gas units
 * or bytes as named. The GP JSON shapes (WorkPackage, WorkReport) follow the JAM test vectors and
 * are typed against the domain's JSON types, so the description cannot drift from the codec.
 */
import { z } from 'zod';
import { PACKAGE_FAILURE_CODES, PACKAGE_STATUSES, type WorkPackageJson } from '@jam/domain';
import type { ApiErrorCode } from './error-status';

/** `0x` + 64 lowercase hex digits: a Blake2b-256 hash (package, report, preimage, code). */
export const HASH_PATTERN = /^0x[0-9a-f]{64}$/;
/** Principal names (token owners, delegates): 1 to 64 of `A-Z a-z 0-9 _ . @ : -`. */
export const PRINCIPAL_PATTERN = /^[A-Za-z0-9_.@:-]{1,64}$/;
/** A u32 JAM service id in decimal. */
export const SERVICE_ID_PATTERN = /^\d{1,10}$/;

const hash = z.string().regex(HASH_PATTERN, 'must be 0x + 64 lowercase hex digits');
const hex = z.string().regex(/^0x([0-9a-f]{2})*$/, 'must be 0x + lowercase hex bytes');
const time = z.string().describe('ISO-8601 time');
/** A u64 in JAM JSON: a JSON number (exact beyond 2^53, parsed as BigInt) or a decimal string. */
const u64 = z.union([z.number().int().nonnegative(), z.string().regex(/^\d{1,20}$/)]).describe('u64 (gas or bytes), a JSON number exact beyond 2^53');

/** The error shape of every refusal: `{"error": {"code", "message", "details"?}}` with a stable code. */
export const errorBodySchema = z
  .object({
    error: z
      .object({
        code: z.string().describe('stable error code'),
        message: z.string().describe('human-readable; never a stack trace'),
        details: z.record(z.unknown()).optional().describe('structured facts (limits, paths, problems)'),
      })
      .strict(),
  })
  .strict();
/** The JSON error shape of docs/architecture.md section 5. */
export type ErrorBody = { error: { code: ApiErrorCode | (string & {}); message: string; details?: Record<string, unknown> } };

/** Gas given as a JSON number (at most 2^53 - 1) or a decimal string of up to 20 digits; parsed to BigInt. */
const gasInput = z.union([z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER), z.string().regex(/^\d{1,20}$/)]).transform((v) => BigInt(v));

/** Body of `POST /jam/services`. Unknown fields are refused (400 `invalid_request`). */
export const createServiceBodySchema = z
  .object({
    code_hash: z.string().regex(HASH_PATTERN, 'must be 0x + 64 lowercase hex digits'),
    delegates: z.array(z.string().min(1).max(64)).max(64).default([]),
    min_item_gas: gasInput.default('0'),
    min_memo_gas: gasInput.default('0'),
  })
  .strict();

/** Body of `POST /jam/reports/{report_hash}/attestations`: an attester's Ed25519 guarantee signature. */
export const attestationBodySchema = z
  .object({
    attester_index: z.number().int().min(0).max(1022),
    signature: z.string().regex(/^0x[0-9a-f]{128}$/, 'must be 0x + 128 lowercase hex digits (64-byte Ed25519 signature)'),
  })
  .strict();

/** Body of `PUT /admin/quotas/{principal}`: the fields given are set (null = back to the global setting), the others kept. */
export const quotaBodySchema = z
  .object({
    max_pending_packages: z.number().int().min(0).max(10_000_000).nullable().optional(),
    max_concurrent_uploads: z.number().int().min(0).max(100_000).nullable().optional(),
    max_stored_preimage_bytes: z
      .number()
      .int()
      .min(0)
      .max(2 ** 50)
      .nullable()
      .optional(),
  })
  .strict()
  .refine((b) => Object.keys(b).length > 0, 'give at least one of max_pending_packages, max_concurrent_uploads, max_stored_preimage_bytes');

/** Body of `POST /admin/disputes/{package_hash}/resolve`. */
export const resolveDisputeBodySchema = z.discriminatedUnion('decision', [
  z.object({ decision: z.literal('accept'), report_hash: z.string().regex(HASH_PATTERN, 'must be 0x + 64 lowercase hex digits') }).strict(),
  z.object({ decision: z.literal('reject'), reason: z.string().min(1).max(500).optional() }).strict(),
]);

/** GP JSON WorkPackage (GP 0.7.2 section 14.3; field names of the JAM test vectors, docs/package-json.md). */
export const workPackageJsonSchema = z
  .object({
    auth_code_host: z.number().int().nonnegative(),
    auth_code_hash: hash,
    context: z.object({
      anchor: hash,
      state_root: hash,
      beefy_root: hash,
      lookup_anchor: hash,
      lookup_anchor_slot: z.number().int().nonnegative(),
      prerequisites: z.array(hash),
    }),
    authorization: hex,
    authorizer_config: hex,
    items: z.array(
      z.object({
        service: z.number().int().nonnegative(),
        code_hash: hash,
        refine_gas_limit: u64,
        accumulate_gas_limit: u64,
        export_count: z.number().int().nonnegative(),
        payload: hex,
        import_segments: z.array(z.object({ tree_root: hash, index: z.number().int().nonnegative() })),
        extrinsic: z.array(z.object({ hash, len: z.number().int().nonnegative() })),
      }),
    ),
  })
  .describe('GP JSON WorkPackage, as the JAM test vectors write it');
// The schema above describes exactly the domain's JSON type (a compile error when they drift).
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const _workPackageJsonMatchesDomain: Same<keyof z.infer<typeof workPackageJsonSchema>, keyof WorkPackageJson> = true;
void _workPackageJsonMatchesDomain;

/** `PUT /jam/preimages/{hash}` answer. */
export const putPreimageAnswerSchema = z.object({ hash, length: z.number().int().describe('bytes') });

/** `GET /jam/preimages/{hash}/meta`. */
export const preimageMetaSchema = z.object({
  hash,
  length: z.number().int().describe('bytes'),
  refcount: z.number().int(),
  storage_tier: z.string(),
  created_at: time,
  corrupt_at: time.nullable().describe('set when a download found bytes that do not hash to `hash`'),
});

/** A registered service. `id` is the u32 JAM service id. */
export const serviceSchema = z.object({
  id: z.number().int(),
  code_hash: hash,
  owner: z.string(),
  delegates: z.array(z.string()),
  min_item_gas: z.number().int().describe('gas'),
  min_memo_gas: z.number().int().describe('gas'),
  created_at: time,
});

/** A page of a keyset-paged list; `next_cursor` is null on the last page. */
export function pageSchema<T extends z.ZodTypeAny>(item: T) {
  return z.object({ items: z.array(item), next_cursor: z.string().nullable() });
}

/** `GET /jam/services/{id}/storage/{key}`. */
export const storageEntrySchema = z.object({ service_id: z.number().int(), key: hex, value: hex });

/** A package's status as `GET /jam/packages/{hash}` answers it (docs/architecture.md section 7). */
export const packageInfoSchema = z.object({
  hash,
  status: z.enum(PACKAGE_STATUSES),
  service_ids: z.array(z.number().int()),
  report_hash: hash.nullable(),
  error: z.object({ code: z.enum(PACKAGE_FAILURE_CODES), message: z.string() }).nullable(),
  created_at: time,
  updated_at: time,
  accumulated_at: time.nullable(),
  retries: z.number().int(),
});

/** `202` answer of `POST /jam/packages`. */
export const submitPackageAnswerSchema = z.object({ hash, status: z.enum(PACKAGE_STATUSES) });

/** One problem a submission found; `path` points into the package JSON (`items[0].service`). */
export const packageProblemSchema = z.object({ path: z.string(), code: z.string(), message: z.string() });

/** `200` answer of `POST /jam/packages?dry_run=true`: nothing was stored. */
export const dryRunAnswerSchema = z.object({ hash, package: workPackageJsonSchema, problems: z.array(packageProblemSchema) });

/** `202` answer of `POST /jam/reports/{report_hash}/attestations`. */
export const attestationAnswerSchema = z.object({ report_hash: hash, attester_index: z.number().int(), status: z.literal('queued') });

/** `GET /jam/reports/{package_hash}`: the chosen WorkReport, its attestations and the verdict. */
export const reportInfoSchema = z.object({
  package_hash: hash,
  report_hash: hash,
  report: z.record(z.unknown()).describe('GP JSON WorkReport (GP 0.7.2 section 11.1.1), as the JAM test vectors write it'),
  encoded: z
    .string()
    .regex(/^0x([0-9a-f]{2})*$/)
    .describe('the GP binary encoding E(report); with hash_format 2, report_hash = Blake2b-256 of it (GP 0.7.2 eq. 11.26)'),
  hash_format: z.number().int().describe('1: legacy (engine identity appended to the hashed bytes), 2: GP H(E(report))'),
  engine: z
    .object({ name: z.string(), version: z.string(), cost_table_version: z.number().int() })
    .describe('refine engine identity, carried in the report auth_output and so covered by the report hash'),
  attestations: z.array(z.object({ attester_index: z.number().int(), public_key: hash.nullable(), signature: z.string() })),
  threshold: z.number().int(),
  verdict: z.enum(['pending', 'attested', 'disputed']),
  conflicting_reports: z.array(z.object({ report_hash: hash, signers: z.number().int() })),
  guest_log: z
    .array(
      z.object({
        item_index: z.number().int(),
        service_id: z.number().int(),
        logs: z.array(z.string()),
        trap: z.record(z.unknown()).nullable(),
      }),
    )
    .describe("per work item the service's log lines and trap detail, kept beside the report and not signed"),
});

/** `GET /jam/attesters`: the attester set guarantees verify under. */
export const attesterSetSchema = z.object({
  attesters: z.array(z.object({ index: z.number().int(), public_key: hash.describe('raw 32-byte Ed25519 public key') })),
  threshold: z.number().int(),
  attester_count: z.number().int(),
  public_key_encoding: z.literal('ed25519-raw-32-hex'),
  signed_message: z.string().describe('what a guarantee signature signs: jam_guarantee ++ blake2b256(E(report))'),
});

/** `GET /healthz`. */
export const healthSchema = z.object({ status: z.literal('ok') });
/** `GET /readyz`: one entry per backing store, `ok` or `error: <reason>`. */
export const readinessSchema = z.object({ status: z.enum(['ok', 'unavailable']), checks: z.record(z.string()) });

/** One per-principal quota override (`/admin/quotas`). */
export const quotaOverrideSchema = z.object({
  principal: z.string(),
  max_pending_packages: z.number().int().nullable(),
  max_concurrent_uploads: z.number().int().nullable(),
  max_stored_preimage_bytes: z.number().int().nullable().describe('bytes'),
  updated_at: time,
});
/** `GET /admin/quotas`: a page of overrides and the server-wide defaults. */
export const quotaPageSchema = pageSchema(quotaOverrideSchema).extend({
  default_max_pending_packages: z.number().int(),
  default_max_concurrent_uploads: z.number().int(),
  default_max_stored_preimage_bytes: z.number().int().describe('bytes'),
});
/** `DELETE /admin/quotas/{principal}`. */
export const quotaRemovedSchema = z.object({ principal: z.string(), removed: z.boolean() });
/** `GET /admin/disputes`. */
export const disputePageSchema = pageSchema(
  packageInfoSchema.extend({ submitted_by: z.string(), reports: z.array(z.object({ report_hash: hash, signers: z.number().int() })) }),
).extend({ threshold: z.number().int() });
/** One row of `GET /admin/audit`. */
export const auditEntrySchema = z.object({
  id: z.string().describe('decimal; increases with insertion'),
  at: time,
  action: z.string(),
  target: z.string().nullable(),
  outcome: z.string(),
  actor_token_hash: z.string().nullable().describe('0x SHA-256 of the token used, never the token'),
  details: z.record(z.unknown()),
});

/** A free-form query string parameter (at most 512 characters). */
export const stringQuery = z.string().max(512);
/** `limit`: 1 to 500, default 50. */
export const limitQuery = z.coerce.number().int().min(1).max(500).default(50);
/** `status` filter: a package status. */
export const statusQuery = z.enum(PACKAGE_STATUSES);
/** `dry_run`: exactly one of these, or absent. */
export const dryRunQuery = z.enum(['true', '1', 'false', '0']);
/** An OpenAPI 3 document (`GET /jam/openapi.json`). */
export const openApiDocumentSchema = z.object({ openapi: z.string(), info: z.record(z.unknown()), paths: z.record(z.unknown()) }).passthrough();
