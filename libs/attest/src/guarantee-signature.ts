/*
 * WARNING: signature format and acceptance rules. Changing the message layout or the checks in
 * `verifyGuarantee` changes which stored attestations count; all attesters and verifiers must
 * run the same rules.
 */
import * as crypto from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519';
import { guaranteeMessage } from '@jam/domain';
import { cachedPublicKeyFromRaw, type AttesterKey } from './attester-key';

/**
 * Signs a report hash as a guarantee: a 64-byte Ed25519 signature (R ++ S, RFC 8032) over the
 * 45-byte message `jam_guarantee ++ reportHash` (domain `guaranteeMessage`, GP 0.7.2 eq. 11.26).
 * @throws DomainError('invalid_encoding') when `reportHash` is not 32 bytes.
 */
export function signGuarantee(key: AttesterKey, reportHash: Uint8Array): Uint8Array {
  return new Uint8Array(crypto.sign(null, guaranteeMessage(reportHash), key.privateKey));
}

/** Group order L (RFC 8032 section 5.1). */
const L = (1n << 252n) + 27742317777372353535851937790883648493n;
const Point = ed25519.Point;

function littleEndian(bytes: Uint8Array): bigint {
  let n = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i]!);
  return n;
}

/**
 * Ed25519 verification under ZIP 215 (https://zips.z.cash/zip-0215), the rule JAM validators
 * apply to every Ed25519 signature, guarantees included: the JAM conformance suite's
 * consensus-critical vectors (davxy/jam-conformance PR #112, `crypto/ed25519/`) require it, and
 * implementations verify with ed25519-consensus / ed25519-zebra (Rust) or ed25519consensus (Go).
 *
 * Accepts exactly when: the public key A and R decode to curve points (non-canonical encodings,
 * y >= p or a negative zero, are allowed; small-order points are allowed); S < L; and the
 * cofactored equation [8][S]B = [8]R + [8][k]A holds, with k = SHA-512(R ++ A ++ message) over
 * the 64 bytes of R and A as sent (not re-encoded). Returns false, never throws, for anything
 * else (wrong lengths included: key 32 bytes, signature 64 bytes).
 *
 * Fast path: Node's (OpenSSL's) cofactorless check, which accepts only signatures ZIP 215 also
 * accepts ([S]B = R + [k]A implies the cofactored equation; OpenSSL requires S < L and hashes the
 * bytes as sent); honest signatures always pass it. What OpenSSL refuses is decided with
 * `@noble/curves`' point arithmetic (`Point.fromBytes(bytes, zip215 = true)` decodes y modulo p);
 * noble's own `verify` is not used because it hashes canonical re-encodings of R and A, which
 * differs from ZIP 215 for non-canonical encodings (test `guarantee-signature.spec.ts`).
 */
export function verifyEd25519Zip215(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (publicKey.length !== 32 || signature.length !== 64) return false;
  try {
    if (crypto.verify(null, message, cachedPublicKeyFromRaw(publicKey), signature)) return true;
  } catch {
    // OpenSSL refuses to decode some encodings ZIP 215 accepts: decided below.
  }
  try {
    const rBytes = signature.subarray(0, 32);
    const s = littleEndian(signature.subarray(32, 64));
    if (s >= L) return false;
    const a = Point.fromBytes(publicKey, true);
    const r = Point.fromBytes(rBytes, true);
    const k = littleEndian(crypto.createHash('sha512').update(rBytes).update(publicKey).update(message).digest()) % L;
    const left = Point.BASE.multiplyUnsafe(s).clearCofactor();
    const right = r.add(a.multiplyUnsafe(k)).clearCofactor();
    return left.equals(right);
  } catch {
    // not a curve point
    return false;
  }
}

/**
 * Verifies a guarantee signature: ZIP 215 Ed25519 ({@link verifyEd25519Zip215}) over
 * `jam_guarantee ++ reportHash` (GP 0.7.2 eq. 11.26). Returns false (never throws) for wrong
 * lengths (public key 32, report hash 32, signature 64 bytes) and every signature ZIP 215 refuses.
 *
 * Before engine 0.7.0 this was a strict RFC 8032 check (canonical A and R, no small-order A or R,
 * cofactorless): it refused signatures JAM validators accept (non-canonical R or A, torsion
 * components), so a signature made by another JAM implementation could be refused here. Only
 * registered attester keys are ever verified against, and those are made from secret seeds
 * (`loadOrCreateAttesterKeys`: A = aB with a clamped scalar, never of small order), so ZIP 215's
 * acceptance of small-order keys cannot let a signature be made without a secret key
 * (docs/security.md, "Guarantee signatures").
 */
export function verifyGuarantee(publicKey: Uint8Array, reportHash: Uint8Array, signature: Uint8Array): boolean {
  if (reportHash.length !== 32) return false;
  return verifyEd25519Zip215(publicKey, guaranteeMessage(reportHash), signature);
}
