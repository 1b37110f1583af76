import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { blake2b256, initHashing, toHex } from '@jam/domain';
import type { StoreMarkerAccess } from './blob-store.port';
import { FilesystemBlobStore } from './filesystem-blob-store';
import { S3BlobStore } from './s3-blob-store';
import { BlobStoreOwnershipError, bindBlobStore, formatStoreMarker, parseStoreMarker, STORE_MARKER_NAME } from './store-marker';
import { startS3TestServer, type S3TestServer } from './testing/s3-test-server';

async function* once(b: Uint8Array): AsyncGenerator<Uint8Array> {
  yield b;
}

/** Puts `n` distinct small blobs; returns their hashes. */
async function putBlobs(store: FilesystemBlobStore | S3BlobStore, n: number, seed: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const data = Uint8Array.of(seed, i, 1, 2, 3);
    const hash = toHex(blake2b256(data));
    await store.put(hash, once(data), { maxBytes: 100 });
    out.push(hash);
  }
  return out;
}

/** A database that knows exactly `known`. */
const knowing = (known: Iterable<string>) => {
  const set = new Set(known);
  return async (hashes: string[]) => new Set(hashes.filter((h) => set.has(h)));
};

async function expectRefusal(p: Promise<unknown>, reason: string): Promise<BlobStoreOwnershipError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(BlobStoreOwnershipError);
  expect(err).toMatchObject({ reason });
  return err as BlobStoreOwnershipError;
}

/**
 * The binding rules, run against each driver. `open()` returns a fresh store on the same location
 * (another process of a deployment), `fresh()` moves to a new, empty location.
 */
