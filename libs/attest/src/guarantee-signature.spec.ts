import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ed25519 } from '@noble/curves/ed25519';
import { guaranteeMessage } from '@jam/domain';
import { loadOrCreateAttesterKeys, publicKeyFromRaw, type AttesterKey } from './attester-key';
import { ED25519_L, ED25519_SMALL_ORDER_POINTS, isCanonicalPointEncoding, isCanonicalScalar, isSmallOrderPointEncoding } from './ed25519-strict';
import { BASE_POINT, NON_CANONICAL_SMALL_ORDER } from './ed25519.test-vectors';
import { signGuarantee, verifyEd25519Zip215, verifyGuarantee } from './guarantee-signature';

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

  /**
   * The rule before engine 0.7.0, kept here only to show what changed: strict RFC 8032 encodings
   * (canonical S, A and R), no small-order A or R, then OpenSSL's cofactorless check.
   */
  const strictVerify = (publicKey: Uint8Array, h: Uint8Array, signature: Uint8Array): boolean =>
    isCanonicalScalar(signature.subarray(32)) &&
    isCanonicalPointEncoding(publicKey) &&
    !isSmallOrderPointEncoding(publicKey) &&
    isCanonicalPointEncoding(signature.subarray(0, 32)) &&
    !isSmallOrderPointEncoding(signature.subarray(0, 32)) &&
    nodeVerify(publicKey, h, signature);

  describe('ZIP 215, the rule JAM validators verify with (accepted now, refused by the strict rule before)', () => {
    // The 14 x 14 torsion vectors of the JAM conformance suite (davxy/jam-conformance,
    // crypto/ed25519/vectors.json, 196 cases): R and A range over the 8 small-order points and
    // their 6 non-canonical encodings, S = 0, message "dummy"; ZIP 215 accepts every one
    // ([8]0B = [8]R + [8][k]A = 0). Built here from the same encodings.
    const encodings = [...ED25519_SMALL_ORDER_POINTS.map((p) => p.hex), ...NON_CANONICAL_SMALL_ORDER];
    const dummy = new TextEncoder().encode('dummy');

    it('accepts all 196 torsion vectors; the strict rule refused all of them', () => {
      expect(encodings).toHaveLength(14);
      let accepted = 0;
      let strictAccepted = 0;
      for (const r of encodings) {
        for (const a of encodings) {
          const signature = sig(hex(r), new Uint8Array(32));
          if (verifyEd25519Zip215(hex(a), dummy, signature)) accepted++;
          if (isCanonicalPointEncoding(hex(a)) && !isSmallOrderPointEncoding(hex(a))) strictAccepted++;
        }
      }
      expect(accepted).toBe(196);
      expect(strictAccepted).toBe(0);
    });

    it('identity key, R = identity, S = 0: accepted for any message (why only keys made from a secret are ever registered)', () => {
      const forged = sig(hex(IDENTITY), new Uint8Array(32));
      for (let i = 0; i < 8; i++) {
        expect(verifyGuarantee(hex(IDENTITY), reportHashOf(i), forged)).toBe(true);
        expect(strictVerify(hex(IDENTITY), reportHashOf(i), forged)).toBe(false);
      }
    });

    it('honest key, R = identity (small order), S = k*a mod L: accepted now, refused by the strict rule', () => {
      // The key owner can make R = identity: with r = 0, S = k*a satisfies [S]B = R + [k]A.
      const weird = signWithIdentityR(key, hex(IDENTITY), reportHash);
      expect(nodeVerify(key.publicKey, reportHash, weird)).toBe(true);
      expect(verifyGuarantee(key.publicKey, reportHash, weird)).toBe(true);
      expect(strictVerify(key.publicKey, reportHash, weird)).toBe(false);
    });

    it('honest key, R = identity encoded non-canonically (y = p + 1, or x = -0): OpenSSL and noble refuse, ZIP 215 accepts (k is hashed over the bytes as sent)', () => {
      for (const rHex of [
        'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
        '0100000000000000000000000000000000000000000000000000000000000080',
      ]) {
        const weird = signWithIdentityR(key, hex(rHex), reportHash);
        // OpenSSL re-encodes [S]B - [k]A canonically and compares bytes, so it refuses these.
        expect(nodeVerify(key.publicKey, reportHash, weird)).toBe(false);
        expect(strictVerify(key.publicKey, reportHash, weird)).toBe(false);
        // noble's own verify hashes the canonical re-encoding of R, so it refuses too
        expect(ed25519.verify(weird, guaranteeMessage(reportHash), key.publicKey, { zip215: true })).toBe(false);
        expect(verifyGuarantee(key.publicKey, reportHash, weird)).toBe(true);
      }
    });

    it('honest signatures: the strict rule and ZIP 215 agree (nothing accepted before is refused now)', () => {
      // Every signature the strict rule accepted passed OpenSSL's cofactorless check, which
      // implies the cofactored one; so the change only adds acceptances.
      for (let i = 0; i < 32; i++) {
        const h = reportHashOf(i);
        const s = signGuarantee(i % 2 === 0 ? key : other, h);
        const pub = (i % 2 === 0 ? key : other).publicKey;
        expect(strictVerify(pub, h, s)).toBe(true);
        expect(verifyGuarantee(pub, h, s)).toBe(true);
      }
    });

    it('still refuses S >= L, off-curve encodings and wrong equations', () => {
      const s = signGuarantee(key, reportHash);
      const bumped = sig(s.subarray(0, 32), le32(leInt(s.subarray(32)) + ED25519_L));
      expect(verifyGuarantee(key.publicKey, reportHash, bumped)).toBe(false);
      // y = 2 is not on the curve (x^2 = (y^2 - 1) / (d y^2 + 1) has no square root)
      const offCurve = '02' + '00'.repeat(31);
      expect(verifyEd25519Zip215(hex(offCurve), dummy, sig(hex(IDENTITY), new Uint8Array(32)))).toBe(false);
      expect(verifyGuarantee(key.publicKey, reportHash, sig(hex(offCurve), s.subarray(32)))).toBe(false);
      // R = B, S = 1 under an honest key: [k]A is not the identity
      expect(verifyGuarantee(key.publicKey, reportHash, sig(hex(BASE_POINT), le32(1n)))).toBe(false);
    });
  });
});
