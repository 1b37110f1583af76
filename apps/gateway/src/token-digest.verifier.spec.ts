import { timingSafeEqual } from 'node:crypto';
import { TOKEN_DIGEST_BYTES, TokenDigestVerifier, tokenDigest } from './token-digest.verifier';

describe('TokenDigestVerifier', () => {
  const tokens = { alice: 'alice-token-0123456789', bob: 'b'.repeat(40), carol: 'c' };
  const digests = new Map(Object.entries(tokens).map(([p, t]) => [p, tokenDigest(t)]));

  /** A recording compare: what every comparison was given, and the real constant-time result. */
  function recorder() {
    const calls: [number, number][] = [];
    const compare = (a: Buffer, b: Buffer) => {
      calls.push([a.length, b.length]);
      return timingSafeEqual(a, b);
    };
    return { calls, verifier: new TokenDigestVerifier(digests, compare) };
  }

  it('matches configured tokens to their principal and refuses others', () => {
    const v = new TokenDigestVerifier(digests);
    expect(v.match(tokens.alice)).toEqual({ principal: 'alice', digest: tokenDigest(tokens.alice) });
    expect(v.match(tokens.bob)?.principal).toBe('bob');
    expect(v.match('alice-token-012345678')).toBeNull();
    expect(v.match('')).toBeNull();
  });

  it('compares fixed-length 32-byte digests against every entry whatever the presented length', () => {
    for (const presented of ['', 'x', tokens.carol, tokens.alice, 'y'.repeat(64), 'z'.repeat(511), 'w'.repeat(100_000)]) {
      const { calls, verifier } = recorder();
      verifier.match(presented);
      // One comparison per configured digest (no early exit), each of two equal-length digests.
      expect(calls).toEqual(Array.from({ length: digests.size }, () => [TOKEN_DIGEST_BYTES, TOKEN_DIGEST_BYTES]));
    }
  });

  it('keeps comparing after a match, so timing does not tell which entry matched', () => {
    const { calls, verifier } = recorder();
    expect(verifier.match(tokens.alice)?.principal).toBe('alice');
    expect(calls).toHaveLength(digests.size);
  });

  it('refuses tokens longer than 512 characters even if configured', () => {
    const long = 'l'.repeat(513);
    expect(new TokenDigestVerifier(new Map([['long', tokenDigest(long)]])).match(long)).toBeNull();
  });

  it('refuses a malformed configured digest at construction', () => {
    expect(() => new TokenDigestVerifier(new Map([['x', 'abcd']]))).toThrow(RangeError);
  });
});
