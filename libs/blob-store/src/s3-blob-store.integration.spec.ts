import * as fs from 'node:fs';
import * as net from 'node:net';
import { ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { blake2b256, initHashing, toHex, DomainError } from '@jam/domain';
import { S3BlobStore } from './s3-blob-store';
import { BlobStoreUnavailableError } from './blob-store-unavailable.error';
import { startS3TestServer, type S3TestServer } from './testing/s3-test-server';

async function* chunks(data: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}
const bytes = (n: number, seed = 1): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);
const streamToBuffer = async (s: AsyncIterable<unknown>) => {
  const parts: Buffer[] = [];
  for await (const c of s) parts.push(c as Buffer);
  return Buffer.concat(parts);
};

describe('S3BlobStore (s3rver)', () => {
  let s3: S3TestServer;
  let store: S3BlobStore;
  beforeAll(async () => {
    await initHashing();
    s3 = await startS3TestServer();
    store = new S3BlobStore(s3.options());
  });
  afterAll(async () => {
    store.close();
    await s3.close();
  });
  const keys = async () => {
    const out = await s3.client().send(new ListObjectsV2Command({ Bucket: s3.bucket }));
    return (out.Contents ?? []).map((o) => o.Key);
  };

  it('round-trips a blob under <prefix>/<hash>, streams it, lists and deletes it', async () => {
    const data = bytes(300_000);
    const hash = toHex(blake2b256(data));
    await expect(store.put(hash, chunks(data, 65_536), { maxBytes: 1 << 20 })).resolves.toEqual({ created: true, length: 300_000, tier: 's3' });
    expect(await keys()).toContain(`jam/blobs/${hash}`);
    expect(Buffer.from(await store.getBytes(hash)).equals(Buffer.from(data))).toBe(true);
    const { length, stream } = await store.getStream(hash);
    expect(length).toBe(300_000);
    expect((await streamToBuffer(stream)).equals(Buffer.from(data))).toBe(true);
    expect(await store.has(hash)).toBe(true);
    expect(await store.verify(hash)).toBe('ok');
    await expect(store.put(hash, chunks(data, 65_536), { maxBytes: 1 << 20 })).resolves.toMatchObject({ created: false });
    const listed = [];
    for await (const e of store.entries(parseInt(hash.slice(2, 4), 16))) listed.push(e);
    expect(listed[0]).toMatchObject({ hash, length: 300_000 });
    await store.delete(hash);
    expect(await store.has(hash)).toBe(false);
    await expect(store.getBytes(hash)).rejects.toMatchObject({ code: 'not_found' });
    expect(await store.verify(hash)).toBe('missing');
    expect(fs.readdirSync(s3.options().spoolDir)).toEqual([]);
  });

  it('a hash mismatch leaves nothing under the final key (nor anywhere in the bucket)', async () => {
    const before = await keys();
    const data = bytes(10_000, 7);
    const wrong = toHex(blake2b256(bytes(10_000, 8)));
    await expect(store.put(wrong, chunks(data, 1000), { maxBytes: 1 << 20 })).rejects.toMatchObject({ code: 'hash_mismatch' });
    expect(await store.has(wrong)).toBe(false);
    expect(await keys()).toEqual(before);
    expect(fs.readdirSync(s3.options().spoolDir)).toEqual([]);
  });

  it('stops reading as soon as the body exceeds maxBytes and uploads nothing', async () => {
    const before = await keys();
    const data = bytes(50_000, 9);
    const hash = toHex(blake2b256(data));
    let pulled = 0;
    async function* counted() {
      for await (const c of chunks(data, 1000)) {
        pulled++;
        yield c;
      }
    }
    const err = await store.put(hash, counted(), { maxBytes: 20_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DomainError);
    expect((err as DomainError).code).toBe('payload_too_large');
    expect(pulled).toBe(21);
    expect(await store.has(hash)).toBe(false);
    expect(await keys()).toEqual(before);
  });

  it('getBytes and verify detect an object overwritten behind its back; deleteUnlessFresh respects freshness', async () => {
    const data = bytes(4096, 3);
    const hash = toHex(blake2b256(data));
    await store.put(hash, chunks(data, 4096), { maxBytes: 1 << 20 });
    const tampered = Buffer.from(data);
    tampered[100] = (tampered[100] ?? 0) ^ 0xff;
    await s3.client().send(new PutObjectCommand({ Bucket: s3.bucket, Key: `jam/blobs/${hash}`, Body: tampered }));
    await expect(store.getBytes(hash)).rejects.toThrow(/corrupted/);
    expect(await store.verify(hash)).toBe('corrupt');
    expect(await store.deleteUnlessFresh(hash, new Date(Date.now() - 60_000))).toBe(false);
    expect(await store.deleteUnlessFresh(hash, new Date(Date.now() + 60_000))).toBe(true);
    expect(await store.has(hash)).toBe(false);
  });

  it('rejects a malformed hash before any request', async () => {
    await expect(store.has('0xABC')).rejects.toMatchObject({ code: 'invalid_hex' });
  });

  it('fails with a bounded error against a server that accepts and never answers', async () => {
    const sockets: net.Socket[] = [];
    const stall = net.createServer((s) => void sockets.push(s));
    await new Promise<void>((r) => stall.listen(0, '127.0.0.1', () => r()));
    const port = (stall.address() as net.AddressInfo).port;
    const slow = new S3BlobStore({ ...s3.options(), endpoint: `http://127.0.0.1:${port}`, timeoutMs: 300, maxAttempts: 2 });
    const t0 = Date.now();
    try {
      const err = await slow.has(toHex(blake2b256(bytes(1)))).catch((e: unknown) => e);
      // A timeout is an outage of the object store (answered 503 by the gateway), not a bug.
      expect(err).toBeInstanceOf(BlobStoreUnavailableError);
      expect((err as Error).message).toMatch(/timeout|timed out|exceeded/i);
      expect(Date.now() - t0).toBeLessThan(5000);
      expect(sockets.length).toBe(2);
    } finally {
      slow.close();
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => stall.close(() => r()));
    }
  });

  it('reports a refused connection as BlobStoreUnavailableError and a missing object as not_found', async () => {
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as net.AddressInfo).port;
    await new Promise<void>((r) => server.close(() => r()));
    const down = new S3BlobStore({ ...s3.options(), endpoint: `http://127.0.0.1:${port}`, timeoutMs: 1000, maxAttempts: 1 });
    try {
      await expect(down.getStream(toHex(blake2b256(bytes(2))))).rejects.toBeInstanceOf(BlobStoreUnavailableError);
    } finally {
      down.close();
    }
    await expect(store.getStream(toHex(blake2b256(bytes(3))))).rejects.toMatchObject({ code: 'not_found' });
  });
});
