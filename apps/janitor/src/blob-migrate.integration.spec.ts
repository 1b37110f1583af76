import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { blake2b256, initHashing, toHex } from '@jam/domain';
import type { Repositories } from '@jam/persistence';
import { bindBlobStore, FilesystemBlobStore, parseStoreMarker, S3BlobStore, TieredBlobStore } from '@jam/blob-store';
import { createLogger, JamMetrics } from '@jam/telemetry';
import { startS3TestServer, type S3TestServer } from '../../../libs/blob-store/src/testing/s3-test-server';
import { createMigratedDatabase, type MigratedTestDatabase } from '../../../test/support/database';
import { runBlobMigration } from './blob-migrate.task';
import { runBlobHygiene } from './blob-hygiene.task';

const MIN = 64 * 1024;

async function* once(b: Uint8Array): AsyncGenerator<Uint8Array> {
  yield b;
}
const bytesOf = (n: number): Uint8Array => new Uint8Array(randomBytes(n));

describe('S3 offload: tiered store, migrator and verifier (PostgreSQL + s3rver)', () => {
  let db: MigratedTestDatabase | undefined;
  let repos: Repositories;
  let s3: S3TestServer;
  let blobDir: string;
  let local: FilesystemBlobStore;
  let remote: S3BlobStore;
  let tiered: TieredBlobStore;
  const logger = createLogger({ level: 'silent' });
  const metrics = new JamMetrics({ defaultMetrics: false });

  beforeAll(async () => {
    await initHashing();
    db = await createMigratedDatabase('s3', { poolSize: 4 });
    repos = db.repos;
    s3 = await startS3TestServer();
    blobDir = fs.mkdtempSync(path.join(os.tmpdir(), 'jam-tiered-'));
    local = new FilesystemBlobStore(blobDir);
    remote = new S3BlobStore(s3.options({ prefix: 'offload' }));
    tiered = new TieredBlobStore(local, remote, MIN);
  });
  afterAll(async () => {
    remote?.close();
    await s3?.close();
    fs.rmSync(blobDir, { recursive: true, force: true });
    await db?.drop();
  });

  /** PUT as the gateway does it, recording the tier the store reports. */
  const upload = async (data: Uint8Array) => {
    const hash = toHex(blake2b256(data));
    const put = await tiered.put(hash, once(data), { maxBytes: 1 << 22 });
    await repos.preimages.insertIfAbsent({ hash, length: data.length, storageTier: put.tier ?? tiered.tier, uploadedBy: 'alice' });
    return { hash, put };
  };

  it('routes by size: below s3_offload_min_bytes to the filesystem, at or above it to S3; reads find both', async () => {
    const small = bytesOf(MIN - 1);
    const big = bytesOf(MIN);
    const s = await upload(small);
    const b = await upload(big);
    expect(s.put).toEqual({ created: true, length: MIN - 1, tier: 'fs' });
    expect(b.put).toEqual({ created: true, length: MIN, tier: 's3' });
    expect([await local.has(s.hash), await remote.has(s.hash)]).toEqual([true, false]);
    expect([await local.has(b.hash), await remote.has(b.hash)]).toEqual([false, true]);
    expect(Buffer.from(await tiered.getBytes(s.hash)).equals(Buffer.from(small))).toBe(true);
    expect(Buffer.from(await tiered.getBytes(b.hash)).equals(Buffer.from(big))).toBe(true);
    expect((await tiered.getStream(b.hash)).length).toBe(MIN);
    expect((await repos.preimages.get(b.hash))?.storageTier).toBe('s3');
    await tiered.delete(b.hash);
    expect(await tiered.has(b.hash)).toBe(false);
  });

  it('the migrator moves big filesystem blobs with a row to S3, updates storage_tier, and is bounded per run', async () => {
    const bigs = [bytesOf(MIN + 10), bytesOf(MIN + 20), bytesOf(MIN + 30)];
    const hashes: string[] = [];
    for (const data of bigs) {
      // Stored before offload was switched on.
      const hash = toHex(blake2b256(data));
      await local.put(hash, once(data), { maxBytes: 1 << 22 });
      await repos.preimages.insertIfAbsent({ hash, length: data.length, storageTier: 'fs', uploadedBy: 'alice' });
      hashes.push(hash);
    }
    const smallData = bytesOf(100);
    const small = toHex(blake2b256(smallData));
    await local.put(small, once(smallData), { maxBytes: 1 << 22 });
    await repos.preimages.insertIfAbsent({ hash: small, length: 100, storageTier: 'fs', uploadedBy: 'alice' });
    const orphanData = bytesOf(MIN + 40);
    const orphan = toHex(blake2b256(orphanData));
    await local.put(orphan, once(orphanData), { maxBytes: 1 << 22 });

    const first = await runBlobMigration({ preimages: repos.preimages, tiered, metrics, logger }, { limit: 2 });
    expect(first).toEqual({ moved: 2, failed: 0 });
    const second = await runBlobMigration({ preimages: repos.preimages, tiered, metrics, logger }, { limit: 10 });
    expect(second).toEqual({ moved: 1, failed: 0 });
    for (const [i, hash] of hashes.entries()) {
      expect(await local.has(hash)).toBe(false);
      expect(await remote.has(hash)).toBe(true);
      expect((await repos.preimages.get(hash))?.storageTier).toBe('s3');
      expect(Buffer.from(await tiered.getBytes(hash)).equals(Buffer.from(bigs[i]!))).toBe(true);
    }
    // Small blobs and orphans (no row) stay where they are.
    expect(await local.has(small)).toBe(true);
    expect((await repos.preimages.get(small))?.storageTier).toBe('fs');
    expect(await local.has(orphan)).toBe(true);
    expect(await remote.has(orphan)).toBe(false);
    expect(await runBlobMigration({ preimages: repos.preimages, tiered, metrics, logger }, { limit: 10 })).toEqual({ moved: 0, failed: 0 });
  });

  it('keeps a large upload on the filesystem while S3 is down; the migrator moves it once S3 answers', async () => {
    const errors: string[] = [];
    // Nothing listens on port 1: every S3 request fails at once.
    const down = new S3BlobStore({ ...s3.options({ prefix: 'offload' }), endpoint: 'http://127.0.0.1:1', timeoutMs: 500, maxAttempts: 1 });
    const outage = new TieredBlobStore(local, down, MIN, (_err, hash) => errors.push(hash));
    try {
      const data = bytesOf(MIN + 50);
      const hash = toHex(blake2b256(data));
      const put = await outage.put(hash, once(data), { maxBytes: 1 << 22 });
      expect(put).toEqual({ created: true, length: MIN + 50, tier: 'fs' });
      expect(errors).toEqual([hash]);
      expect(await local.has(hash)).toBe(true);
      await repos.preimages.insertIfAbsent({ hash, length: data.length, storageTier: put.tier!, uploadedBy: 'alice' });
      expect(await runBlobMigration({ preimages: repos.preimages, tiered, metrics, logger }, { limit: 10 })).toEqual({ moved: 1, failed: 0 });
      expect(await remote.has(hash)).toBe(true);
      expect((await repos.preimages.get(hash))?.storageTier).toBe('s3');
    } finally {
      down.close();
    }
  });

  it('the hygiene verifier re-hashes S3 blobs too and reports a corrupted object without deleting it', async () => {
    const { hash } = await upload(bytesOf(MIN + 5));
    const tampered = Buffer.from(await tiered.getBytes(hash));
    tampered[0] = (tampered[0] ?? 0) ^ 1;
    await s3.client().send(new PutObjectCommand({ Bucket: s3.bucket, Key: `offload/${hash}`, Body: tampered }));
    await expect(tiered.getBytes(hash)).rejects.toThrow(/corrupted/);
    const shard = parseInt(hash.slice(2, 4), 16);
    const result = await runBlobHygiene({ preimages: repos.preimages, blobs: tiered, metrics, logger }, { graceHours: 24, verifySample: 1, startShard: shard });
    expect(result.corrupt).toEqual([hash]);
    expect(await remote.has(hash)).toBe(true);
  });

  it('binds both tiers (adopting them: the database knows their blobs), and the orphan sweep leaves both markers alone', async () => {
    const storeId = await repos.storeIdentity.get();
    const bind = (store: FilesystemBlobStore | S3BlobStore) =>
      bindBlobStore(store, { storeId, setting: 'test', knownHashes: (h) => repos.preimages.existing(h) });
    // Earlier tests filled both tiers with blobs and no marker: an upgrade. They also left orphans,
    // which in a store this small are more than the 10% adoption allows: refused, until swept.
    await expect(bind(local)).rejects.toThrow(/knows only \d+ of the \d+ blobs sampled \(adopting needs 90%\)/);
    await runBlobHygiene({ preimages: repos.preimages, blobs: tiered, metrics, logger }, { graceHours: 0, verifySample: 0, startShard: 0 });
    expect(await bind(local)).toBe('adopted');
    expect(await bind(remote)).toBe('adopted');
    const localOrphan = bytesOf(100);
    const remoteOrphan = bytesOf(MIN + 60);
    const lo = toHex(blake2b256(localOrphan));
    const ro = toHex(blake2b256(remoteOrphan));
    await local.put(lo, once(localOrphan), { maxBytes: 1 << 22 });
    await remote.put(ro, once(remoteOrphan), { maxBytes: 1 << 22 });
    const old = new Date(Date.now() - 48 * 3_600_000);
    fs.utimesSync(path.join(blobDir, lo.slice(2, 4), lo), old, old);
    await new Promise((r) => setTimeout(r, 1100)); // S3 LastModified has whole seconds

    const result = await runBlobHygiene({ preimages: repos.preimages, blobs: tiered, metrics, logger }, { graceHours: 0, verifySample: 0, startShard: 0 });
    expect(result.orphans).toBeGreaterThanOrEqual(2);
    expect(await local.has(lo)).toBe(false);
    expect(await remote.has(ro)).toBe(false);
    expect(parseStoreMarker(fs.readFileSync(path.join(blobDir, '.jam-store-id'), 'utf8'))).toBe(storeId);
    const marker = await s3.client().send(new GetObjectCommand({ Bucket: s3.bucket, Key: 'offload/.jam-store-id' }));
    expect(parseStoreMarker(await marker.Body!.transformToString())).toBe(storeId);
    expect([await bind(local), await bind(remote)]).toEqual(['matched', 'matched']);
  });
});
