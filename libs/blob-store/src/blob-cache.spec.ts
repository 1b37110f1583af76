/**
 * Unit tests of BlobCache (one module; the store is an in-memory stand-in counting reads): a blob
 * is read from the store once, kept within the byte budget (least recently used dropped first),
 * concurrent misses share one read, and a failed read is neither cached nor hidden.
 */
import { DomainError } from '@jam/domain';
import type { BlobStore } from './blob-store.port';
import { BlobCache } from './blob-cache';
import { BlobUnavailableError } from './required-blob';

function store(blobs: Map<string, Uint8Array>): { store: BlobStore; reads: string[] } {
  const reads: string[] = [];
  const s = {
    async getBytes(hash: string) {
      reads.push(hash);
      const b = blobs.get(hash);
      if (b === undefined) throw new DomainError('not_found', `blob ${hash} not found`);
      return b;
    },
  };
  return { store: s as unknown as BlobStore, reads };
}

const h = (n: number): string => `0x${n.toString(16).padStart(64, '0')}`;

describe('BlobCache', () => {
  it('reads a blob from the store once, then answers from memory; concurrent misses share one read', async () => {
    const { store: s, reads } = store(new Map([[h(1), new Uint8Array([1, 2, 3])]]));
    const cache = new BlobCache(s, 1024);
    const [a, b] = await Promise.all([cache.read(h(1), 'code'), cache.read(h(1), 'code')]);
    expect(a).toEqual(new Uint8Array([1, 2, 3]));
    expect(b).toBe(a);
    expect(await cache.read(h(1).toUpperCase().replace('0X', '0x'), 'code')).toBe(a);
    expect(reads).toEqual([h(1)]);
    expect(cache.stats).toEqual({ hits: 1, misses: 1 });
    expect(cache.size).toBe(3);
  });

  it('keeps at most maxBytes, dropping the least recently used; a blob over the budget is read but not kept', async () => {
    const blobs = new Map([1, 2, 3, 4].map((n) => [h(n), new Uint8Array(n === 4 ? 20 : 4)]));
    const { store: s, reads } = store(blobs);
    const cache = new BlobCache(s, 10);
    await cache.read(h(1), 'x');
    await cache.read(h(2), 'x');
    await cache.read(h(1), 'x'); // 1 is now the most recently used
    await cache.read(h(3), 'x'); // 12 bytes > 10: 2 goes
    expect(cache.size).toBe(8);
    await cache.read(h(1), 'x');
    await cache.read(h(2), 'x');
    expect(reads).toEqual([h(1), h(2), h(3), h(2)]);
    await cache.read(h(4), 'x');
    await cache.read(h(4), 'x');
    expect(reads.filter((r) => r === h(4))).toHaveLength(2);
    expect(cache.size).toBeLessThanOrEqual(10);
  });

  it('does not cache a failed read: BlobUnavailableError each time until the store has the blob', async () => {
    const blobs = new Map<string, Uint8Array>();
    const { store: s, reads } = store(blobs);
    const cache = new BlobCache(s, 1024);
    const err = await cache.read(h(9), 'code of service 7').catch((e: unknown) => e);
    expect(BlobUnavailableError.is(err)).toBe(true);
    expect((err as Error).message).toMatch(/^blob unavailable: code of service 7/);
    blobs.set(h(9), new Uint8Array([9]));
    expect(await cache.read(h(9), 'code of service 7')).toEqual(new Uint8Array([9]));
    expect(reads).toEqual([h(9), h(9)]);
    expect(() => new BlobCache(s, 0)).toThrow(RangeError);
  });
});
