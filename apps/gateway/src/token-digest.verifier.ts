import { createHash, timingSafeEqual } from 'node:crypto';

/** sha256 hex of a token, the form tokens are configured, compared and audited in. */
export function tokenDigest(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Bytes in a SHA-256 digest: every comparison below is between two buffers of this length. */
export const TOKEN_DIGEST_BYTES = 32;

/** Longest bearer token accepted, characters; longer ones are refused (after being hashed like any other). */
export const MAX_TOKEN_CHARS = 512;

/** A configured token that matched. */
export interface TokenMatch {
  principal: string;
  /** sha256 hex of the presented token (equal to the configured digest). */
  digest: string;
}

/**
 * Matches a presented bearer token against configured SHA-256 digests (`allowed_tokens`,
 * `admin_tokens`; threat model "Unauthorized Access"). The token is hashed first, so every
 * comparison is between two 32-byte digests whatever the token's length, and every configured
 * digest is compared (no early exit), so timing tells neither the token's length nor which entry
 * matched. `compare` is injectable for tests; production uses `crypto.timingSafeEqual`.
 */
export class TokenDigestVerifier {
  private readonly entries: { principal: string; digest: Buffer }[];

  constructor(
    digests: ReadonlyMap<string, string>,
    private readonly compare: (a: Buffer, b: Buffer) => boolean = timingSafeEqual,
  ) {
    this.entries = [...digests].map(([principal, hex]) => {
      const digest = Buffer.from(hex, 'hex');
      if (digest.length !== TOKEN_DIGEST_BYTES) throw new RangeError(`token digest of ${principal} is not ${TOKEN_DIGEST_BYTES} bytes of hex`);
      return { principal, digest };
    });
  }

  get size(): number {
    return this.entries.length;
  }

  /** @returns the matching principal, or null. Never throws for any string. */
  match(token: string): TokenMatch | null {
    const presented = createHash('sha256').update(token, 'utf8').digest();
    let principal: string | undefined;
    for (const e of this.entries) {
      if (this.compare(presented, e.digest) && principal === undefined) principal = e.principal;
    }
    if (principal === undefined || token.length > MAX_TOKEN_CHARS) return null;
    return { principal, digest: presented.toString('hex') };
  }
}
