import * as crypto from 'node:crypto';
import { publicKeyFromRaw, type AttesterKey } from './attester-key';

/** ASCII `jam_guarantee`, the GP signing context for guarantees (GP 0.7.2 section 11.4; no `$` prefix). */
const GUARANTEE_CONTEXT = Buffer.from('jam_guarantee', 'ascii');

// Ed25519 group order L (RFC 8032 section 5.1); a signature's S must be below it.
const ED25519_L = (1n << 252n) + 27742317777372353535851937790883648493n;

/** The signed message: `jam_guarantee` ++ 32-byte report hash. */
export function guaranteeMessage(reportHash: Uint8Array): Uint8Array {
  if (reportHash.length !== 32) throw new Error(`report hash must be 32 bytes, got ${reportHash.length}`);
  return Buffer.concat([GUARANTEE_CONTEXT, reportHash]);
}

/** Signs a report hash as a guarantee: 64-byte Ed25519 signature over `guaranteeMessage`. */
export function signGuarantee(key: AttesterKey, reportHash: Uint8Array): Uint8Array {
  return new Uint8Array(crypto.sign(null, guaranteeMessage(reportHash), key.privateKey));
}

/**
 * Verifies a guarantee signature. Returns false (never throws) for a wrong length, a non-canonical
 * S (S >= L, RFC 8032 section 5.1.7) or a signature that does not verify.
 */
export function verifyGuarantee(publicKey: Uint8Array, reportHash: Uint8Array, signature: Uint8Array): boolean {
  if (publicKey.length !== 32 || signature.length !== 64 || reportHash.length !== 32) return false;
  let s = 0n;
  for (let i = 63; i >= 32; i--) s = (s << 8n) | BigInt(signature[i]!);
  if (s >= ED25519_L) return false;
  try {
    return crypto.verify(null, guaranteeMessage(reportHash), publicKeyFromRaw(publicKey), signature);
  } catch {
    return false;
  }
}
