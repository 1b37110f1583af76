import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { blake2b256, encodeWorkPackage, initHashing, toHex } from '@jam/domain';
import type { Repositories } from '@jam/persistence';
import { bindBlobStore, FilesystemBlobStore, parseStoreMarker } from '@jam/blob-store';
import { createLogger, JamMetrics } from '@jam/telemetry';
import { RETENTION_V1 } from '@jam/queue-contracts';
import { createMigratedDatabase, type MigratedTestDatabase } from '../../../test/support/database';
import { Janitor, runBlobHygiene, runPreimageGc, runRetention } from '../src';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

const rand32 = (): string => toHex(randomBytes(32));
async function* once(b: Uint8Array): AsyncGenerator<Uint8Array> {
  yield b;
}

describe('janitor storage tasks (PostgreSQL + filesystem blob store)', () => {
  let db: MigratedTestDatabase | undefined;
  let ds: DataSource;
  let repos: Repositories;
  let blobDir: string;
  let blobs: FilesystemBlobStore;
  let metrics: JamMetrics;
  const logger = createLogger({ level: 'silent' });
  let attesterKey: string;

  beforeAll(async () => {
    await initHashing();
    db = await createMigratedDatabase('janitor', { poolSize: 10 });
    ({ dataSource: ds, repos } = db);
    attesterKey = rand32();
    await repos.attesters.upsert(0, attesterKey);
  });
  afterAll(async () => {
    await db?.drop();
  });
  beforeEach(() => {
    blobDir = fs.mkdtempSync(path.join(os.tmpdir(), 'jam-janitor-blobs-'));
    blobs = new FilesystemBlobStore(blobDir);
    metrics = new JamMetrics({ defaultMetrics: false });
  });
  afterEach(() => fs.rmSync(blobDir, { recursive: true, force: true }));

  const blobFile = (hash: string) => path.join(blobDir, hash.slice(2, 4), hash);
  /** PUT as the gateway does it: bytes to the blob store first, then the rows. */
  const upload = async (bytes: Uint8Array, principal = 'alice'): Promise<string> => {
    const hash = toHex(blake2b256(bytes));
    await blobs.put(hash, once(bytes), { maxBytes: 1 << 20 });
    await repos.preimages.insertIfAbsent({ hash, length: bytes.length, storageTier: 'fs', uploadedBy: principal });
    await repos.preimages.addUploader(hash, principal);
    return hash;
  };
  /** Pretends the preimage was last uploaded `ms` ago (row and blob file). */
  const agePreimage = async (hash: string, ms: number) => {
    await ds.query(
      `UPDATE preimage SET created_at = now() - $2 * interval '1 millisecond', last_uploaded_at = now() - $2 * interval '1 millisecond' WHERE hash = $1`,
      [Buffer.from(hash.slice(2), 'hex'), ms],
    );
    await ds.query(`UPDATE preimage_uploader SET created_at = now() - $2 * interval '1 millisecond' WHERE hash = $1`, [Buffer.from(hash.slice(2), 'hex'), ms]);
    const t = new Date(Date.now() - ms);
    if (fs.existsSync(blobFile(hash))) fs.utimesSync(blobFile(hash), t, t);
  };
  const ageFile = (file: string, ms: number) => {
    const t = new Date(Date.now() - ms);
    fs.utimesSync(file, t, t);
  };
  const count = async (sql: string, params: unknown[]): Promise<number> => Number((await ds.query(sql, params))[0].n);
  const bin = (h: string) => Buffer.from(h.slice(2), 'hex');

  const newService = async (): Promise<number> => {
    const code = await upload(randomBytes(64));
    const s = await repos.services.create({ codeHash: code, owner: 'alice', delegates: [], minItemGas: 0n, minMemoGas: 0n });
    await repos.preimages.incrementRefcount(code);
    return s.id;
  };
  /** A real GP-encoded package whose single item names `extrinsics` as extrinsic preimages. */
  const encodedPackage = (serviceId: number, extrinsics: string[]): Uint8Array => {
    const z = new Uint8Array(32);
    return encodeWorkPackage({
      authorization: new Uint8Array(0),
      auth_code_host: serviceId,
      auth_code_hash: z,
      authorizer_config: new Uint8Array(0),
      context: { anchor: z, state_root: z, beefy_root: z, lookup_anchor: z, lookup_anchor_slot: 0, prerequisites: [] },
      items: [
        {
          service: serviceId,
          code_hash: z,
          payload: randomBytes(8),
          refine_gas_limit: 1000n,
          accumulate_gas_limit: 1000n,
          import_segments: [],
          extrinsic: extrinsics.map((h) => ({ hash: bin(h), len: 1 })),
          export_count: 0,
        },
      ],
    });
  };
  /** A package in `status`, with a report, an attestation and (when accumulated) an accumulation row, last changed `ageMs` ago. */
  const newPackage = async (serviceId: number, status: 'pending' | 'accumulated' | 'failed' | 'disputed', ageMs: number, extrinsics: string[] = []) => {
    const hash = rand32();
    await repos.workPackages.insertIfAbsent({ hash, encoded: encodedPackage(serviceId, extrinsics), serviceIds: [serviceId], submittedBy: 'alice' });
    const reportHash = rand32();
    if (status !== 'pending') {
      await repos.workReports.insertIfAbsent({ reportHash, packageHash: hash, encoded: randomBytes(16), engine: 'test/1/1' });
      await repos.attestations.insertIfAbsent({ reportHash, attesterIndex: 0, packageHash: hash, signature: toHex(randomBytes(64)) });
      if (status === 'accumulated') {
        await repos.accumulations.applyOnce({
          reportHash,
          packageHash: hash,
          serviceId,
          loadLimit: { bytes: 1 << 20, items: 1000 },
          run: async () => ({ status: 'ok', gasUsed: 1n, writes: [{ key: randomBytes(4), value: Uint8Array.of(1) }] }),
        });
      }
      expect(await repos.workPackages.transition(hash, ['pending'], status, { reportHash })).toBe(true);
    }
    await ds.query(
      `UPDATE work_package SET updated_at = now() - $2 * interval '1 millisecond', created_at = now() - $2 * interval '1 millisecond' WHERE hash = $1`,
      [bin(hash), ageMs],
    );
    return { hash, reportHash };
  };
  const rowsOf = async (p: { hash: string; reportHash: string }) => ({
    pkg: await count('SELECT count(*) AS n FROM work_package WHERE hash = $1', [bin(p.hash)]),
    reports: await count('SELECT count(*) AS n FROM work_report WHERE package_hash = $1', [bin(p.hash)]),
    attestations: await count('SELECT count(*) AS n FROM attestation WHERE package_hash = $1', [bin(p.hash)]),
    accumulations: await count('SELECT count(*) AS n FROM accumulation WHERE report_hash = $1', [bin(p.reportHash)]),
  });

  describe('retention', () => {
    it('deletes exactly the finished packages past retention_days with their reports, attestations and accumulations, in batches', async () => {
      const svc = await newService();
      const oldAccumulated = await newPackage(svc, 'accumulated', 31 * DAY_MS);
      const oldFailed = await newPackage(svc, 'failed', 40 * DAY_MS);
      const oldDisputed = await newPackage(svc, 'disputed', 90 * DAY_MS);
      const oldPending = await newPackage(svc, 'pending', 90 * DAY_MS);
      const recentAccumulated = await newPackage(svc, 'accumulated', 29 * DAY_MS);
      const storageBefore = await count('SELECT count(*) AS n FROM service_storage WHERE service_id = $1', [svc]);
      expect(storageBefore).toBe(2);

      const result = await runRetention({ ...repos, metrics, logger }, { retentionDays: 30, batchSize: 1 });

      expect(result).toEqual({ packages: 2, reports: 2, attestations: 2, accumulations: 1 });
      for (const gone of [oldAccumulated, oldFailed]) expect(await rowsOf(gone)).toEqual({ pkg: 0, reports: 0, attestations: 0, accumulations: 0 });
      expect(await rowsOf(oldDisputed)).toEqual({ pkg: 1, reports: 1, attestations: 1, accumulations: 0 });
      expect(await rowsOf(oldPending)).toEqual({ pkg: 1, reports: 0, attestations: 0, accumulations: 0 });
      expect(await rowsOf(recentAccumulated)).toEqual({ pkg: 1, reports: 1, attestations: 1, accumulations: 1 });
      // Service storage is state, not history.
      expect(await count('SELECT count(*) AS n FROM service_storage WHERE service_id = $1', [svc])).toBe(2);
      expect(await repos.services.get(svc)).not.toBeNull();
      const deleted = await metrics.janitorDeleted.get();
      expect(deleted.values.find((v) => v.labels.kind === 'package')?.value).toBe(2);
      expect(await runRetention({ ...repos, metrics, logger }, { retentionDays: 30, batchSize: 1 })).toEqual({
        packages: 0,
        reports: 0,
        attestations: 0,
        accumulations: 0,
      });
    });

    it('runs as the retention.v1 janitor job and counts the run', async () => {
      const janitor = new Janitor(
        { ...repos, blobs, queue: undefined as never, attesterCount: 1, threshold: 1, metrics, logger },
        {
          intervalMs: 1000,
          staleMs: 0,
          bootStaleMs: 0,
          retentionDays: 30,
          retentionIntervalMs: HOUR_MS,
          retentionBatchSize: 500,
          preimageGcGraceHours: 24,
          preimageGcIntervalMs: HOUR_MS,
          blobHygieneIntervalMs: HOUR_MS,
          blobVerifySample: 10,
        },
      );
      await janitor.handle({ id: 'retention-1', name: RETENTION_V1, payload: {}, attempt: 1 });
      const runs = await metrics.janitorRuns.get();
      expect(runs.values).toEqual([expect.objectContaining({ labels: { task: 'retention', outcome: 'ok' }, value: 1 })]);
      await expect(janitor.handle({ id: 'x', name: RETENTION_V1, payload: { blob: 1 }, attempt: 1 })).rejects.toThrow(/blob|unrecognized/i);
    });
  });

  describe('preimage GC', () => {
    it('deletes an unreferenced old preimage (rows, then blob) and keeps service code, fresh uploads and in-retention extrinsics', async () => {
      const svc = await newService();
      const code = (await repos.services.get(svc))!.codeHash;
      const unreferenced = await upload(randomBytes(100));
      const fresh = await upload(randomBytes(100));
      const extrinsicOfLive = await upload(randomBytes(100));
      const extrinsicOfExpired = await upload(randomBytes(100));
      for (const h of [code, unreferenced, extrinsicOfLive, extrinsicOfExpired]) await agePreimage(h, 48 * HOUR_MS);
      await newPackage(svc, 'accumulated', 2 * DAY_MS, [extrinsicOfLive]);
      await newPackage(svc, 'accumulated', 60 * DAY_MS, [extrinsicOfExpired]);

      const first = await runPreimageGc({ ...repos, blobs, metrics, logger }, { graceHours: 24 });
      expect(first).toEqual({ preimages: 1, blobs: 1 });
      expect(await repos.preimages.exists(unreferenced)).toBe(false);
      expect(await count('SELECT count(*) AS n FROM preimage_uploader WHERE hash = $1', [bin(unreferenced)])).toBe(0);
      expect(await blobs.has(unreferenced)).toBe(false);
      for (const kept of [code, fresh, extrinsicOfLive, extrinsicOfExpired]) {
        expect(await repos.preimages.exists(kept)).toBe(true);
        expect(await blobs.verify(kept)).toBe('ok');
      }

      // Retention releases the expired package's extrinsic; the next GC run collects it.
      await runRetention({ ...repos, metrics, logger }, { retentionDays: 30, batchSize: 500 });
      expect(await runPreimageGc({ ...repos, blobs, metrics, logger }, { graceHours: 24 })).toEqual({ preimages: 1, blobs: 1 });
      expect(await repos.preimages.exists(extrinsicOfExpired)).toBe(false);
      expect(await blobs.has(extrinsicOfExpired)).toBe(false);
      expect(await repos.preimages.exists(extrinsicOfLive)).toBe(true);
    });

    it('refuses a package whose extrinsic preimage the GC deleted after the gateway checked it', async () => {
      const svc = await newService();
      const x = await upload(randomBytes(10));
      await agePreimage(x, 48 * HOUR_MS);
      expect(await repos.preimages.deleteIfUnreferenced(x, 24 * HOUR_MS)).toBe(true);
      await expect(
        repos.workPackages.insertIfAbsent({ hash: rand32(), encoded: encodedPackage(svc, [x]), serviceIds: [svc], submittedBy: 'alice' }),
      ).rejects.toMatchObject({ code: 'unknown_preimage' });
    });

    it('a re-upload between the row delete and the blob delete keeps the blob, and the upload re-creates the row', async () => {
      const bytes = randomBytes(500);
      const hash = await upload(bytes);
      await agePreimage(hash, 48 * HOUR_MS);
      const graceMs = 24 * HOUR_MS;
      expect(await repos.preimages.deleteIfUnreferenced(hash, graceMs)).toBe(true); // GC: rows gone, committed
      await blobs.put(hash, once(bytes), { maxBytes: 1 << 20 }); // upload: the blob exists, refreshed
      expect(await blobs.deleteUnlessFresh(hash, new Date(Date.now() - graceMs))).toBe(false); // GC: blob too fresh
      expect(await repos.preimages.insertIfAbsent({ hash, length: 500, storageTier: 'fs', uploadedBy: 'bob' })).toEqual({ created: true });
      expect(await blobs.verify(hash)).toBe('ok');
    });

    it('an upload racing the GC ends with the row and its blob (never a row without a blob)', async () => {
      let keptByGc = 0;
      let recreated = 0;
      for (let i = 0; i < 25; i++) {
        const bytes = randomBytes(20_000 + i);
        const hash = await upload(bytes);
        await agePreimage(hash, 48 * HOUR_MS);
        const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));
        const gc = (async () => {
          await delay(i % 5);
          return runPreimageGc({ ...repos, blobs, metrics, logger }, { graceHours: 24 });
        })();
        const up = (async () => {
          await delay((i * 3) % 7);
          await blobs.put(hash, once(bytes), { maxBytes: 1 << 20 });
          await delay(i % 3);
          const r = await repos.preimages.insertIfAbsent({ hash, length: bytes.length, storageTier: 'fs', uploadedBy: 'bob' });
          await repos.preimages.addUploader(hash, 'bob');
          return r;
        })();
        const [, ack] = await Promise.all([gc, up]);
        if (ack.created) recreated++;
        else keptByGc++;
        // The upload was acknowledged: its row and its blob are both there.
        expect(await repos.preimages.exists(hash)).toBe(true);
        expect(await blobs.verify(hash)).toBe('ok');
      }
      // Both outcomes are fine: the GC lost the race (row kept) or won it and the upload re-created the row.
      expect(keptByGc + recreated).toBe(25);
      if (process.env['JAM_TEST_VERBOSE']) console.log({ keptByGc, recreated });
    });
  });

  describe('blob hygiene', () => {
    it('removes old temp files and old orphan blobs, keeps fresh ones and blobs with rows', async () => {
      const tmpOld = path.join(blobDir, 'tmp', 'crashed-upload.1');
      const tmpNew = path.join(blobDir, 'tmp', 'in-flight-upload.2');
      fs.writeFileSync(tmpOld, 'x');
      fs.writeFileSync(tmpNew, 'y');
      ageFile(tmpOld, 2 * HOUR_MS);
      const orphanOld = toHex(blake2b256(Uint8Array.of(1, 2, 3)));
      const orphanNew = toHex(blake2b256(Uint8Array.of(4, 5, 6)));
      await blobs.put(orphanOld, once(Uint8Array.of(1, 2, 3)), { maxBytes: 10 });
      await blobs.put(orphanNew, once(Uint8Array.of(4, 5, 6)), { maxBytes: 10 });
      ageFile(blobFile(orphanOld), 48 * HOUR_MS);
      const recorded = await upload(randomBytes(50));
      await agePreimage(recorded, 48 * HOUR_MS);

      const r = await runBlobHygiene({ ...repos, blobs, metrics, logger }, { graceHours: 24, verifySample: 0 });
      expect(r).toMatchObject({ tmpFiles: 1, orphans: 1, corrupt: [] });
      expect(fs.existsSync(tmpOld)).toBe(false);
      expect(fs.existsSync(tmpNew)).toBe(true);
      expect(await blobs.has(orphanOld)).toBe(false);
      expect(await blobs.has(orphanNew)).toBe(true);
      expect(await blobs.verify(recorded)).toBe('ok');
    });

    it('the orphan sweep and the verifier never touch the store marker, however old', async () => {
      const storeId = await repos.storeIdentity.get();
      const bind = () => bindBlobStore(blobs, { storeId, setting: 'JAM_BLOB_DIR', knownHashes: (h) => repos.preimages.existing(h) });
      expect(await bind()).toBe('created');
      const marker = path.join(blobDir, '.jam-store-id');
      const before = fs.readFileSync(marker, 'utf8');
      ageFile(marker, 30 * DAY_MS);
      const orphan = toHex(blake2b256(Uint8Array.of(7, 7, 7)));
      await blobs.put(orphan, once(Uint8Array.of(7, 7, 7)), { maxBytes: 10 });
      ageFile(blobFile(orphan), 48 * HOUR_MS);
      const kept = await upload(randomBytes(40));
      await agePreimage(kept, 48 * HOUR_MS);

      const r = await runBlobHygiene({ ...repos, blobs, metrics, logger }, { graceHours: 0, verifySample: 1000, startShard: 0 });
      expect(r).toMatchObject({ orphans: 1, verified: 1, corrupt: [] });
      expect(await blobs.has(orphan)).toBe(false);
      expect(await blobs.verify(kept)).toBe('ok');
      expect(fs.readFileSync(marker, 'utf8')).toBe(before);
      expect(parseStoreMarker(before)).toBe(storeId);
      expect(await bind()).toBe('matched');
    });

    it('restores a blob a crashed GC left in the trash', async () => {
      const hash = await upload(randomBytes(30));
      fs.renameSync(blobFile(hash), path.join(blobDir, 'trash', `${hash}.abc123`));
      const r = await runBlobHygiene({ ...repos, blobs, metrics, logger }, { graceHours: 24, verifySample: 0 });
      expect(r.restored).toBe(1);
      expect(await blobs.verify(hash)).toBe('ok');
      expect(fs.readdirSync(path.join(blobDir, 'trash'))).toEqual([]);
    });

    it('the verifier flags a corrupted blob, counts it and keeps it', async () => {
      const good = await upload(randomBytes(1000));
      const bad = await upload(randomBytes(1000));
      const tampered = fs.readFileSync(blobFile(bad));
      tampered[10]! ^= 0xff;
      fs.writeFileSync(blobFile(bad), tampered);

      const r = await runBlobHygiene({ ...repos, blobs, metrics, logger }, { graceHours: 24, verifySample: 100, startShard: 0 });
      expect(r.verified).toBe(2);
      expect(r.corrupt).toEqual([bad]);
      expect((await metrics.blobsCorrupt.get()).values[0]?.value).toBe(1);
      expect(fs.existsSync(blobFile(bad))).toBe(true);
      expect(await blobs.verify(good)).toBe('ok');
    });
  });
});