function describeBinding(
  name: string,
  ctx: () => {
    open(): FilesystemBlobStore | S3BlobStore;
    fresh(): Promise<void>;
    rawMarker(): Promise<string | undefined>;
    setting: string;
    exclusive: boolean;
  },
): void {
  describe(name, () => {
    beforeEach(async () => ctx().fresh());

    it('an empty store gets a marker naming the database; the same id then passes', async () => {
      const { open, rawMarker, setting } = ctx();
      const id = randomUUID();
      const store = open();
      expect(await bindBlobStore(store, { storeId: id, knownHashes: knowing([]), setting })).toBe('created');
      const raw = await rawMarker();
      expect(parseStoreMarker(raw!)).toBe(id);
      expect(JSON.parse(raw!)).toMatchObject({ format: 'jam-store-marker/1', store_id: id, binding: 'created' });
      // Restart, and another process of the same deployment.
      expect(await bindBlobStore(store, { storeId: id, knownHashes: knowing([]), setting })).toBe('matched');
      expect(await bindBlobStore(open(), { storeId: id.toUpperCase(), knownHashes: knowing([]), setting })).toBe('matched');
      expect(await rawMarker()).toBe(raw);
    });

    it('a store whose marker names another database is refused with the documented error', async () => {
      const { open, rawMarker, setting } = ctx();
      const owner = randomUUID();
      const other = randomUUID();
      await bindBlobStore(open(), { storeId: owner, knownHashes: knowing([]), setting });
      const store = open();
      const blobs = await putBlobs(store, 2, 7);
      // Even a database that knows the blobs may not take a store another database owns.
      const err = await expectRefusal(bindBlobStore(store, { storeId: other, knownHashes: knowing(blobs), setting }), 'foreign');
      expect(err).toMatchObject({ location: store.location, markerLocation: store.markerLocation, storeId: other, markerStoreId: owner });
      expect(err.message).toContain(`blob store ${store.location} belongs to another database`);
      expect(err.message).toContain(`its marker ${store.markerLocation} names store id ${owner}`);
      expect(err.message).toContain(`this database's store id is ${other}`);
      expect(err.message).toContain(`point ${setting} at this deployment's own blob store`);
      expect(err.message).toContain('remove the marker');
      expect(parseStoreMarker((await rawMarker())!)).toBe(owner);
    });

    it('several openers starting at once agree on one id', async () => {
      const { open, rawMarker, setting } = ctx();
      const id = randomUUID();
      const results = await Promise.all(Array.from({ length: 8 }, () => bindBlobStore(open(), { storeId: id, knownHashes: knowing([]), setting })));
      expect(results.filter((r) => r === 'created').length).toBeGreaterThanOrEqual(1);
      expect(results.every((r) => r === 'created' || r === 'matched')).toBe(true);
      expect(parseStoreMarker((await rawMarker())!)).toBe(id);
    });

    it('adopts a store from before markers (blobs, no marker) when the database knows its blobs, and writes the marker', async () => {
      const { open, rawMarker, setting } = ctx();
      const store = open();
      const blobs = await putBlobs(store, 10, 1);
      const id = randomUUID();
      // The database knows 9 of 10 (the tenth may be an orphan awaiting the sweep).
      expect(await bindBlobStore(store, { storeId: id, knownHashes: knowing(blobs.slice(1)), setting })).toBe('adopted');
      expect(JSON.parse((await rawMarker())!)).toMatchObject({ store_id: id, binding: 'adopted' });
      expect(await bindBlobStore(open(), { storeId: id, knownHashes: knowing([]), setting })).toBe('matched');
      // The marker is not a blob: not sampled, not listed.
      expect((await store.sampleBlobs(1000)).sort()).toEqual([...blobs].sort());
    });

    it('refuses an unmarked store of which the database knows only a few blobs (another deployment sharing example code)', async () => {
      const { open, rawMarker, setting } = ctx();
      const store = open();
      const blobs = await putBlobs(store, 10, 3);
      const id = randomUUID();
      // 8 of 10 known: below STORE_ADOPT_MIN_KNOWN (one shared blob used to be enough to adopt)
      const err = await expectRefusal(bindBlobStore(store, { storeId: id, knownHashes: knowing(blobs.slice(2)), setting }), 'unclaimed');
      expect(err.message).toContain(`this database (store id ${id}) knows only 8 of the 10 blobs sampled (adopting needs 90%)`);
      expect(await rawMarker()).toBeUndefined();
    });

    it('refuses an unmarked store with blobs the database does not know, and leaves it unmarked', async () => {
      const { open, rawMarker, setting } = ctx();
      const store = open();
      await putBlobs(store, 2, 2);
      const id = randomUUID();
      const err = await expectRefusal(bindBlobStore(store, { storeId: id, knownHashes: knowing([]), setting }), 'unclaimed');
      expect(err.message).toContain(`blob store ${store.location} holds blobs but has no marker`);
      expect(err.message).toContain(`this database (store id ${id}) knows none of the 2 blobs sampled (adopting needs 90%)`);
      expect(err.message).toContain(`point ${setting} at this deployment's own blob store`);
      expect(err.message).toContain(`printf '%s\\n' ${id}`);
      expect(await rawMarker()).toBeUndefined();
    });

    it('accepts a marker an operator wrote by hand (the bare id) and refuses one that names no id', async () => {
      const { open, setting } = ctx();
      const store = open();
      const id = randomUUID();
      expect(await store.writeMarkerIfAbsent(`${id}\n`)).toBe(true);
      // A store with exclusive create keeps the first marker (s3rver as is overwrites: see the S3 driver).
      if (ctx().exclusive) expect(await store.writeMarkerIfAbsent(formatStoreMarker(randomUUID(), 'created'))).toBe(false);
      expect(await bindBlobStore(store, { storeId: id, knownHashes: knowing([]), setting })).toBe('matched');
      await ctx().fresh();
      const other = open();
      await other.writeMarkerIfAbsent('not an id');
      const err = await expectRefusal(bindBlobStore(other, { storeId: id, knownHashes: knowing([]), setting, attempts: 2 }), 'unreadable');
      expect(err.message).toContain('names no store id (content: "not an id")');
    });
  });
}

