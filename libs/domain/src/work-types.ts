/**
 * Gray Paper v0.7.2 work types (GP 0.7.2 section 14, "Work packages and work reports").
 *
 * Field names are the snake_case names of the JAM test vectors' JSON, so the JSON form maps 1:1.
 * Byte fields are `Uint8Array`; 32-byte hashes are `Hash`; u64 quantities (gas) are `bigint`;
 * u32/u16 quantities are `number`.
 */

/** A 32-byte Blake2b-256 digest. */
export type Hash = Uint8Array;

/** GP 0.7.2 eq. (refinecontext): the chain state a package is refined against. */
export interface RefineContext {
  anchor: Hash;
  state_root: Hash;
  beefy_root: Hash;
  lookup_anchor: Hash;
  /** u32 timeslot */
  lookup_anchor_slot: number;
  prerequisites: Hash[];
}

/** An imported segment reference: segment-tree root and index (u16). */
export interface ImportSpec {
  tree_root: Hash;
  index: number;
}

/** An extrinsic reference: Blake2b-256 hash and length in bytes (u32). */
export interface ExtrinsicSpec {
  hash: Hash;
  len: number;
}

/** GP 0.7.2 eq. (workitem). */
export interface WorkItem {
  /** u32 service id */
  service: number;
  code_hash: Hash;
  payload: Uint8Array;
  /** u64 gas */
  refine_gas_limit: bigint;
  /** u64 gas */
  accumulate_gas_limit: bigint;
  import_segments: ImportSpec[];
  extrinsic: ExtrinsicSpec[];
  /** u16 */
  export_count: number;
}

/** GP 0.7.2 eq. (workpackage). */
export interface WorkPackage {
  authorization: Uint8Array;
  /** u32 service id hosting the authorizer code */
  auth_code_host: number;
  auth_code_hash: Hash;
  authorizer_config: Uint8Array;
  context: RefineContext;
  items: WorkItem[];
}

/** GP 0.7.2 WorkExecResult; codes 0 ok, 1 out_of_gas, 2 panic, 3 bad_exports, 4 oversize, 5 bad_code, 6 code_oversize. */
export type WorkExecResult =
  { ok: Uint8Array } | { out_of_gas: null } | { panic: null } | { bad_exports: null } | { oversize: null } | { bad_code: null } | { code_oversize: null };

/** The names of WorkExecResult variants, in GP code order. */
export const WORK_EXEC_RESULT_KINDS = ['ok', 'out_of_gas', 'panic', 'bad_exports', 'oversize', 'bad_code', 'code_oversize'] as const;
export type WorkExecResultKind = (typeof WORK_EXEC_RESULT_KINDS)[number];

/** GP 0.7.2 refine load statistics of one work digest. */
export interface RefineLoad {
  /** u64 gas */
  gas_used: bigint;
  imports: number;
  extrinsic_count: number;
  /** bytes */
  extrinsic_size: number;
  exports: number;
}

/** GP 0.7.2 eq. (workdigest); the test vectors call it WorkResult. */
export interface WorkDigest {
  service_id: number;
  code_hash: Hash;
  payload_hash: Hash;
  /** u64 gas */
  accumulate_gas: bigint;
  result: WorkExecResult;
  refine_load: RefineLoad;
}

/** GP 0.7.2 eq. (availabilityspec), `package_spec` in a report. */
export interface AvailabilitySpec {
  hash: Hash;
  /** bytes, u32 */
  length: number;
  erasure_root: Hash;
  exports_root: Hash;
  /** u16 */
  exports_count: number;
}

/** One entry of a report's segment-root lookup dictionary. */
export interface SegmentRootLookupItem {
  work_package_hash: Hash;
  segment_tree_root: Hash;
}

/** GP 0.7.2 eq. (workreport). */
export interface WorkReport {
  package_spec: AvailabilitySpec;
  context: RefineContext;
  /** u16 */
  core_index: number;
  authorizer_hash: Hash;
  /** u64 gas */
  auth_gas_used: bigint;
  auth_output: Uint8Array;
  segment_root_lookup: SegmentRootLookupItem[];
  results: WorkDigest[];
}

/**
 * The identity of the refine engine: name, version and gas cost-table version.
 * WARNING: the report hash covers this value (docs/architecture.md section 6); changing any field makes
 * every new report differ from reports made before, by design.
 */
export interface EngineIdentity {
  name: string;
  version: string;
  cost_table_version: number;
}
