/**
 * Wire shapes of the gateway's HTTP API (docs/architecture.md section 5), exactly as the server sends them:
 * snake_case fields, hashes as `0x` lowercase hex, times as ISO-8601 strings.
 */
import { GP_PROTOCOL_VERSION, type PackageFailureCode, type PackageStatus } from '@jam/domain';

/** A `0x`-prefixed lowercase hex string (a 32-byte hash unless noted). */
export type HexString = string;

/** Options of `new JamClient(...)`. */
export interface JamClientOptions {
  /** Server origin, e.g. `http://127.0.0.1:8080` (a path prefix is kept, trailing `/` ignored). */
  baseUrl: string;
  /** Bearer token sent as `Authorization: Bearer <token>`; never put in a URL. */
  token?: string;
  /**
   * Milliseconds a request may wait without progress before it is aborted (default 30 000).
   * For uploads the clock restarts with every chunk sent, so big bodies are not cut off.
   */
  timeoutMs?: number;
  /** The `fetch` to use (tests); defaults to Node's global fetch. */
  fetch?: typeof fetch;
}

/** Result of `PUT /jam/preimages/{hash}`. `created` is true for 201, false for 200 (already stored). */
export interface PutPreimageResult {
  hash: HexString;
  /** bytes */
  length: number;
  created: boolean;
}

/** A preimage body given as a stream, with its length and hash computed beforehand. */
export interface PreimageStreamSource {
  stream: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>;
  /** bytes; sent as Content-Length so the server can refuse an oversize body before reading it */
  length: number;
  /** Blake2b-256 of the bytes, `0x` hex */
  hash: HexString;
}

/** Upload progress, reported as chunks leave the client. */
export interface UploadProgress {
  /** bytes sent so far */
  sentBytes: number;
  /** bytes in total */
  totalBytes: number;
}

/** `GET /jam/preimages/{hash}/meta`. */
export interface PreimageMeta {
  hash: HexString;
  /** bytes */
  length: number;
  refcount: number;
  storage_tier: string;
  created_at: string;
}

/** Body of `POST /jam/services`. */
export interface CreateServiceRequest {
  code_hash: HexString;
  /** bearer-token identities allowed to act for the service besides its owner */
  delegates?: string[];
  /** gas */
  min_item_gas?: number;
  /** gas */
  min_memo_gas?: number;
}

/** A registered service. `id` is the u32 JAM service id. */
export interface Service {
  id: number;
  code_hash: HexString;
  owner: string;
  delegates: string[];
  /** gas */
  min_item_gas: number;
  /** gas */
  min_memo_gas: number;
  created_at: string;
}

/** One page of a keyset-paged list; `next_cursor` is null on the last page. */
export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

/** Paging parameters of list endpoints (`limit` is capped by the server). */
export interface PageRequest {
  limit?: number;
  cursor?: string;
}

/** `GET /jam/services/{id}/storage/{key}`; `key` and `value` are `0x` hex. */
export interface StorageEntry {
  service_id: number;
  key: HexString;
  value: HexString;
}

/**
 * Package statuses (in pipeline order), the terminal set and the failure codes: the server's own
 * lifecycle module, so client and server cannot drift.
 */
export {
  PACKAGE_STATUSES,
  PACKAGE_FAILURE_CODES,
  TERMINAL_PACKAGE_STATUSES,
  isTerminalPackageStatus,
  type PackageStatus,
  type PackageFailureCode,
} from '@jam/domain';

/** `202` answer of `POST /jam/packages`. */
export interface SubmitPackageResult {
  hash: HexString;
  status: PackageStatus;
}

/** One problem found by a dry run; `path` points into the package JSON (e.g. `items[0].service`). */
export interface PackageProblem {
  path: string;
  code: string;
  message: string;
}

/** `200` answer of `POST /jam/packages?dry_run=true`; nothing was stored. */
export interface DryRunResult {
  hash: HexString;
  /** the package as the server decoded it, GP JSON */
  package: unknown;
  problems: PackageProblem[];
}

/** `GET /jam/packages/{hash}`. */
export interface PackageInfo {
  hash: HexString;
  status: PackageStatus;
  service_ids: number[];
  report_hash: HexString | null;
  /** Why a `failed` package failed, or why a `disputed` one is blocked. */
  error: { code: PackageFailureCode; message: string } | null;
  created_at: string;
  updated_at: string;
  accumulated_at: string | null;
  /** Retries the package has had (`POST /jam/packages/{hash}/retry`); 0 for a first run. */
  retries: number;
}

/** Filter of `GET /jam/services/{id}/packages`. */
export interface ListPackagesRequest extends PageRequest {
  status?: PackageStatus;
}

/** One attester's Ed25519 signature over `"jam_guarantee" ++ report_hash`. */
export interface Attestation {
  attester_index: number;
  public_key: HexString;
  signature: HexString;
}

/** Refine engine identity covered by the report hash (docs/architecture.md section 6). */
export interface EngineInfo {
  name: string;
  version: string;
  cost_table_version: number;
}