describe('blob store binding (store marker)', () => {
  beforeAll(() => initHashing());

  describe('parseStoreMarker', () => {
    it('reads the JSON marker and a bare id, lowercased; nothing else', () => {
      const id = randomUUID();
      expect(parseStoreMarker(formatStoreMarker(id, 'created'))).toBe(id);
      expect(parseStoreMarker(` ${id.toUpperCase()}\n`)).toBe(id);
      for (const bad of ['', '\n', 'x', '{}', '{"store_id":"nope"}', '[1]', 'null', `${id} ${id}`]) expect(parseStoreMarker(bad)).toBeUndefined();
    });
  });

  let dir = '';
  const fsCtx = {
    open: () => new FilesystemBlobStore(dir),
    fresh: async () => {
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jam-marker-'));
    },
    rawMarker: async () => (fs.existsSync(path.join(dir, STORE_MARKER_NAME)) ? fs.readFileSync(path.join(dir, STORE_MARKER_NAME), 'utf8') : undefined),
    setting: 'JAM_BLOB_DIR',
    exclusive: true,
  };
  afterAll(() => dir && fs.rmSync(dir, { recursive: true, force: true }));
  describeBinding('filesystem', () => fsCtx);

  describe('filesystem specifics', () => {
    beforeEach(() => fsCtx.fresh());

    it('the marker is <blob_dir>/.jam-store-id, and no maintenance operation lists or removes it', async () => {
      const store = fsCtx.open();
      const id = randomUUID();
      await bindBlobStore(store, { storeId: id, knownHashes: knowing([]), setting: 'JAM_BLOB_DIR' });
      expect(store.markerLocation).toBe(path.join(dir, '.jam-store-id'));
      const old = new Date(Date.now() - 48 * 3_600_000);
      fs.utimesSync(store.markerLocation, old, old);
      expect(await store.sweepTmp(0)).toBe(0);
      expect(await store.recoverTrash()).toBe(0);
      const listed: string[] = [];
      for await (const e of store.entries(0)) listed.push(e.hash);
      expect(listed).toEqual([]);
      expect(fs.readdirSync(path.join(dir, 'tmp'))).toEqual([]);
      expect(parseStoreMarker(fs.readFileSync(store.markerLocation, 'utf8'))).toBe(id);
    });

    it('of openers of different databases starting at once, exactly one binds; the others refuse naming its id', async () => {
      const ids = Array.from({ length: 6 }, () => randomUUID());
      const settled = await Promise.allSettled(
        ids.map((id) => bindBlobStore(fsCtx.open(), { storeId: id, knownHashes: knowing([]), setting: 'JAM_BLOB_DIR' })),
      );
      const winners = ids.filter((_, i) => settled[i]!.status === 'fulfilled');
      expect(winners).toHaveLength(1);
      expect(parseStoreMarker((await fsCtx.rawMarker())!)).toBe(winners[0]);
      for (const s of settled) {
        if (s.status === 'rejected') expect(s.reason).toMatchObject({ reason: 'foreign', markerStoreId: winners[0] });
      }
    });

    it('re-reads a marker another process has created but not yet filled (no hard links: wx then write)', async () => {
      const store = fsCtx.open();
      const id = randomUUID();
      fs.writeFileSync(store.markerLocation, '');
      setTimeout(() => fs.writeFileSync(store.markerLocation, `${id}\n`), 150);
      expect(await bindBlobStore(store, { storeId: id, knownHashes: knowing([]), setting: 'JAM_BLOB_DIR' })).toBe('matched');
    });

    it('refuses a marker that is not a regular file (directory, FIFO, dangling symlink) as unreadable, without hanging', async () => {
      const refused = async (make: (marker: string) => void, content: RegExp) => {
        await fsCtx.fresh();
        const store = fsCtx.open();
        make(store.markerLocation);
        const err = await expectRefusal(
          bindBlobStore(store, { storeId: randomUUID(), knownHashes: knowing([]), setting: 'JAM_BLOB_DIR', attempts: 1 }),
          'unreadable',
        );
        expect(err.message).toMatch(content);
      };
      await refused((m) => fs.mkdirSync(m), /a directory/);
      // a FIFO nobody writes to: a blocking open would wait for a writer forever
      await refused((m) => execFileSync('mkfifo', [m]), /a FIFO/);
      await refused((m) => fs.symlinkSync(path.join(dir, 'nowhere'), m), /a symbolic link to a missing file/);
    });
  });

  describe('S3 (s3rver)', () => {
    let s3: S3TestServer;
    let prefix = '';
    const stores: S3BlobStore[] = [];
    const s3Ctx = {
      // s3rver writes an object in place, so a GET racing a PUT of the same key (the overwrites
      // in the concurrent test) can break off after a few seconds; readMarker retries it.
      open: () => {
        const s = new S3BlobStore(s3.options({ prefix }));
        stores.push(s);
        return s;
      },
      fresh: async () => {
        prefix = `jam/${randomUUID().slice(0, 8)}`;
      },
      rawMarker: async () => {
        try {
          const out = await s3.client().send(new GetObjectCommand({ Bucket: s3.bucket, Key: `${prefix}/.jam-store-id` }));
          return await out.Body!.transformToString();
        } catch (err) {
          if ((err as { name?: string }).name === 'NoSuchKey') return undefined;
          throw err;
        }
      },
      setting: 'JAM_S3_BUCKET/JAM_S3_PREFIX',
      exclusive: false,
    };
    beforeAll(async () => {
      s3 = await startS3TestServer();
    });
    afterAll(async () => {
      for (const s of stores) s.close();
      await s3.close();
    });
    describeBinding('S3 without conditional writes (s3rver as is)', () => s3Ctx);

    it('the marker is <prefix>/.jam-store-id; the store is named s3://<bucket>/<prefix>/', async () => {
      await s3Ctx.fresh();
      const store = s3Ctx.open();
      expect(store.location).toBe(`s3://${s3.bucket}/${prefix}/`);
      expect(store.markerLocation).toBe(`s3://${s3.bucket}/${prefix}/.jam-store-id`);
      const root = new S3BlobStore(s3.options({ prefix: '' }));
      stores.push(root);
      expect(root.markerLocation).toBe(`s3://${s3.bucket}/.jam-store-id`);
      // The marker is outside the hash namespace: listing and sampling skip it.
      await s3.client().send(new PutObjectCommand({ Bucket: s3.bucket, Key: `${prefix}/.jam-store-id`, Body: randomUUID() }));
      const listed: string[] = [];
      for await (const e of store.entries(0)) listed.push(e.hash);
      expect(listed).toEqual([]);
      expect(await store.sampleBlobs(10)).toEqual([]);
    });
  });

  describe('S3 with conditional writes (If-None-Match, as AWS S3 and MinIO)', () => {
    let s3: S3TestServer;
    let prefix = '';
    const stores: S3BlobStore[] = [];
    const s3Ctx = {
      open: () => {
        const s = new S3BlobStore(s3.options({ prefix }));
        stores.push(s);
        return s;
      },
      fresh: async () => {
        prefix = `jam/${randomUUID().slice(0, 8)}`;
      },
      rawMarker: async () => {
        try {
          const out = await s3.client().send(new GetObjectCommand({ Bucket: s3.bucket, Key: `${prefix}/.jam-store-id` }));
          return await out.Body!.transformToString();
        } catch (err) {
          if ((err as { name?: string }).name === 'NoSuchKey') return undefined;
          throw err;
        }
      },
      setting: 'JAM_S3_BUCKET/JAM_S3_PREFIX',
      exclusive: true,
    };
    beforeAll(async () => {
      s3 = await startS3TestServer('jam-cond', { conditionalWrites: true });
    });
    afterAll(async () => {
      for (const s of stores) s.close();
      await s3.close();
    });
    describeBinding('S3 conditional', () => s3Ctx);

    it('of openers of different databases starting at once, exactly one binds; the others refuse naming its id', async () => {
      await s3Ctx.fresh();
      const ids = Array.from({ length: 5 }, () => randomUUID());
      const settled = await Promise.allSettled(
        ids.map((id) => bindBlobStore(s3Ctx.open(), { storeId: id, knownHashes: knowing([]), setting: 'JAM_S3_PREFIX' })),
      );
      const winners = ids.filter((_, i) => settled[i]!.status === 'fulfilled');
      expect(winners).toHaveLength(1);
      expect(parseStoreMarker((await s3Ctx.rawMarker())!)).toBe(winners[0]);
      for (const s of settled) {
        if (s.status === 'rejected') expect(s.reason).toMatchObject({ reason: 'foreign', markerStoreId: winners[0] });
      }
    });
  });
});

// Type check: both drivers expose the marker port.
const _ports: StoreMarkerAccess[] = [] as (FilesystemBlobStore | S3BlobStore)[];
void _ports;
