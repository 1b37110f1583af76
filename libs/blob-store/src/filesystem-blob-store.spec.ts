import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { blake2b256, initHashing, toHex, DomainError } from '@jam/domain';
import { FilesystemBlobStore } from './filesystem-blob-store';

/** All regular files under `dir`, relative paths, sorted. */
function filesUnder(dir: string): string[] {
  return (fs.readdirSync(dir, { recursive: true }) as string[]).filter((f) => fs.statSync(path.join(dir, f)).isFile()).sort();
}
async function* chunks(data: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}
const bytes = (n: number, seed = 1): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);

describe('FilesystemBlobStore', () => {
  let dir: string;
  let store: FilesystemBlobStore;
  beforeAll(() => initHashing());
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jam-blobs-'));
    store = new FilesystemBlobStore(dir);
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('creates a new store directory 0700 (closed to the sandbox executors, which run as another user)', () => {
    const fresh = path.join(dir, 'nested', 'blobs');
    new FilesystemBlobStore(fresh);
    expect(fs.statSync(fresh).mode & 0o777).toBe(0o700);
    expect(fs.readdirSync(fresh).sort()).toEqual(['tmp', 'trash']);
  });

  it('stores under <dir>/<2 hex>/<hash> and reads back the same bytes', async () => {
    const data = bytes(200_000);
    const hash = toHex(blake2b256(data));
    await expect(store.put(hash, chunks(data, 4096), { maxBytes: 1 << 20 })).resolves.toEqual({ created: true, length: 200_000 });
    expect(filesUnder(dir)).toEqual([path.join(hash.slice(2, 4), hash)]);
    expect(fs.statSync(path.join(dir, hash.slice(2, 4), hash)).mode & 0o777).toBe(0o600);
    expect(Buffer.from(await store.getBytes(hash)).equals(Buffer.from(data))).toBe(true);
    const { length, stream } = await store.getStream(hash);
    expect(length).toBe(200_000);
    const streamed: Buffer[] = [];
    for await (const c of stream) streamed.push(c as Buffer);
    expect(Buffer.concat(streamed).equals(Buffer.from(data))).toBe(true);
    expect(await store.has(hash)).toBe(true);
  });

  it('stores the empty blob', async () => {
    const hash = toHex(blake2b256(new Uint8Array(0)));
    await expect(store.put(hash, chunks(new Uint8Array(0), 1), { maxBytes: 0 })).resolves.toEqual({ created: true, length: 0 });
    expect((await store.getBytes(hash)).length).toBe(0);
  });

  it('accepts a Node Readable as the body', async () => {
    const data = bytes(10_000);
    const hash = toHex(blake2b256(data));
    await store.put(hash, Readable.from([Buffer.from(data.subarray(0, 5000)), Buffer.from(data.subarray(5000))]), { maxBytes: 10_000 });
    expect(Buffer.from(await store.getBytes(hash)).equals(Buffer.from(data))).toBe(true);
  });

  it('refuses a body whose hash differs and leaves nothing behind', async () => {
    const data = bytes(5000);
    const wrong = toHex(blake2b256(bytes(5000, 2)));
    const err = await store.put(wrong, chunks(data, 1000), { maxBytes: 1 << 20 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DomainError);
    expect(err).toMatchObject({ code: 'hash_mismatch', details: { expected: wrong, actual: toHex(blake2b256(data)) } });
    expect(filesUnder(dir)).toEqual([]);
    expect(fs.readdirSync(path.join(dir, 'tmp'))).toEqual([]);
    expect(await store.has(wrong)).toBe(false);
  });

  it('stops reading at maxBytes with payload_too_large and leaves nothing behind', async () => {
    const hash = toHex(blake2b256(bytes(10)));
    let produced = 0;
    let finished = false;
    async function* endless(): AsyncGenerator<Uint8Array> {
      try {
        for (;;) {
          produced += 1000;
          yield bytes(1000);
        }
      } finally {
        finished = true; // the store ended the iteration (return()), releasing the source
      }
    }
    await expect(store.put(hash, endless(), { maxBytes: 4500 })).rejects.toMatchObject({ code: 'payload_too_large', details: { max_bytes: 4500 } });
    expect(produced).toBe(5000);
    expect(finished).toBe(true);
    expect(filesUnder(dir)).toEqual([]);
    expect(fs.readdirSync(path.join(dir, 'tmp'))).toEqual([]);
  });

  it('accepts exactly maxBytes', async () => {
    const data = bytes(4096);
    await expect(store.put(toHex(blake2b256(data)), chunks(data, 1000), { maxBytes: 4096 })).resolves.toEqual({ created: true, length: 4096 });
  });

  it('cleans up when the body itself fails mid-stream', async () => {
    const hash = toHex(blake2b256(bytes(10)));
    async function* broken(): AsyncGenerator<Uint8Array> {
      yield bytes(100);
      throw new Error('client aborted');
    }
    await expect(store.put(hash, broken(), { maxBytes: 1000 })).rejects.toThrow('client aborted');
    expect(filesUnder(dir)).toEqual([]);
  });

  it('reports created: false for a second put of the same bytes and keeps one file', async () => {
    const data = bytes(3000);
    const hash = toHex(blake2b256(data));
    await store.put(hash, chunks(data, 512), { maxBytes: 1 << 20 });
    await expect(store.put(hash, chunks(data, 100), { maxBytes: 1 << 20 })).resolves.toEqual({ created: false, length: 3000 });
    expect(filesUnder(dir)).toEqual([path.join(hash.slice(2, 4), hash)]);
  });

  it('still verifies the bytes of a repeated put', async () => {
    const data = bytes(3000);
    const hash = toHex(blake2b256(data));
    await store.put(hash, chunks(data, 512), { maxBytes: 1 << 20 });
    await expect(store.put(hash, chunks(bytes(3000, 9), 512), { maxBytes: 1 << 20 })).rejects.toMatchObject({ code: 'hash_mismatch' });
    expect(Buffer.from(await store.getBytes(hash)).equals(Buffer.from(data))).toBe(true);
  });

  it('lets concurrent puts of the same blob both succeed, exactly one creating it', async () => {
    const data = bytes(300_000);
    const hash = toHex(blake2b256(data));
    const results = await Promise.all(Array.from({ length: 4 }, (_, i) => store.put(hash, chunks(data, 1000 + i * 777), { maxBytes: 1 << 20 })));
    expect(results.map((r) => r.length)).toEqual([300_000, 300_000, 300_000, 300_000]);
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(filesUnder(dir)).toEqual([path.join(hash.slice(2, 4), hash)]);
    expect(Buffer.from(await store.getBytes(hash)).equals(Buffer.from(data))).toBe(true);
  });

  it('keeps concurrent puts of different blobs apart', async () => {
    const blobs = [bytes(50_000, 1), bytes(50_000, 2), bytes(50_000, 3)];
    const hashes = blobs.map((b) => toHex(blake2b256(b)));
    await Promise.all(blobs.map((b, i) => store.put(hashes[i]!, chunks(b, 999), { maxBytes: 1 << 20 })));
    for (const [i, h] of hashes.entries()) expect(Buffer.from(await store.getBytes(h)).equals(Buffer.from(blobs[i]!))).toBe(true);
  });

  it('throws on read when the blob was corrupted on disk', async () => {
    const data = bytes(1000);
    const hash = toHex(blake2b256(data));
    await store.put(hash, chunks(data, 1000), { maxBytes: 1000 });
    const file = path.join(dir, hash.slice(2, 4), hash);
    const tampered = Buffer.from(data);
    tampered[500]! ^= 1;
    fs.writeFileSync(file, tampered);
    await expect(store.getBytes(hash)).rejects.toThrow(/corrupted/);
    fs.writeFileSync(file, data.subarray(0, 999));
    await expect(store.getBytes(hash)).rejects.toThrow(/corrupted/);
  });

  it('maps a missing blob to not_found and deletes idempotently', async () => {
    const data = bytes(10);
    const hash = toHex(blake2b256(data));
    await expect(store.getBytes(hash)).rejects.toMatchObject({ code: 'not_found' });
    await expect(store.getStream(hash)).rejects.toMatchObject({ code: 'not_found' });
    await store.put(hash, chunks(data, 10), { maxBytes: 10 });
    await store.delete(hash);
    await store.delete(hash);
    expect(await store.has(hash)).toBe(false);
    await expect(store.getBytes(hash)).rejects.toMatchObject({ code: 'not_found' });
  });

  it.each([
    ['uppercase hex', '0x' + 'AB'.repeat(32)],
    ['no 0x prefix', 'ab'.repeat(32)],
    ['too short', '0x' + 'ab'.repeat(31)],
    ['path traversal', '0x../../../../etc/passwd'],
    ['non-hex digits', '0x' + 'zz'.repeat(32)],
  ])('rejects an invalid hash string (%s) on every operation', async (_name, hash) => {
    const code = { code: 'invalid_hex' };
    await expect(store.put(hash, chunks(bytes(1), 1), { maxBytes: 10 })).rejects.toMatchObject(code);
    await expect(store.getBytes(hash)).rejects.toMatchObject(code);
    await expect(store.getStream(hash)).rejects.toMatchObject(code);
    await expect(store.has(hash)).rejects.toMatchObject(code);
    await expect(store.delete(hash)).rejects.toMatchObject(code);
    expect(filesUnder(dir)).toEqual([]);
  });

  it('rejects a maxBytes that would disable the limit', async () => {
    const hash = toHex(blake2b256(bytes(1)));
    await expect(store.put(hash, chunks(bytes(1), 1), { maxBytes: Number.NaN })).rejects.toThrow(RangeError);
    expect(filesUnder(dir)).toEqual([]);
  });
});
