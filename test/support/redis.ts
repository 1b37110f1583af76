/**
 * The Redis fixture of the integration and e2e specs (the PostgreSQL one is
 * `test/support/database.ts`): unique key prefixes on the shared test Redis and their removal at
 * the end, by SCAN + DEL under each prefix, never FLUSHALL/FLUSHDB (other specs run at the same
 * time on the same server).
 *
 * Typical use:
 *   const redis = createTestRedis('e2e');          // redis.prefix: JAM_QUEUE_PREFIX of the spec
 *   afterAll(() => redis.cleanup());
 */
import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';

/** The shared test Redis. */
export const REDIS_URL = 'redis://127.0.0.1:6379';

/** Deletes every Redis key under `<prefix>:` (SCAN, never FLUSHDB: the server is shared). @returns how many were deleted. */
export async function deleteKeys(redis: Redis, prefix: string): Promise<number> {
  let n = 0;
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
    cursor = next;
    if (keys.length > 0) n += await redis.del(...keys);
  } while (cursor !== '0');
  return n;
}

/** A spec's prefixes on the shared Redis and a connection to it; `cleanup()` removes their keys. */
export interface TestRedis {
  /** `REDIS_URL`, for the processes and queue clients the spec starts. */
  readonly url: string;
  /** The spec's first prefix, `jam<tag><8 hex>` (a valid `JAM_QUEUE_PREFIX`). */
  readonly prefix: string;
  /** A connection for assertions on keys; closed by `cleanup()`. */
  readonly client: Redis;
  /** Another unique prefix with the same tag, also cleaned up (one per describe block or test). */
  newPrefix(): string;
  /** Adds a prefix the spec made itself to the ones cleaned up; @returns it. */
  track(prefix: string): string;
  /** Deletes the keys under every prefix, then disconnects (idempotent). @returns keys deleted. */
  cleanup(): Promise<number>;
}

/**
 * Opens a connection to the test Redis and makes a first unique prefix `jam<tag><8 hex>`.
 * @param tag letters, digits, `_` or `-` (part of a BullMQ prefix and of `JAM_QUEUE_PREFIX`)
 * @throws RangeError for a tag with other characters
 */
export function createTestRedis(tag: string): TestRedis {
  if (!/^[a-zA-Z0-9_-]{1,40}$/.test(tag)) throw new RangeError(`Redis prefix tag must match [a-zA-Z0-9_-]{1,40}, got ${JSON.stringify(tag)}`);
  const prefixes = new Set<string>();
  // lazy: a describe block that makes the fixture at collection time opens nothing until a command runs
  const client = new Redis(REDIS_URL, { lazyConnect: true });
  let closed = false;
  const newPrefix = () => {
    // 4 random bytes, as the specs had before this fixture: with 6, test/e2e/production.e2e-spec.ts
    // failed reproducibly at its first upload (the gateway closed the socket); not explained yet.
    const prefix = `jam${tag}${randomBytes(4).toString('hex')}`;
    prefixes.add(prefix);
    return prefix;
  };
  return {
    url: REDIS_URL,
    prefix: newPrefix(),
    client,
    newPrefix,
    track: (prefix) => {
      prefixes.add(prefix);
      return prefix;
    },
    cleanup: async () => {
      if (closed) return 0;
      closed = true;
      let n = 0;
      try {
        for (const prefix of prefixes) n += await deleteKeys(client, prefix);
      } finally {
        client.disconnect();
      }
      return n;
    },
  };
}
