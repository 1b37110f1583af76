import { createPublicKey, verify } from 'node:crypto';
import type { Attestation } from '@jam/client';
import { fromHex, guaranteeMessage } from '@jam/domain';

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
