/*
 * WARNING: signature acceptance rules. Every attestation verifier must apply the same rules;
 * loosening one lets a forged or malleated guarantee count toward the threshold on some
 * processes and not on others.
 *
 * Strict Ed25519 encoding checks applied on top of Node's (OpenSSL's) `crypto.verify`, which
 * checks S < L but accepts non-canonical and small-order public keys: measured on Node 20.20 /
 * OpenSSL 3.0.19, the signature R = identity (0x01 00..00), S = 0 verifies for ANY message under
 * the identity key, and a signature (R small-order, S = 0) verifies under every one of the 8
 * small-order keys and their 6 non-canonical encodings (see `ed25519-strict.spec.ts`).
 *
 * Sources: RFC 8032 sections 5.1.2-5.1.3 and 5.1.7 (encoding, decoding, S < L);
 * Chalkias, Garillot, Nikolaenko, "Taming the many EdDSAs" (SSR 2020, ePrint 2020/1244),
 * section 3 and table 1 (canonical A and R, small-order A); libsodium
 * `crypto_core_ed25519_is_valid_point` / `ge25519_has_small_order` (the same blocklist).
 */

/** Field prime p = 2^255 - 19 (RFC 8032 section 5.1). */
export const ED25519_P: bigint = (1n << 255n) - 19n;

/** Group order L = 2^252 + 27742317777372353535851937790883648493 (RFC 8032 section 5.1). */
export const ED25519_L: bigint = (1n << 252n) + 27742317777372353535851937790883648493n;

/**
 * The 8 points of small order (the torsion subgroup E[8]) in canonical encoding: 32 bytes,
 * little-endian y with the sign of x in bit 255. A signature made under one of these keys is
 * valid for messages nobody signed (for example R = identity, S = 0). Orders checked in
 * `ed25519-strict.spec.ts` by decoding and multiplying with an independent BigInt implementation.
 */
export const ED25519_SMALL_ORDER_POINTS: readonly { readonly order: 1 | 2 | 4 | 8; readonly hex: string }[] = Object.freeze([
  // identity (0, 1)
  { order: 1, hex: '0100000000000000000000000000000000000000000000000000000000000000' },
  // (0, -1): y = p - 1
  { order: 2, hex: 'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f' },
  // (+-sqrt(-1), 0): y = 0, both signs of x; the first is the all-zero key
  { order: 4, hex: '0000000000000000000000000000000000000000000000000000000000000000' },
  { order: 4, hex: '0000000000000000000000000000000000000000000000000000000000000080' },
  // order 8: y = y8 and y = p - y8, both signs of x each
  { order: 8, hex: 'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a' },
  { order: 8, hex: 'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa' },
  { order: 8, hex: '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05' },
  { order: 8, hex: '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85' },
]);

/** Little-endian unsigned integer of `bytes`. */
function littleEndian(bytes: Uint8Array): bigint {
  let n = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i]!);
  return n;
}

/** The encoded y of a 32-byte point encoding (bit 255, the sign of x, cleared); may be >= p. */
function encodedY(encoding: Uint8Array): bigint {
  return littleEndian(encoding) & ((1n << 255n) - 1n);
}

// y coordinates of E[8] (reduced mod p); x = 0 exactly when y = +-1.
const SMALL_ORDER_Y: ReadonlySet<bigint> = new Set(ED25519_SMALL_ORDER_POINTS.map((p) => encodedY(Buffer.from(p.hex, 'hex'))));

/**
 * True when a 32-byte point encoding is the canonical one: y < p (RFC 8032 section 5.1.3 step 1)
 * and no "negative zero", i.e. the sign bit is not set when x = 0 (y = 1 or y = p - 1; step 4).
 * Does not check that the point is on the curve (OpenSSL's decoding does).
 */
export function isCanonicalPointEncoding(encoding: Uint8Array): boolean {
  if (encoding.length !== 32) return false;
  const y = encodedY(encoding);
  if (y >= ED25519_P) return false;
  const signBit = (encoding[31]! & 0x80) !== 0;
  return !(signBit && (y === 1n || y === ED25519_P - 1n));
}

/**
 * True when a 32-byte encoding decodes (canonically or not) to one of the 8 small-order points:
 * its y reduced mod p is one of the 5 y values of E[8]. Same test as libsodium's
 * `ge25519_has_small_order` (which compares the encoding with the sign bit masked).
 */
export function isSmallOrderPointEncoding(encoding: Uint8Array): boolean {
  if (encoding.length !== 32) return false;
  return SMALL_ORDER_Y.has(encodedY(encoding) % ED25519_P);
}

/** True when a 32-byte little-endian scalar is canonical: S < L (RFC 8032 section 5.1.7). */
export function isCanonicalScalar(scalar: Uint8Array): boolean {
  return scalar.length === 32 && littleEndian(scalar) < ED25519_L;
}