/** `GET /jam/reports/{package_hash}`. */
export interface ReportInfo {
  package_hash: HexString;
  report_hash: HexString;
  /** GP JSON WorkReport */
  report: unknown;
  /** `0x` hex of the GP binary encoding E(report); `report_hash` is its Blake2b-256 when `hash_format` is 2 (GP 0.7.2 eq. 11.26). */
  encoded: HexString;
  /** 1: legacy hash (engine identity appended, reports made before engine 0.7.0); 2: GP H(E(report)). */
  hash_format: 1 | 2;
  engine: EngineInfo;
  attestations: Attestation[];
  threshold: number;
  verdict: 'pending' | 'attested' | 'disputed';
  /**
   * Per work item: the service's `log` lines and, when it ended `panic` or `out_of_gas`, where it
   * trapped. Kept beside the report, never signed (docs/service-abi.md); empty for older reports.
   */
  guest_log?: GuestLogInfo[];
}

/** One work item's guest output in `ReportInfo.guest_log`. */
export interface GuestLogInfo {
  item_index: number;
  service_id: number;
  logs: string[];
  /** kind: unreachable, memory_out_of_bounds, divide_by_zero, integer_overflow, indirect_call, out_of_gas, bad_output_range, other */
  trap: { kind: string; message: string; frames: { function: number; offset: number }[] } | null;
}

/** `GET /jam/attesters`: the attester set guarantee signatures verify against. */
export interface AttesterSet {
  /** In index order; `public_key` is the raw 32-byte Ed25519 key as `0x` + 64 hex digits. */
  attesters: { index: number; public_key: HexString }[];
  /** Distinct valid signatures a report needs (`attestation_threshold`). */
  threshold: number;
  attester_count: number;
  /** `ed25519-raw-32-hex` */
  public_key_encoding: string;
  /** `jam_guarantee ++ blake2b256(E(report))` */
  signed_message: string;
}

/** `GET /healthz`. */
export interface HealthInfo {
  status: string;
}

/** Options of `JamClient.waitForPackage`. */
export interface WaitForPackageOptions {
  /** give up after this many ms (default 120 000); throws `JamClientError` code `wait_timeout` */
  timeoutMs?: number;
  /** ms between polls (default 500) */
  intervalMs?: number;
  /** called with the first status seen and again on every change */
  onStatus?: (pkg: PackageInfo) => void;
  /** aborts the wait; throws `JamClientError` code `aborted` */
  signal?: AbortSignal;
}

/** Options of `JamClient.followPackage` (the status stream, falling back to polling). */
export interface FollowPackageOptions extends WaitForPackageOptions {
  /**
   * Longest silence on the status stream before it counts as broken, ms (default 45 000; the
   * gateway writes a keep-alive comment every 15 s).
   */
  idleTimeoutMs?: number;
  /** called once when the stream broke or ended early and polling takes over, with the reason */
  onFallback?: (reason: Error) => void;
}

/** Options of `JamClient.packageEvents`. */
export interface PackageEventsOptions {
  /** closes the stream; the iterator then throws `JamClientError` code `aborted` */
  signal?: AbortSignal;
  /** longest silence before the stream counts as broken, ms (default 45 000); throws `JamNetworkError` code `timeout` */
  idleTimeoutMs?: number;
}

/** The protocol this client speaks: the Gray Paper version of its JSON and binary codecs. */
export const CLIENT_PROTOCOL = Object.freeze({ gray_paper: GP_PROTOCOL_VERSION });

/** One per-principal quota override of `GET /admin/quotas`. */
export interface QuotaOverride {
  principal: string;
  /** unfinished packages the principal may have; null = the server's `max_pending_packages` */
  max_pending_packages: number | null;
  updated_at: string;
}

/** `GET /admin/quotas`: a page of overrides and the server-wide default. */
export interface QuotaPage extends Page<QuotaOverride> {
  default_max_pending_packages: number;
}

/** `DELETE /admin/quotas/{principal}`. */
export interface QuotaRemoved {
  principal: string;
  /** false when the principal had no override */
  removed: boolean;
}

/** A disputed package of `GET /admin/disputes`, with each conflicting report and its distinct signers. */
export interface DisputedPackage extends PackageInfo {
  submitted_by: string;
  reports: { report_hash: HexString; signers: number }[];
}

/** `GET /admin/disputes`: a page of disputed packages, newest first, and the attestation threshold. */
export interface DisputePage extends Page<DisputedPackage> {
  threshold: number;
}

/** Body of `POST /admin/disputes/{package_hash}/resolve`. */
export type ResolveDisputeRequest = { decision: 'accept'; report_hash: HexString } | { decision: 'reject'; reason?: string };

/** One row of `GET /admin/audit`. */
export interface AuditEntry {
  /** decimal string; increases with insertion */
  id: string;
  at: string;
  /** `delegate.add`, `quota.set`, `dispute.resolve`, `admin.auth`, ... (docs/security-authz.md) */
  action: string;
  /** `METHOD path` of the request */
  target: string | null;
  /** `success`, `failure` or `denied` */
  outcome: string;
  /** `0x` SHA-256 of the token used, never the token; null when none was presented */
  actor_token_hash: string | null;
  details: Record<string, unknown>;
}

/** Filter of `GET /admin/audit`. */
export interface ListAuditRequest extends PageRequest {
  action?: string;
}
