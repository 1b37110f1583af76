/*
 * WARNING: consensus-critical format. Every attester must compute the same report hash for
 * the same package, code and engine, and attestations sign it (see guarantee-message.ts).
 * Changing the engine-identity encoding, the auth_output layout or the hash input makes every
 * attester that runs the new code disagree with every attester that runs the old one. Change it
 * only together with a coordinated engine-version bump, and keep `REPORT_HASH_FORMAT` and the
 * `work_report.hash_format` column (migration 1768000000000) telling stored rows apart.
 */
import { DomainError } from './domain-error';
import { GpReader, GpWriter } from './gp-codec';
import { blake2b256 } from './hashing';
import { encodeWorkReport } from './work-report.codec';
import type { EngineIdentity, Hash, WorkReport } from './work-types';

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function utf8Field(s: string, path: string): Uint8Array {
  if (typeof s !== 'string' || s.length === 0 || LONE_SURROGATE.test(s)) {
    throw new DomainError('invalid_encoding', `cannot encode ${path}: must be a non-empty well-formed string`, { path });
  }
  return new TextEncoder().encode(s);
}

/**
 * GP-style encoding of the refine engine's identity (docs/architecture.md section 6):
 * `↕utf8(name) ++ ↕utf8(version) ++ E_4(cost_table_version)` where `↕` is the GP compact
 * length prefix (appendix C eq. C.8) and `E_4` a 4-byte little-endian u32.
 *
 * @throws DomainError('invalid_encoding') when name/version are empty or not well-formed
 *   Unicode (lone surrogates would be replaced by U+FFFD and collide), or the cost-table
 *   version is not a u32.
 */
export function encodeEngineIdentity(e: EngineIdentity): Uint8Array {
  const w = new GpWriter();
  w.blob(utf8Field(e.name, 'engine.name'), 'engine.name');
  w.blob(utf8Field(e.version, 'engine.version'), 'engine.version');
  w.u32(e.cost_table_version, 'engine.cost_table_version');
  return w.finish();
}

/**
 * Which rule a stored report hash follows (`work_report.hash_format`, migration 1768000000000):
 * - `1` legacy (before engine 0.7.0): Blake2b-256(E(report) ++ encodeEngineIdentity(engine)),
 *   with an empty `auth_output`; see {@link legacyReportHash};
 * - `2` GP (engine 0.7.0 on): Blake2b-256(E(report)) exactly, GP 0.7.2 eq. 11.26, with the engine
 *   identity inside `auth_output` ({@link engineAuthOutput}); see {@link reportHash}.
 * Attestations of either format sign `jam_guarantee ++ report hash` (guarantee-message.ts).
 */
export const REPORT_HASH_FORMAT = { legacy: 1, gp: 2 } as const;
export type ReportHashFormat = (typeof REPORT_HASH_FORMAT)[keyof typeof REPORT_HASH_FORMAT];

/** Tag byte opening an engine-identity auth_output (layout version 1), see {@link engineAuthOutput}. */
export const ENGINE_AUTH_OUTPUT_TAG = 0x01;

/**
 * The report's `auth_output` (GP 0.7.2 eq. workreport, the authorizer trace `t`): it binds the
 * refine engine's identity into the hashed report, so reports made by different engine versions
 * or gas cost tables differ in their bytes and never count toward each other
 * (docs/architecture.md section 6). Layout (layout version 1):
 *
 * `E_1(0x01) ++ encodeEngineIdentity(engine) ++ authorizer trace`
 *
 * This product runs no is-authorized code, so the authorizer trace is empty today; when one is
 * produced it follows the self-delimiting engine identity unchanged. The whole auth_output counts
 * toward GP's W_R (48 KiB for auth_output plus every item's output, GP 0.7.2 eq. 11.8): the
 * engine identity takes 1 + (1 + |name|) + (1 + |version|) + 4 bytes (28 for
 * `jam-wasm-metered`/`0.8.0`).
 *
 * @throws DomainError('invalid_encoding') as {@link encodeEngineIdentity}.
 */
export function engineAuthOutput(engine: EngineIdentity, authorizerTrace: Uint8Array = new Uint8Array(0)): Uint8Array {
  const id = encodeEngineIdentity(engine);
  const out = new Uint8Array(1 + id.length + authorizerTrace.length);
  out[0] = ENGINE_AUTH_OUTPUT_TAG;
  out.set(id, 1);
  out.set(authorizerTrace, 1 + id.length);
  return out;
}

/**
 * Reads an auth_output written by {@link engineAuthOutput}.
 * @returns the engine identity and the authorizer trace that follows it.
 * @throws DomainError('invalid_encoding') when the tag is not 0x01 or the identity is truncated or malformed.
 */
export function decodeEngineAuthOutput(authOutput: Uint8Array): { engine: EngineIdentity; authorizerTrace: Uint8Array } {
  if (authOutput[0] !== ENGINE_AUTH_OUTPUT_TAG) {
    throw new DomainError('invalid_encoding', 'auth_output: not an engine identity (tag 0x01)', { path: 'auth_output' });
  }
  const r = new GpReader(authOutput.subarray(1));
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  let engine: EngineIdentity;
  try {
    engine = {
      name: utf8.decode(r.blob('auth_output.engine.name')),
      version: utf8.decode(r.blob('auth_output.engine.version')),
      cost_table_version: r.u32('auth_output.engine.cost_table_version'),
    };
  } catch (err) {
    if (err instanceof DomainError) throw err;
    throw new DomainError('invalid_encoding', 'auth_output: engine identity is not UTF-8', { path: 'auth_output' });
  }
  return { engine, authorizerTrace: authOutput.subarray(authOutput.length - r.remaining) };
}

/**
 * The report hash that attesters sign: Blake2b-256(E(report)), 32 bytes, exactly GP 0.7.2
 * eq. 11.26 (the report encoding of appendix C eq. C.26). The engine identity is bound to it by
 * living inside the report's `auth_output` ({@link engineAuthOutput}), so any GP codec can
 * recompute it from a fetched report. Requires `initHashing()`.
 *
 * @throws DomainError('invalid_encoding') when the report cannot be encoded.
 */
export function reportHash(report: WorkReport): Hash {
  return blake2b256(encodeWorkReport(report));
}

/**
 * The legacy (hash format 1) report hash, kept to check rows stored before engine 0.7.0:
 * Blake2b-256(E(report) ++ encodeEngineIdentity(engine)). Not GP's H(E(r)); never used for new
 * reports. Requires `initHashing()`.
 *
 * @throws DomainError('invalid_encoding') when the report or engine identity cannot be encoded.
 */
export function legacyReportHash(report: WorkReport, engine: EngineIdentity): Hash {
  const r = encodeWorkReport(report);
  const e = encodeEngineIdentity(engine);
  const input = new Uint8Array(r.length + e.length);
  input.set(r, 0);
  input.set(e, r.length);
  return blake2b256(input);
}
