import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { guaranteeMessage } from '@jam/domain';
import { loadOrCreateAttesterKeys, publicKeyFromRaw, type AttesterKey } from './attester-key';
import { ED25519_L, ED25519_SMALL_ORDER_POINTS } from './ed25519-strict';
import { BASE_POINT, NON_CANONICAL_SMALL_ORDER } from './ed25519.test-vectors';
import { signGuarantee, verifyGuarantee } from './guarantee-signature';

const hex = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, 'hex'));
const IDENTITY = '01' + '00'.repeat(31);
const le32 = (n: bigint): Uint8Array => {
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = Number((n >> BigInt(8 * i)) & 0xffn);
  return out;
};
const leInt = (b: Uint8Array): bigint => {
  let n = 0n;
  for (let i = b.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(b[i]!);
  return n;
};
const sig = (r: Uint8Array, s: Uint8Array): Uint8Array => new Uint8Array(Buffer.concat([r, s]));
/** Deterministic 32-byte report hashes for searches. */
const reportHashOf = (i: number): Uint8Array => new Uint8Array(crypto.createHash('sha256').update(`report ${i}`).digest());
/** What Node's own (OpenSSL) verification says, with no strict checks on top. */
const nodeVerify = (publicKey: Uint8Array, reportHash: Uint8Array, signature: Uint8Array): boolean => {
  try {
    return crypto.verify(null, guaranteeMessage(reportHash), publicKeyFromRaw(publicKey), signature);
  } catch {
    return false;
  }
};
/** The clamped secret scalar a of a Node Ed25519 key (RFC 8032 section 5.1.5 steps 1-2). */
const secretScalar = (k: AttesterKey): bigint => {
  const der = k.privateKey.export({ format: 'der', type: 'pkcs8' });
  const h = crypto
    .createHash('sha512')
    .update(der.subarray(der.length - 32))
    .digest();
  const a = new Uint8Array(h.subarray(0, 32));
  a[0]! &= 248;
  a[31]! = (a[31]! & 127) | 64;
  return leInt(a);
};
/** A signature (R, S = k*a mod L) with R chosen by the key owner and r = 0: [S]B = [k]A. */
const signWithIdentityR = (k: AttesterKey, r: Uint8Array, reportHash: Uint8Array): Uint8Array => {
  const kk =
    leInt(
      crypto
        .createHash('sha512')
        .update(Buffer.concat([r, k.publicKey, guaranteeMessage(reportHash)]))
        .digest(),
    ) % ED25519_L;
  return sig(r, le32((kk * secretScalar(k)) % ED25519_L));
};
const flipBit = (b: Uint8Array, byte: number, bit: number): Uint8Array => {
  const c = new Uint8Array(b);
  c[byte]! ^= 1 << bit;
  return c;
};

describe('guarantee signatures', () => {
  let dir: string;
  let key: AttesterKey;
  let other: AttesterKey;
  const reportHash = reportHashOf(0);

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jam-sig-'));
    [key, other] = loadOrCreateAttesterKeys(dir, [0, 1]) as [AttesterKey, AttesterKey];
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('signs 64 bytes that verify under the signer key only', () => {
    const s = signGuarantee(key, reportHash);
    expect(s.length).toBe(64);
    expect(verifyGuarantee(key.publicKey, reportHash, s)).toBe(true);
    expect(verifyGuarantee(other.publicKey, reportHash, s)).toBe(false);
    // Ed25519 is deterministic (RFC 8032 section 5.1.6): same key and message, same bytes.
    expect(Buffer.from(signGuarantee(key, reportHash)).equals(Buffer.from(s))).toBe(true);
  });

  it('signs exactly jam_guarantee ++ report hash (45 bytes)', () => {
    const message = Buffer.concat([Buffer.from('jam_guarantee', 'ascii'), reportHash]);
    expect(message.length).toBe(45);
    expect(crypto.verify(null, message, publicKeyFromRaw(key.publicKey), signGuarantee(key, reportHash))).toBe(true);
  });

  it('rejects any single flipped bit in the report hash, the signature or the key', () => {
    const s = signGuarantee(key, reportHash);
    for (let byte = 0; byte < 32; byte++) {
      for (let bit = 0; bit < 8; bit++) {
        expect(verifyGuarantee(key.publicKey, flipBit(reportHash, byte, bit), s)).toBe(false);
        expect(verifyGuarantee(flipBit(key.publicKey, byte, bit), reportHash, s)).toBe(false);
      }
    }
    for (let byte = 0; byte < 64; byte++) {
      for (let bit = 0; bit < 8; bit++) expect(verifyGuarantee(key.publicKey, reportHash, flipBit(s, byte, bit))).toBe(false);
    }
  });

  it('rejects a signature made over $jam_guarantee ++ report hash (GP context has no $)', () => {
    const wrong = Buffer.concat([Buffer.from('$jam_guarantee', 'ascii'), reportHash]);
    const s = new Uint8Array(crypto.sign(null, wrong, key.privateKey));
    expect(crypto.verify(null, wrong, publicKeyFromRaw(key.publicKey), s)).toBe(true);
    expect(verifyGuarantee(key.publicKey, reportHash, s)).toBe(false);
  });

  it('returns false for wrong lengths instead of throwing', () => {
    const s = signGuarantee(key, reportHash);
    expect(verifyGuarantee(key.publicKey.subarray(0, 31), reportHash, s)).toBe(false);
    expect(verifyGuarantee(key.publicKey, reportHash.subarray(0, 31), s)).toBe(false);
    expect(verifyGuarantee(key.publicKey, reportHash, s.subarray(0, 63))).toBe(false);
    expect(verifyGuarantee(key.publicKey, reportHash, new Uint8Array(65))).toBe(false);
    expect(() => signGuarantee(key, new Uint8Array(31))).toThrow(expect.objectContaining({ code: 'invalid_encoding' }));
  });

  it('rejects S + L (non-canonical S, RFC 8032 section 5.1.7); Node rejects it too', () => {
    const s = signGuarantee(key, reportHash);
    const bumped = sig(s.subarray(0, 32), le32(leInt(s.subarray(32)) + ED25519_L));
    expect(nodeVerify(key.publicKey, reportHash, bumped)).toBe(false);
    expect(verifyGuarantee(key.publicKey, reportHash, bumped)).toBe(false);
  });

  describe('known-bad vectors that Node (OpenSSL) accepts', () => {
    it('identity key, R = identity, S = 0: verifies under Node for every message; refused', () => {
      const forged = sig(hex(IDENTITY), new Uint8Array(32));
      for (let i = 0; i < 8; i++) {
        expect(nodeVerify(hex(IDENTITY), reportHashOf(i), forged)).toBe(true);
        expect(verifyGuarantee(hex(IDENTITY), reportHashOf(i), forged)).toBe(false);
      }
    });

    it('all-zero key (order 4): a forged signature verifies under Node; refused', () => {
      const zero = new Uint8Array(32);
      const forged = sig(zero, new Uint8Array(32)); // R = the same order-4 point, S = 0
      const hits = Array.from({ length: 32 }, (_, i) => reportHashOf(i)).filter((h) => nodeVerify(zero, h, forged));
      expect(hits.length).toBeGreaterThan(0);
      for (const h of hits) expect(verifyGuarantee(zero, h, forged)).toBe(false);
    });

    // R = B (base point, canonical and of prime order), S = 1: [1]B = B + [k]A holds whenever
    // [k]A = identity, i.e. k = H(R ++ A ++ M) is a multiple of the order of A: about 1 message
    // in ord(A). This isolates the public-key checks from the checks on R.
    const keys = [
      ...ED25519_SMALL_ORDER_POINTS.map((p) => ({ hex: p.hex, canonical: true })),
      ...NON_CANONICAL_SMALL_ORDER.map((h) => ({ hex: h, canonical: false })),
    ];
    it.each(keys)('small-order key $hex (canonical: $canonical): R = B, S = 1 verifies under Node; refused', ({ hex: a }) => {
      const forged = sig(hex(BASE_POINT), le32(1n));
      const found = Array.from({ length: 200 }, (_, i) => reportHashOf(i)).find((h) => nodeVerify(hex(a), h, forged));
      expect(found).toBeDefined();
      expect(verifyGuarantee(hex(a), found!, forged)).toBe(false);
    });

    it('honest key, R = identity (small order), S = k*a mod L: verifies under Node; refused', () => {
      // The key owner can make R = identity: with r = 0, S = k*a satisfies [S]B = R + [k]A.
      const weird = signWithIdentityR(key, hex(IDENTITY), reportHash);
      expect(nodeVerify(key.publicKey, reportHash, weird)).toBe(true);
      expect(verifyGuarantee(key.publicKey, reportHash, weird)).toBe(false);
    });

    it('honest key, R = identity encoded non-canonically (y = p + 1, or x = -0): refused (Node also refuses)', () => {
      for (const rHex of [
        'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
        '0100000000000000000000000000000000000000000000000000000000000080',
      ]) {
        const weird = signWithIdentityR(key, hex(rHex), reportHash);
        // OpenSSL re-encodes [S]B - [k]A canonically and compares bytes, so it refuses these.
        expect(nodeVerify(key.publicKey, reportHash, weird)).toBe(false);
        expect(verifyGuarantee(key.publicKey, reportHash, weird)).toBe(false);
      }
    });
  });
});
