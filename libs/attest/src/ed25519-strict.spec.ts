import { ED25519_L, ED25519_P, ED25519_SMALL_ORDER_POINTS, isCanonicalPointEncoding, isCanonicalScalar, isSmallOrderPointEncoding } from './ed25519-strict';
import { loadOrCreateAttesterKeys } from './attester-key';
import { NON_CANONICAL_SMALL_ORDER } from './ed25519.test-vectors';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

// Independent affine Edwards arithmetic (RFC 8032 section 5.1), used only to check the constants.
const P = (1n << 255n) - 19n;
const mod = (a: bigint): bigint => ((a % P) + P) % P;
const pow = (b: bigint, e: bigint): bigint => {
  let r = 1n;
  b = mod(b);
  while (e > 0n) {
    if (e & 1n) r = (r * b) % P;
    b = (b * b) % P;
    e >>= 1n;
  }
  return r;
};
const inv = (a: bigint): bigint => pow(a, P - 2n);
const D = mod(-121665n * inv(121666n));
type Pt = readonly [bigint, bigint];
const add = ([x1, y1]: Pt, [x2, y2]: Pt): Pt => {
  const t = mod(D * x1 * x2 * y1 * y2);
  return [mod((x1 * y2 + x2 * y1) * inv(1n + t)), mod((y1 * y2 + x1 * x2) * inv(1n - t))];
};
/** RFC 8032 section 5.1.3 decoding, reducing y mod p (lax, to also decode non-canonical inputs). */
function decode(hex: string): Pt | undefined {
  const b = Buffer.from(hex, 'hex');
  let y = 0n;
  for (let i = 31; i >= 0; i--) y = (y << 8n) | BigInt(i === 31 ? b[i]! & 0x7f : b[i]!);
  y = mod(y);
  const sign = b[31]! >> 7;
  const u = mod(y * y - 1n);
  const v = mod(D * y * y + 1n);
  let x = mod(u * pow(v, 3n) * pow(u * pow(v, 7n), (P - 5n) / 8n));
  if (mod(v * x * x) !== u) {
    if (mod(v * x * x) !== mod(-u)) return undefined;
    x = mod(x * pow(2n, (P - 1n) / 4n));
  }
  if (Number(x & 1n) !== sign) x = mod(-x);
  return [x, y];
}
function order(pt: Pt): number | undefined {
  let q = pt;
  for (let n = 1; n <= 8; n++) {
    if (q[0] === 0n && q[1] === 1n) return n;
    q = add(q, pt);
  }
  return undefined;
}
const bytes = (hex: string): Uint8Array => new Uint8Array(Buffer.from(hex, 'hex'));
/** Little-endian 32-byte encoding of `y` with the sign bit set as given. */
const encodeY = (y: bigint, sign: boolean): Uint8Array => {
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = Number((y >> BigInt(8 * i)) & 0xffn);
  if (sign) out[31]! |= 0x80;
  return out;
};

describe('Ed25519 strict encoding checks', () => {
  it('lists exactly the 8 points of E[8], each with its stated order, canonically encoded', () => {
    expect(new Set(ED25519_SMALL_ORDER_POINTS.map((p) => p.hex)).size).toBe(8);
    for (const p of ED25519_SMALL_ORDER_POINTS) {
      const pt = decode(p.hex);
      expect(pt).toBeDefined();
      expect(order(pt!)).toBe(p.order);
      expect(isCanonicalPointEncoding(bytes(p.hex))).toBe(true);
      expect(isSmallOrderPointEncoding(bytes(p.hex))).toBe(true);
    }
    // E[8] is cyclic of order 8: 1 of order 1, 1 of order 2, 2 of order 4, 4 of order 8.
    expect(ED25519_SMALL_ORDER_POINTS.map((p) => p.order).sort()).toEqual([1, 2, 4, 4, 8, 8, 8, 8]);
  });

  it('flags the non-canonical encodings of small-order points as both non-canonical and small-order', () => {
    for (const hex of NON_CANONICAL_SMALL_ORDER) {
      expect(isCanonicalPointEncoding(bytes(hex))).toBe(false);
      expect(isSmallOrderPointEncoding(bytes(hex))).toBe(true);
    }
  });

  it('rejects every y >= p as non-canonical, including on-curve points of large order', () => {
    // 2^255 - 19 + y for y in 0..18 are the only encodings with y >= p.
    for (let y = 0n; y < 19n; y++) {
      for (const sign of [false, true]) expect(isCanonicalPointEncoding(encodeY(ED25519_P + y, sign))).toBe(false);
    }
    // y = 3 is on the curve with order > 8: its non-canonical encoding is not small-order, still refused.
    const y3 = encodeY(ED25519_P + 3n, false);
    expect(decode(Buffer.from(y3).toString('hex'))).toBeDefined();
    expect(order(decode(Buffer.from(y3).toString('hex'))!)).toBeUndefined();
    expect(isSmallOrderPointEncoding(y3)).toBe(false);
    expect(isCanonicalPointEncoding(encodeY(3n, false))).toBe(true);
  });

  it('accepts real attester keys as canonical and not small-order', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jam-ed-'));
    try {
      for (const k of loadOrCreateAttesterKeys(dir, [0, 1, 2, 3])) {
        expect(isCanonicalPointEncoding(k.publicKey)).toBe(true);
        expect(isSmallOrderPointEncoding(k.publicKey)).toBe(false);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('checks S < L at the boundary', () => {
    const le = (n: bigint): Uint8Array => {
      const out = new Uint8Array(32);
      for (let i = 0; i < 32; i++) out[i] = Number((n >> BigInt(8 * i)) & 0xffn);
      return out;
    };
    expect(isCanonicalScalar(le(0n))).toBe(true);
    expect(isCanonicalScalar(le(ED25519_L - 1n))).toBe(true);
    expect(isCanonicalScalar(le(ED25519_L))).toBe(false);
    expect(isCanonicalScalar(le((1n << 256n) - 1n))).toBe(false);
    expect(isCanonicalScalar(new Uint8Array(31))).toBe(false);
  });

  it('returns false for wrong lengths', () => {
    expect(isCanonicalPointEncoding(new Uint8Array(31))).toBe(false);
    expect(isSmallOrderPointEncoding(new Uint8Array(33))).toBe(false);
  });
});
