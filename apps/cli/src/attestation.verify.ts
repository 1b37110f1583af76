import { createPublicKey, verify } from 'node:crypto';
import type { Attestation, ReportInfo } from '@jam/client';
import { blake2b256, fromHex, guaranteeMessage, toHex } from '@jam/domain';

/** DER prefix turning a raw 32-byte Ed25519 public key into SPKI (RFC 8410). */
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const HEX32 = /^0x[0-9a-fA-F]{64}$/;
const HEX64 = /^0x[0-9a-fA-F]{128}$/;

/**
 * Checks an attestation independently of the server: Ed25519 (RFC 8032) over
 * `"jam_guarantee" ++ report_hash` with the attester's public key. Malformed input is `false`.
 */
export function verifyAttestation(reportHash: string, a: Attestation): boolean {
  if (!HEX32.test(reportHash) || !HEX32.test(a.public_key) || !HEX64.test(a.signature)) return false;
  try {
    const key = createPublicKey({
      key: Buffer.concat([ED25519_SPKI_PREFIX, Buffer.from(a.public_key.slice(2), 'hex')]),
      format: 'der',
      type: 'spki',
    });
    const message = guaranteeMessage(fromHex(reportHash, 32));
    return verify(null, message, key, Buffer.from(a.signature.slice(2), 'hex'));
  } catch {
    return false;
  }
}

/**
 * Whether the report hash is Blake2b-256 of the report's GP encoding (GP 0.7.2 eq. 11.26), checked
 * locally from `encoded`: `match`, `mismatch`, or `legacy` for a report of hash format 1 (made
 * before engine 0.7.0, whose hash also covers the engine identity). Requires `initHashing()`.
 */
export function checkReportHash(r: Pick<ReportInfo, 'report_hash' | 'encoded' | 'hash_format'>): 'match' | 'mismatch' | 'legacy' {
  if (r.hash_format !== 2) return 'legacy';
  if (typeof r.encoded !== 'string' || !/^0x([0-9a-f]{2})*$/.test(r.encoded)) return 'mismatch';
  return toHex(blake2b256(fromHex(r.encoded))) === r.report_hash ? 'match' : 'mismatch';
}
