/** Test-only Ed25519 vectors (hex), shared by the attest specs. Not exported from the lib. */

/** Non-canonical encodings of small-order points: y + p for y in {0, 1}, and x = 0 with the sign bit. */
export const NON_CANONICAL_SMALL_ORDER = [
  'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', // y = p (= 0)
  'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff', // y = p, sign set
  'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', // y = p + 1 (= 1, identity)
  'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff', // y = p + 1, sign set
  '0100000000000000000000000000000000000000000000000000000000000080', // identity, "negative zero" x
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff', // y = p - 1, "negative zero" x
];

/** The Ed25519 base point B (RFC 8032 section 5.1), canonical encoding. */
export const BASE_POINT = '5866666666666666666666666666666666666666666666666666666666666666';
