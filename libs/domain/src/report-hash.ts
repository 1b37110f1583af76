/*
 * WARNING: consensus-critical format. Every attester must compute the same report hash for
 * the same package, code and engine, and attestations sign it (see guarantee-message.ts).
 * Changing the engine-identity encoding or the hash input makes every attester that runs the
 * new code disagree with every attester that runs the old one, and orphans stored
 * attestations. Change it only together with a coordinated engine-version bump.
 */
import { DomainError } from './domain-error';
import { GpWriter } from './gp-codec';
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
 * The report hash that attesters sign: Blake2b-256(encodeWorkReport(report) ++
 * encodeEngineIdentity(engine)), 32 bytes. The GP report encoding (GP 0.7.2 eq. C.26) is
 * self-delimiting, so the concatenation is unambiguous. Including the engine identity means
 * reports made by different engine versions or gas cost tables never count toward each other
 * (docs/architecture.md section 6). It is NOT the GP's bare report hash H(E(r)). Requires `initHashing()`.
 *
 * @throws DomainError('invalid_encoding') when the report or engine identity cannot be encoded.
 */
export function reportHash(report: WorkReport, engine: EngineIdentity): Hash {
  const r = encodeWorkReport(report);
  const e = encodeEngineIdentity(engine);
  const input = new Uint8Array(r.length + e.length);
  input.set(r, 0);
  input.set(e, r.length);
  return blake2b256(input);
}
