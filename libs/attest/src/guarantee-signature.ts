/*
 * WARNING: signature format and acceptance rules. Changing the message layout or the checks in
 * `verifyGuarantee` changes which stored attestations count; all attesters and verifiers must
 * run the same rules.
 */
import * as crypto from 'node:crypto';
import { guaranteeMessage } from '@jam/domain';
import { publicKeyFromRaw, type AttesterKey } from './attester-key';
import { isCanonicalPointEncoding, isCanonicalScalar, isSmallOrderPointEncoding } from './ed25519-strict';

/**
 * Signs a report hash as a guarantee: a 64-byte Ed25519 signature (R ++ S, RFC 8032) over the
 * 45-byte message `jam_guarantee ++ reportHash` (domain `guaranteeMessage`, GP 0.7.2 eq. 11.26).
 * @throws DomainError('invalid_encoding') when `reportHash` is not 32 bytes.
 */
export function signGuarantee(key: AttesterKey, reportHash: Uint8Array): Uint8Array {
  return new Uint8Array(crypto.sign(null, guaranteeMessage(reportHash), key.privateKey));
}

/**
 * Verifies a guarantee signature under strict Ed25519 rules. Returns false (never throws) for:
 * - a wrong length (public key 32 bytes, report hash 32 bytes, signature 64 bytes);
 * - a non-canonical S (S >= L, RFC 8032 section 5.1.7);
 * - a non-canonical encoding of the public key A or of R (y >= p, or x = 0 with the sign bit
 *   set; RFC 8032 section 5.1.3);
 * - a small-order A (one of the 8 points of E[8], in any encoding: a signature under such a key
 *   can be made without a secret key, "Taming the many EdDSAs" section 3);
 * - a small-order R (libsodium's rule; never produced by an honest signer, R = rB with r < L);
 * - a signature that OpenSSL's cofactorless `crypto.verify` rejects.
 * Mixed-order keys (prime-order point + torsion) are not rejected; only registered attester keys
 * are verified against, so such a key only lets its own owner malleate its own signatures.
 */
export function verifyGuarantee(publicKey: Uint8Array, reportHash: Uint8Array, signature: Uint8Array): boolean {
  if (publicKey.length !== 32 || signature.length !== 64 || reportHash.length !== 32) return false;
  const r = signature.subarray(0, 32);
  if (!isCanonicalScalar(signature.subarray(32, 64))) return false;
  if (!isCanonicalPointEncoding(publicKey) || isSmallOrderPointEncoding(publicKey)) return false;
  if (!isCanonicalPointEncoding(r) || isSmallOrderPointEncoding(r)) return false;
  try {
    return crypto.verify(null, guaranteeMessage(reportHash), publicKeyFromRaw(publicKey), signature);
  } catch {
    return false;
  }
}
