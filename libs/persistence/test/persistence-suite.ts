import { randomBytes } from 'node:crypto';
import { DomainError, encodeWorkPackage } from '@jam/domain';
import type { DataSource } from 'typeorm';
import {
  createDataSource,
  CURRENT_HASH_FORMAT,
  OPTIMISTIC_ACCUMULATE_ATTEMPTS,
  createRepositories,
  PERSISTENCE_MIGRATIONS,
  runMigrations,
  type Repositories,
  type ServiceRecord,
  type WorkPackageStatus,
} from '../src';

/** A database the suite may create tables in and drop. */
export interface TestDatabase {
  url: string;
  poolSize: number;
}

/** Shared state handed to extra tests of a spec file. */
export interface SuiteContext {
  ds: DataSource;
  repos: Repositories;
}

export const hash = (): string => '0x' + randomBytes(32).toString('hex');
const sig = (): string => '0x' + randomBytes(64).toString('hex');
const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const tag = (): string => randomBytes(6).toString('hex');
/** A load limit no test state reaches. */
const NO_LOAD_LIMIT = { bytes: Number.MAX_SAFE_INTEGER, items: Number.MAX_SAFE_INTEGER };

async function expectDomainError(p: Promise<unknown>, code: string): Promise<void> {
  await expect(p).rejects.toBeInstanceOf(DomainError);
  await expect(p).rejects.toMatchObject({ code });
}

/**
 * Runs every repository test against `db()`. The database must be empty and owned by the test;
 * the suite migrates it. Returns a getter for the live context.
 */
export function describePersistence(db: () => TestDatabase): () => SuiteContext {
  let ctx: SuiteContext | undefined;
  const get = (): SuiteContext => {
    if (!ctx) throw new Error('suite not initialised');
    return ctx;
  };

  beforeAll(async () => {
    const { url, poolSize } = db();
    const ds = createDataSource({ url, poolSize });
    await ds.initialize();
    expect(await runMigrations(ds)).toEqual([
      'InitialSchema1760000000000',
      'TenancyAndAdmin1761000000000',
      'StorageRetention1762000000000',
      'StoreIdentity1763000000000',
      'AccumulationAttempts1764000000000',
      'SandboxFailures1765000000000',
      'PackageQueuePriority1766000000000',
      'PackageRetries1766500000000',
      'UploadQuotasAndCorruptBlobs1766600000000',
      'BlobFailures1767000000000',
      'GpReportHashAndSegments1768000000000',
      'GuestLogs1768500000000',
      'InFlightCounters1769000000000',
      'ServiceStateVersion1770400000000',
      'GpPartialState1770500000000',
    ]);
    ctx = { ds, repos: createRepositories(ds) };
  });

  async function newService(owner = `owner-${tag()}`): Promise<ServiceRecord> {
    const { repos } = get();
    const code = hash();
    await repos.preimages.insertIfAbsent({ hash: code, length: 10, storageTier: 'db', uploadedBy: owner });
    return repos.services.create({ codeHash: code, owner, delegates: ['d1', 'd2'], minItemGas: 10n, minMemoGas: 2n ** 63n - 1n });
  }

  async function newPackage(serviceIds: number[], submittedBy = `sub-${tag()}`): Promise<string> {
    const h = hash();
    const r = await get().repos.workPackages.insertIfAbsent({ hash: h, encoded: bytes(h), serviceIds, submittedBy });
    expect(r.created).toBe(true);
    return h;
  }

  async function newReport(packageHash: string): Promise<string> {
    const rh = hash();
    await get().repos.workReports.insertIfAbsent({ reportHash: rh, packageHash, encoded: bytes(rh), engine: 'test-engine/1/1' });
    return rh;
  }

  describe('migrations', () => {
    it('runs twice without error: the second run applies nothing, and the SQL itself is idempotent', async () => {
      const { ds } = get();
      expect(await runMigrations(ds)).toEqual([]);
      const runner = ds.createQueryRunner();
      try {
        for (const M of PERSISTENCE_MIGRATIONS) await new M().up(runner);
      } finally {
        await runner.release();
      }
      const tables = await ds.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1`);
      expect(tables.map((t: { table_name: string }) => t.table_name)).toEqual([
        'accumulation',
        'accumulation_attempt',
        'attestation',
        'attester',
        'audit_log',
        'exported_segment',
        'gp_account',
        'gp_accumulate_statistics',
        'gp_accumulated',
        'gp_accumulation_output',
        'gp_chain_state',
        'gp_preimage',
        'gp_preimage_request',
        'gp_ready_record',
        'migrations',
        'preimage',
        'preimage_uploader',
        'principal_in_flight',
        'principal_quota',
        'refine_attempt',
        'service',
        'service_storage',
        'store_identity',
        'work_package',
        'work_package_preimage',
        'work_report',
      ]);
    });
  });

  describe('store identity (blob store binding)', () => {
    it('is one random UUID per database, created once: reads and re-applied migrations keep it', async () => {
      const { ds, repos } = get();
      const id = await repos.storeIdentity.get();
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      const runner = ds.createQueryRunner();
      try {
        for (const M of PERSISTENCE_MIGRATIONS) await new M().up(runner);
      } finally {
        await runner.release();
      }
      expect(await repos.storeIdentity.get()).toBe(id);
      expect(await ds.query('SELECT count(*)::int AS n FROM store_identity')).toEqual([{ n: 1 }]);
      // One row only: a second id cannot be added beside it.
      await expect(ds.query(`INSERT INTO store_identity (singleton, store_id) VALUES (false, '00000000-0000-4000-8000-000000000000')`)).rejects.toMatchObject({
        code: '23514',
      });
    });
  });

  describe('tenancy and admin (issue 4)', () => {
    it('records every uploader and tells who may read a preimage', async () => {
      const { preimages, services } = get().repos;
      const owner = `o-${tag()}`;
      const s = await newService(owner);
      const blob = hash();
      await preimages.insertIfAbsent({ hash: blob, length: 3, storageTier: 'fs', uploadedBy: 'up1' });
      expect(await preimages.addUploader(blob, 'up1')).toEqual({ added: true });
      expect(await preimages.addUploader(blob, 'up1')).toEqual({ added: false });
      expect(await preimages.addUploader(blob, 'up2')).toEqual({ added: true });
      expect(await preimages.isReadableBy(blob, 'up2')).toBe(true);
      expect(await preimages.isReadableBy(blob, owner)).toBe(false);
      // Code of a service: its owner and delegates read it without having uploaded it.
      expect(await preimages.isReadableBy(s.codeHash, owner)).toBe(true);
      expect(await preimages.isReadableBy(s.codeHash, 'd2')).toBe(true);
      expect(await preimages.isReadableBy(s.codeHash, 'stranger')).toBe(false);
      expect(await preimages.isReadableBy(hash(), 'up1')).toBe(false);
      // Extrinsic of a stored package of a service: that service's owner and delegates read it
      // (issue 4: "principals of services that use them"), a member of another service does not;
      // when retention deletes the package, the use ends.
      const extrinsic = hash();
      await preimages.insertIfAbsent({ hash: extrinsic, length: 1, storageTier: 'fs', uploadedBy: 'up1' });
      await preimages.addUploader(extrinsic, 'up1');
      const other = await newService(`o-${tag()}`);
      expect(await preimages.isReadableBy(extrinsic, owner)).toBe(false);
      const z = new Uint8Array(32);
      const pkg = hash();
      await get().repos.workPackages.insertIfAbsent({
        hash: pkg,
        encoded: encodeWorkPackage({
          authorization: new Uint8Array(0),
          auth_code_host: s.id,
          auth_code_hash: z,
          authorizer_config: new Uint8Array(0),
          context: { anchor: z, state_root: z, beefy_root: z, lookup_anchor: z, lookup_anchor_slot: 0, prerequisites: [] },
          items: [
            {
              service: s.id,
              code_hash: z,
              payload: new Uint8Array(0),
              refine_gas_limit: 1n,
              accumulate_gas_limit: 1n,
              import_segments: [],
              extrinsic: [{ hash: Buffer.from(extrinsic.slice(2), 'hex'), len: 1 }],
              export_count: 0,
            },
          ],
        }),
        serviceIds: [s.id],
        submittedBy: owner,
      });
      expect(await preimages.isReadableBy(extrinsic, owner)).toBe(true);
      expect(await preimages.isReadableBy(extrinsic, 'd1')).toBe(true);
      expect(await preimages.isReadableBy(extrinsic, other.owner)).toBe(false);
      expect(await preimages.isReadableBy(extrinsic, 'stranger')).toBe(false);
      await get().ds.query('DELETE FROM work_package WHERE hash = $1', [Buffer.from(pkg.slice(2), 'hex')]);
      expect(await preimages.isReadableBy(extrinsic, owner)).toBe(false);
      expect(await preimages.isReadableBy(extrinsic, 'up1')).toBe(true);
      // Delegates: added once, removed, listed by membership.
      expect((await services.addDelegate(s.id, 'd3'))!.delegates).toEqual(['d1', 'd2', 'd3']);
      expect((await services.addDelegate(s.id, 'd3'))!.delegates).toEqual(['d1', 'd2', 'd3']);
      expect((await services.list({ limit: 1000, member: 'd3' })).map((x) => x.id)).toContain(s.id);
      expect((await services.list({ limit: 1000, member: owner })).map((x) => x.id)).toEqual([s.id]);
      expect((await services.removeDelegate(s.id, 'd3'))!.delegates).toEqual(['d1', 'd2']);
      expect((await services.list({ limit: 1000, member: 'd3' })).map((x) => x.id)).not.toContain(s.id);
      expect(await services.addDelegate(2 ** 31 - 1, 'x')).toBeNull();
    });

    it('keeps per-principal quota overrides and lists disputed packages', async () => {
      const { principalQuotas, workPackages } = get().repos;
      const p = `q-${tag()}`;
      expect(await principalQuotas.get(p)).toBeNull();
      expect((await principalQuotas.upsert({ principal: p, maxPendingPackages: 3 })).maxPendingPackages).toBe(3);
      expect((await principalQuotas.upsert({ principal: p, maxPendingPackages: null })).maxPendingPackages).toBeNull();
      // Upload caps (issue 11): a field left out keeps its value, null goes back to the global setting.
      const caps = await principalQuotas.upsert({ principal: p, maxConcurrentUploads: 4, maxStoredPreimageBytes: 2 ** 40 });
      expect(caps).toMatchObject({ maxPendingPackages: null, maxConcurrentUploads: 4, maxStoredPreimageBytes: 2 ** 40 });
      expect(await principalQuotas.upsert({ principal: p, maxPendingPackages: 9 })).toMatchObject({
        maxPendingPackages: 9,
        maxConcurrentUploads: 4,
        maxStoredPreimageBytes: 2 ** 40,
      });
      expect(await principalQuotas.upsert({ principal: p, maxStoredPreimageBytes: null })).toMatchObject({
        maxPendingPackages: 9,
        maxConcurrentUploads: 4,
        maxStoredPreimageBytes: null,
      });
      expect(await principalQuotas.get(p)).toMatchObject({ maxConcurrentUploads: 4, maxStoredPreimageBytes: null });
      expect((await principalQuotas.list({ limit: 1000 })).map((q) => q.principal)).toContain(p);
      expect(await principalQuotas.delete(p)).toBe(true);
      expect(await principalQuotas.delete(p)).toBe(false);
      const s = await newService();
      const a = await newPackage([s.id]);
      const b = await newPackage([s.id]);
      for (const h of [a, b]) expect(await workPackages.transition(h, ['pending'], 'disputed')).toBe(true);
      const first = await workPackages.listByStatus('disputed', { limit: 1 });
      expect(first.items).toHaveLength(1);
      const second = await workPackages.listByStatus('disputed', { limit: 1000, cursor: first.nextCursor! });
      const seen = [first.items[0]!.hash, ...second.items.map((x) => x.hash)];
      expect(seen).toEqual(expect.arrayContaining([a, b]));
      expect(new Set(seen).size).toBe(seen.length);
    });
  });

  describe('PreimageRepository', () => {
    it('inserts once, reads, counts references', async () => {
      const { preimages } = get().repos;
      const h = hash();
      expect(await preimages.exists(h)).toBe(false);
      expect(await preimages.get(h)).toBeNull();
      expect(await preimages.insertIfAbsent({ hash: h, length: 5_000_000_000, storageTier: 's3', uploadedBy: 'alice' })).toEqual({ created: true });
      expect(await preimages.insertIfAbsent({ hash: h, length: 1, storageTier: 'fs', uploadedBy: 'bob' })).toEqual({ created: false });
      expect(await preimages.exists(h.toUpperCase().replace('0X', '0x'))).toBe(true);
      const rec = await preimages.get(h);
      expect(rec).toMatchObject({ hash: h, length: 5_000_000_000, refcount: 0, storageTier: 's3', uploadedBy: 'alice' });
      expect(rec?.createdAt).toBeInstanceOf(Date);
      expect(await preimages.incrementRefcount(h)).toBe(1);
      expect(await preimages.incrementRefcount(h, 3)).toBe(4);
      expect(await preimages.incrementRefcount(h, -4)).toBe(0);
      await expect(preimages.incrementRefcount(h, -1)).rejects.toMatchObject({ code: '23514' });
      await expectDomainError(preimages.incrementRefcount(hash()), 'unknown_preimage');
      await expectDomainError(preimages.get('0x1234'), 'invalid_hex');
    });

    it('sums the bytes a principal stores and keeps the corrupt mark until cleared (issue 11)', async () => {
      const { preimages } = get().repos;
      const who = `bytes-${tag()}`;
      const [a, b, c] = [hash(), hash(), hash()];
      expect(await preimages.storedBytesOf(who)).toBe(0);
      await preimages.insertIfAbsent({ hash: a, length: 3_000_000_000, storageTier: 's3', uploadedBy: who });
      await preimages.addUploader(a, who);
      await preimages.insertIfAbsent({ hash: b, length: 100, storageTier: 'fs', uploadedBy: 'someone-else' });
      await preimages.addUploader(b, 'someone-else');
      await preimages.insertIfAbsent({ hash: c, length: 7, storageTier: 'fs', uploadedBy: 'someone-else' });
      await preimages.addUploader(c, who);
      // Every preimage the principal uploaded counts whole, shared or not; others' do not.
      expect(await preimages.storedBytesOf(who)).toBe(3_000_000_007);
      expect(await preimages.isUploader(a, who)).toBe(true);
      expect(await preimages.isUploader(b, who)).toBe(false);

      expect((await preimages.get(a))!.corruptAt).toBeNull();
      expect(await preimages.markCorrupt(a)).toBe(true);
      const first = (await preimages.get(a))!.corruptAt;
      expect(first).toBeInstanceOf(Date);
      expect(await preimages.markCorrupt(a)).toBe(false);
      expect((await preimages.get(a))!.corruptAt).toEqual(first);
      expect(await preimages.clearCorrupt(a)).toBe(true);
      expect(await preimages.clearCorrupt(a)).toBe(false);
      expect((await preimages.get(a))!.corruptAt).toBeNull();
      expect(await preimages.markCorrupt(hash())).toBe(false);
    });
  });

  describe('ServiceRepository and ServiceStorageRepository', () => {
    it('creates services with increasing ids, reads them, pages by id and owner', async () => {
      const { services } = get().repos;
      const owner = `owner-${tag()}`;
      const created: ServiceRecord[] = [];
      for (let i = 0; i < 5; i++) created.push(await newService(owner));
      await newService();
      const ids = created.map((s) => s.id);
      expect(ids[0]).toBeGreaterThanOrEqual(1);
      expect([...ids].sort((a, b) => a - b)).toEqual(ids);
      expect(await services.get(ids[0]!)).toEqual(created[0]);
      expect(created[0]).toMatchObject({ owner, delegates: ['d1', 'd2'], minItemGas: 10n, minMemoGas: 2n ** 63n - 1n });
      expect(await services.get(2_000_000_000)).toBeNull();

      const seen: number[] = [];
      let afterId: number | undefined;
      for (;;) {
        const page = await services.list({ owner, limit: 2, ...(afterId === undefined ? {} : { afterId }) });
        if (page.length === 0) break;
        seen.push(...page.map((s) => s.id));
        afterId = page[page.length - 1]!.id;
      }
      expect(seen).toEqual(ids);
      expect((await services.list({ limit: 1000 })).length).toBeGreaterThanOrEqual(6);
      await expectDomainError(services.create({ codeHash: hash(), owner, delegates: [], minItemGas: 0n, minMemoGas: 0n }), 'unknown_preimage');
      await expectDomainError(
        services.create({ codeHash: created[0]!.codeHash, owner, delegates: [], minItemGas: 2n ** 63n, minMemoGas: 0n }),
        'invalid_request',
      );
    });

    it('reads storage by key and as a snapshot keyed by 0x hex', async () => {
      const { serviceStorage, accumulations } = get().repos;
      const s = await newService();
      const pkg = await newPackage([s.id]);
      const rep = await newReport(pkg);
      expect(await serviceStorage.getStorage(s.id, bytes('a'))).toBeNull();
      expect((await serviceStorage.storageSnapshot(s.id)).size).toBe(0);
      await accumulations.applyOnce({
        reportHash: rep,
        packageHash: pkg,
        serviceId: s.id,
        loadLimit: NO_LOAD_LIMIT,
        run: async () => ({
          status: 'ok',
          gasUsed: 1n,
          writes: [
            { key: bytes('a'), value: new Uint8Array([1, 2, 3]) },
            { key: new Uint8Array([0, 255]), value: new Uint8Array() },
          ],
        }),
      });
      expect(await serviceStorage.getStorage(s.id, bytes('a'))).toEqual(new Uint8Array([1, 2, 3]));
      const snap = await serviceStorage.storageSnapshot(s.id);
      expect([...snap.entries()]).toEqual([
        ['0x00ff', new Uint8Array()],
        ['0x61', new Uint8Array([1, 2, 3])],
      ]);
    });
  });

  describe('WorkPackageRepository', () => {
    it('inserts idempotently and round-trips the encoding', async () => {
      const { workPackages } = get().repos;
      const s = await newService();
      const h = hash();
      const encoded = randomBytes(1000);
      const first = await workPackages.insertIfAbsent({ hash: h, encoded, serviceIds: [s.id, s.id + 1], submittedBy: 'carol' });
      expect(first.created).toBe(true);
      expect(first.row).toMatchObject({
        hash: h,
        serviceIds: [s.id, s.id + 1],
        submittedBy: 'carol',
        status: 'pending',
        reportHash: null,
        accumulatedAt: null,
      });
      const again = await workPackages.insertIfAbsent({ hash: h, encoded: new Uint8Array([9]), serviceIds: [1], submittedBy: 'mallory' });
      expect(again.created).toBe(false);
      expect(again.row).toEqual(first.row);
      expect(Buffer.from((await workPackages.get(h))!.encoded).equals(encoded)).toBe(true);
      expect(await workPackages.get(hash())).toBeNull();
    });

    it('stores the package and its extrinsic references in one statement: both or neither (issue 8)', async () => {
      const { ds, repos } = get();
      const s = await newService();
      const z = new Uint8Array(32);
      const stored = hash();
      await repos.preimages.insertIfAbsent({ hash: stored, length: 1, storageTier: 'db', uploadedBy: 'carol' });
      const pkg = (extrinsics: string[]): Uint8Array =>
        encodeWorkPackage({
          authorization: new Uint8Array(0),
          auth_code_host: s.id,
          auth_code_hash: z,
          authorizer_config: new Uint8Array(0),
          context: { anchor: z, state_root: z, beefy_root: z, lookup_anchor: z, lookup_anchor_slot: 0, prerequisites: [] },
          items: [
            {
              service: s.id,
              code_hash: z,
              payload: new Uint8Array(0),
              refine_gas_limit: 1n,
              accumulate_gas_limit: 1n,
              import_segments: [],
              extrinsic: extrinsics.map((x) => ({ hash: Buffer.from(x.slice(2), 'hex'), len: 1 })),
              export_count: 0,
            },
          ],
        });
      const refsOf = async (h: string): Promise<string[]> =>
        (
          await ds.query<{ p: string }[]>(
            `SELECT '0x' || encode(preimage_hash, 'hex') AS p FROM work_package_preimage WHERE package_hash = decode($1, 'hex') ORDER BY 1`,
            [h.slice(2)],
          )
        ).map((r) => r.p);
      const ok = hash();
      expect((await repos.workPackages.insertIfAbsent({ hash: ok, encoded: pkg([stored]), serviceIds: [s.id], submittedBy: 'carol' })).created).toBe(true);
      expect(await refsOf(ok)).toEqual([stored]);
      // the same package again: no second reference row (the references go with a new row only)
      expect((await repos.workPackages.insertIfAbsent({ hash: ok, encoded: pkg([stored]), serviceIds: [s.id], submittedBy: 'carol' })).created).toBe(false);
      expect(await refsOf(ok)).toEqual([stored]);
      const bad = hash();
      await expectDomainError(
        repos.workPackages.insertIfAbsent({ hash: bad, encoded: pkg([stored, hash()]), serviceIds: [s.id], submittedBy: 'carol' }),
        'unknown_preimage',
      );
      expect(await repos.workPackages.get(bad)).toBeNull();
      expect(await refsOf(bad)).toEqual([]);
    });

    it('transitions by compare-and-set and sets report hash, error and accumulated_at', async () => {
      const { workPackages } = get().repos;
      const s = await newService();
      const h = await newPackage([s.id]);
      const rh = hash();
      expect(await workPackages.transition(h, ['attesting'], 'attested')).toBe(false);
      expect(await workPackages.transition(h, ['pending'], 'refining')).toBe(true);
      expect(await workPackages.transition(h, ['pending'], 'refining')).toBe(false);
      expect(await workPackages.transition(h, ['refining'], 'attesting', { reportHash: rh })).toBe(true);
      expect(await workPackages.transition(h, ['attesting'], 'attested')).toBe(true);
      expect(await workPackages.transition(h, ['attested'], 'accumulating')).toBe(true);
      expect(await workPackages.transition(h, ['accumulating'], 'accumulated')).toBe(true);
      const row = (await workPackages.get(h))!;
      expect(row).toMatchObject({ status: 'accumulated', reportHash: rh, errorCode: null });
      expect(row.accumulatedAt).toBeInstanceOf(Date);
      expect(row.updatedAt.getTime()).toBeGreaterThanOrEqual(row.createdAt.getTime());

      const f = await newPackage([s.id]);
      expect(await workPackages.transition(f, ['pending', 'refining'], 'failed', { errorCode: 'refine_sandbox_failure', errorMessage: 'guest trapped' })).toBe(
        true,
      );
      expect(await workPackages.get(f)).toMatchObject({
        status: 'failed',
        errorCode: 'refine_sandbox_failure',
        errorMessage: 'guest trapped',
        accumulatedAt: null,
      });
      expect(await workPackages.transition(hash(), ['pending'], 'refining')).toBe(false);
      await expectDomainError(workPackages.transition(f, ['nope' as WorkPackageStatus], 'failed'), 'invalid_request');
    });

    it('transitionAndRead: one statement that moves and returns the row, or returns it unchanged (issue 8)', async () => {
      const { workPackages } = get().repos;
      const s = await newService();
      const h = await newPackage([s.id]);
      const rh = hash();
      const missed = await workPackages.transitionAndRead(h, ['attesting'], 'attested', { reportHash: rh });
      expect(missed).toMatchObject({ moved: false, row: { hash: h, status: 'pending', reportHash: null } });
      const moved = await workPackages.transitionAndRead(h, ['pending', 'attesting'], 'attested', { reportHash: rh });
      expect(moved).toMatchObject({ moved: true, row: { hash: h, status: 'attested', reportHash: rh, queuePriority: 1 } });
      expect(await workPackages.transitionAndRead(h, ['pending'], 'attested')).toMatchObject({ moved: false, row: { status: 'attested', reportHash: rh } });
      expect(await workPackages.transitionAndRead(hash(), ['pending'], 'refining')).toEqual({ moved: false, row: null });
      await expectDomainError(workPackages.transitionAndRead(h, ['nope' as WorkPackageStatus], 'failed'), 'invalid_request');
    });

    it("getForAttester: the package, this attester's failure count and the code hash of each registered service it names, in one read (issue 8)", async () => {
      const { workPackages, refineAttempts } = get().repos;
      const a = await newService();
      const b = await newService();
      const unregistered = b.id + 1000;
      const h = await newPackage([a.id, b.id, unregistered]);
      const read = (await workPackages.getForAttester(h, 1))!;
      expect(read.row).toMatchObject({ hash: h, status: 'pending', serviceIds: [a.id, b.id, unregistered] });
      expect(read.attempt).toBeNull();
      expect([...read.serviceCodeHashes.entries()].sort((x, y) => x[0] - y[0])).toEqual([
        [a.id, a.codeHash],
        [b.id, b.codeHash],
      ]);
      await refineAttempts.recordFailure({ packageHash: h, attesterIndex: 1, kind: 'executor', maxFailures: 1, attesterCount: 3, error: 'crashed' });
      expect((await workPackages.getForAttester(h, 1))!.attempt).toEqual({ failures: 1, exhausted: true });
      expect((await workPackages.getForAttester(h, 2))!.attempt).toBeNull();
      expect(await workPackages.getForAttester(hash(), 1)).toBeNull();
    });

    it('submissionState: stored status, quota override and backlog of the submitter in one read, as the three separate reads give them (issue 8)', async () => {
      const { workPackages, principalQuotas } = get().repos;
      const s = await newService();
      const who = `sub-${tag()}`;
      const fresh = hash();
      expect(await workPackages.submissionState(fresh, who)).toEqual({
        existingStatus: null,
        maxPendingPackages: null,
        backlog: { packages: 0, refineGas: 0n },
      });
      const h = hash();
      await workPackages.insertIfAbsent({ hash: h, encoded: bytes(h), serviceIds: [s.id], submittedBy: who, refineGas: 7n });
      await workPackages.insertIfAbsent({ hash: hash(), encoded: bytes('x'), serviceIds: [s.id], submittedBy: who, refineGas: 5n });
      await principalQuotas.upsert({ principal: who, maxPendingPackages: 3 });
      const state = await workPackages.submissionState(h, who);
      expect(state).toEqual({ existingStatus: 'pending', maxPendingPackages: 3, backlog: await workPackages.inFlightBySubmitter(who) });
      expect(state.backlog).toEqual({ packages: 2, refineGas: 12n });
      expect(state.maxPendingPackages).toBe((await principalQuotas.get(who))!.maxPendingPackages);
      await workPackages.transition(h, ['pending'], 'failed');
      expect(await workPackages.submissionState(h, who)).toMatchObject({ existingStatus: 'failed', backlog: { packages: 1, refineGas: 5n } });
    });

    it("a refused statement outside a transaction still carries the server's code (the raw pool path, issue 8)", async () => {
      // a service's code must be a recorded preimage: the repository maps the foreign-key violation (23503) to unknown_preimage
      await expect(get().repos.services.create({ codeHash: hash(), owner: 'o', delegates: [], minItemGas: 0n, minMemoGas: 0n })).rejects.toMatchObject({
        code: 'unknown_preimage',
      });
    });

    it('lets exactly one of concurrent transitions from the same state win', async () => {
      const { workPackages } = get().repos;
      const s = await newService();
      for (let round = 0; round < 5; round++) {
        const h = await newPackage([s.id]);
        const results = await Promise.all(Array.from({ length: 8 }, (_, i) => workPackages.transition(h, ['pending'], i % 2 === 0 ? 'refining' : 'failed')));
        expect(results.filter(Boolean)).toHaveLength(1);
        const winner = results.indexOf(true) % 2 === 0 ? 'refining' : 'failed';
        expect((await workPackages.get(h))!.status).toBe(winner);
      }
    });

    it("stores a package's fair-share queue priority (default 1) and refine gas, sums the gas in flight per submitter, keeps the priority on a repeated insert, returns it in stale rows, and refuses one out of range", async () => {
      const { workPackages } = get().repos;
      const s = await newService();
      const h = hash();
      const submitter = `sub-${tag()}`;
      const first = await workPackages.insertIfAbsent({
        hash: h,
        encoded: bytes(h),
        serviceIds: [s.id],
        submittedBy: submitter,
        queuePriority: 42,
        refineGas: 4_999_999_999n,
      });
      expect(first.row.queuePriority).toBe(42);
      // the backlog sums declared refine gas over the submitter's packages in flight only
      const second = hash();
      await workPackages.insertIfAbsent({ hash: second, encoded: bytes(second), serviceIds: [s.id], submittedBy: submitter, refineGas: 10_000_000n });
      expect(await workPackages.inFlightBySubmitter(submitter)).toEqual({ packages: 2, refineGas: 5_009_999_999n });
      await workPackages.transition(second, ['pending'], 'failed');
      expect(await workPackages.inFlightBySubmitter(submitter)).toEqual({ packages: 1, refineGas: 4_999_999_999n });
      const again = await workPackages.insertIfAbsent({ hash: h, encoded: bytes(h), serviceIds: [s.id], submittedBy: `sub-${tag()}`, queuePriority: 1 });
      expect(again).toMatchObject({ created: false, row: { queuePriority: 42 } });
      expect((await workPackages.get(h))!.queuePriority).toBe(42);
      expect((await workPackages.findStale(['pending'], 0, 1000)).find((p) => p.hash === h)?.queuePriority).toBe(42);
      expect((await workPackages.get(await newPackage([s.id])))!.queuePriority).toBe(1);
      const bad = hash();
      await expect(
        workPackages.insertIfAbsent({ hash: bad, encoded: bytes(bad), serviceIds: [s.id], submittedBy: `sub-${tag()}`, queuePriority: 2_097_152 }),
      ).rejects.toThrow();
      expect(await workPackages.get(bad)).toBeNull();
    });

    it('counts by status and in-flight packages per submitter, finds stale ones', async () => {
      const { workPackages } = get().repos;
      const s = await newService();
      const submitter = `sub-${tag()}`;
      const before = await workPackages.countByStatus();
      const a = await newPackage([s.id], submitter);
      const b = await newPackage([s.id], submitter);
      const c = await newPackage([s.id], submitter);
      await workPackages.transition(b, ['pending'], 'refining');
      await workPackages.transition(c, ['pending'], 'failed');
      const after = await workPackages.countByStatus();
      expect(Object.keys(after).sort()).toEqual(['accumulated', 'accumulating', 'attested', 'attesting', 'disputed', 'failed', 'pending', 'refining']);
      expect(after.pending - before.pending).toBe(1);
      expect(after.refining - before.refining).toBe(1);
      expect(after.failed - before.failed).toBe(1);
      expect(await workPackages.countPendingBySubmitter(submitter)).toBe(2);
      expect(await workPackages.countPendingBySubmitter(`sub-${tag()}`)).toBe(0);
      expect(await workPackages.inFlightBySubmitter(submitter)).toEqual({ packages: 2, refineGas: 0n });
      expect(await workPackages.inFlightBySubmitter(`sub-${tag()}`)).toEqual({ packages: 0, refineGas: 0n });

      const stale = await workPackages.findStale(['pending', 'refining'], 0, 1000);
      expect(stale.map((p) => p.hash)).toEqual(expect.arrayContaining([a, b]));
      expect(stale.map((p) => p.hash)).not.toContain(c);
      for (let i = 1; i < stale.length; i++) expect(stale[i]!.updatedAt.getTime()).toBeGreaterThanOrEqual(stale[i - 1]!.updatedAt.getTime());
      expect((await workPackages.findStale(['pending', 'refining'], 3_600_000, 1000)).map((p) => p.hash)).not.toContain(a);
    });

    it('keeps the per-submitter in-flight counters equal to a COUNT over work_package through every writer, concurrent ones too (issue 8)', async () => {
      const { ds, repos } = get();
      const { workPackages } = repos;
      const s = await newService();
      const submitter = `sub-${tag()}`;
      const exact = async (): Promise<{ packages: number; refineGas: bigint }> => {
        const [row] = await ds.query(
          `SELECT count(*)::text AS n, COALESCE(sum(refine_gas), 0)::text AS gas FROM work_package
           WHERE submitted_by = $1 AND status IN ('pending', 'refining', 'attesting', 'attested', 'accumulating')`,
          [submitter],
        );
        return { packages: Number(row.n), refineGas: BigInt(row.gas) };
      };
      const insert = async (gas: bigint): Promise<string> => {
        const h = hash();
        await workPackages.insertIfAbsent({ hash: h, encoded: bytes(h), serviceIds: [s.id], submittedBy: submitter, refineGas: gas });
        return h;
      };
      // 40 packages over all 16 shards, inserted concurrently; a repeated insert changes nothing
      const hashes = await Promise.all(Array.from({ length: 40 }, (_, i) => insert(BigInt(1_000 + i))));
      await workPackages.insertIfAbsent({ hash: hashes[0]!, encoded: bytes(hashes[0]!), serviceIds: [s.id], submittedBy: submitter, refineGas: 5n });
      expect(await workPackages.inFlightBySubmitter(submitter)).toEqual(await exact());
      expect((await exact()).packages).toBe(40);
      // moves inside the in-flight set, out of it (accumulated, failed, disputed), concurrently, with losers of compare-and-set
      await Promise.all(hashes.slice(0, 30).map((h) => workPackages.transition(h, ['pending'], 'refining')));
      await Promise.all([
        ...hashes.slice(0, 10).map((h) => workPackages.transition(h, ['refining'], 'failed', { errorCode: 'refine_timeout' })),
        ...hashes.slice(0, 10).map((h) => workPackages.transition(h, ['refining'], 'failed', { errorCode: 'refine_timeout' })),
        ...hashes.slice(10, 20).map((h) => workPackages.transition(h, ['refining'], 'accumulated')),
        ...hashes.slice(20, 25).map((h) => workPackages.transition(h, ['refining', 'pending'], 'disputed')),
      ]);
      expect(await workPackages.inFlightBySubmitter(submitter)).toEqual(await exact());
      expect((await exact()).packages).toBe(15);
      // back into flight: a retry (failed -> pending) and an admin's accepted dispute (disputed -> attested)
      expect((await workPackages.retryFailed(hashes[0]!, 3)).outcome).toBe('retried');
      await workPackages.transition(hashes[20]!, ['disputed'], 'attested');
      expect(await workPackages.inFlightBySubmitter(submitter)).toEqual(await exact());
      expect((await exact()).packages).toBe(17);
      // a deleted in-flight row (hand-written SQL) and retention of finished rows
      await ds.query('DELETE FROM work_package WHERE hash = $1', [Buffer.from(hashes[39]!.slice(2), 'hex')]);
      await ds.query('DELETE FROM work_package WHERE hash = ANY($1::bytea[])', [hashes.slice(10, 20).map((h) => Buffer.from(h.slice(2), 'hex'))]);
      expect(await workPackages.inFlightBySubmitter(submitter)).toEqual(await exact());
      expect(await workPackages.countPendingBySubmitter(submitter)).toBe(16);
    });

    it('pages by service under concurrent inserts without skipping or repeating', async () => {
      const { workPackages } = get().repos;
      const s = await newService();
      const other = await newService();
      const initial = new Set<string>();
      for (let i = 0; i < 30; i++) initial.add(await newPackage(i % 3 === 0 ? [other.id, s.id] : [s.id]));
      await newPackage([other.id]);
      const refined = [...initial][4]!;
      await workPackages.transition(refined, ['pending'], 'refining');

      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      for (;;) {
        const [page] = await Promise.all([
          workPackages.listByService(s.id, { limit: 7, ...(cursor === undefined ? {} : { cursor }) }),
          newPackage([s.id]),
          newPackage([s.id]),
        ]);
        pages++;
        seen.push(...page.items.map((p) => p.hash));
        for (const it of page.items) expect(it.serviceIds).toContain(s.id);
        if (!page.nextCursor) break;
        cursor = page.nextCursor;
      }
      expect(new Set(seen).size).toBe(seen.length);
      for (const h of initial) expect(seen).toContain(h);
      expect(pages).toBeGreaterThanOrEqual(5);

      const onlyRefining = await workPackages.listByService(s.id, { status: 'refining', limit: 10 });
      expect(onlyRefining).toEqual({ items: [expect.objectContaining({ hash: refined, status: 'refining' })], nextCursor: null });
      await expectDomainError(workPackages.listByService(s.id, { cursor: 'garbage', limit: 5 }), 'invalid_request');
      await expect(workPackages.listByService(s.id, { limit: 0 })).rejects.toBeInstanceOf(RangeError);
    });
  });

  describe('WorkReportRepository, AttesterRepository, AttestationRepository', () => {
    it('stores reports once and lists them per package', async () => {
      const { workReports } = get().repos;
      const s = await newService();
      const pkg = await newPackage([s.id]);
      const r1 = await newReport(pkg);
      const r2 = await newReport(pkg);
      expect(await workReports.insertIfAbsent({ reportHash: r1, packageHash: pkg, encoded: bytes('other'), engine: 'x' })).toEqual({ created: false });
      expect(await workReports.get(r1)).toMatchObject({ reportHash: r1, packageHash: pkg, encoded: bytes(r1), engine: 'test-engine/1/1' });
      expect((await workReports.listByPackage(pkg)).map((r) => r.reportHash).sort()).toEqual([r1, r2].sort());
      expect(await workReports.get(hash())).toBeNull();
      await expect(workReports.insertIfAbsent({ reportHash: hash(), packageHash: hash(), encoded: bytes('x'), engine: 'x' })).rejects.toMatchObject({
        code: '23503',
      });
    });

    it('registers attesters, counts distinct signers and detects conflicting reports', async () => {
      const { attesters, attestations } = get().repos;
      const base = 1000 + Math.floor(Math.random() * 1_000_000) * 4;
      const keys = [hash(), hash(), hash(), hash()];
      for (let i = 0; i < 4; i++) await attesters.upsert(base + i, keys[i]!);
      const rekey = hash();
      expect(await attesters.upsert(base + 3, rekey)).toMatchObject({ index: base + 3, publicKey: rekey });
      await expectDomainError(attesters.upsert(base + 2, keys[0]!), 'conflict');
      await expectDomainError(attesters.upsert(base + 2, '0x00'), 'invalid_hex');
      const listed = (await attesters.list()).filter((a) => a.index >= base && a.index < base + 4);
      expect(listed.map((a) => [a.index, a.publicKey])).toEqual([
        [base, keys[0]],
        [base + 1, keys[1]],
        [base + 2, keys[2]],
        [base + 3, rekey],
      ]);

      const s = await newService();
      const pkg = await newPackage([s.id]);
      const good = await newReport(pkg);
      const bad = await newReport(pkg);
      const signature = sig();
      expect(await attestations.insertIfAbsent({ reportHash: good, attesterIndex: base, packageHash: pkg, signature })).toEqual({ created: true });
      expect(await attestations.insertIfAbsent({ reportHash: good, attesterIndex: base, packageHash: pkg, signature: sig() })).toEqual({ created: false });
      await attestations.insertIfAbsent({ reportHash: good, attesterIndex: base + 1, packageHash: pkg, signature: sig() });
      await attestations.insertIfAbsent({ reportHash: bad, attesterIndex: base + 2, packageHash: pkg, signature: sig() });
      expect(await attestations.countDistinctSigners(good)).toBe(2);
      expect(await attestations.countDistinctSigners(hash())).toBe(0);
      const list = await attestations.listByReport(good);
      expect(list.map((a) => a.attesterIndex)).toEqual([base, base + 1]);
      expect(list[0]).toMatchObject({ reportHash: good, packageHash: pkg, signature });
      expect(await attestations.reportHashesForPackage(pkg)).toEqual([
        { reportHash: good, signers: 2 },
        { reportHash: bad, signers: 1 },
      ]);
      await expectDomainError(attestations.insertIfAbsent({ reportHash: good, attesterIndex: base, packageHash: pkg, signature: '0xab' }), 'invalid_hex');

      // insertIfReportOf: the report check and the insert in one statement (issue 8)
      const other = await newPackage([s.id]);
      expect(await attestations.insertIfReportOf({ reportHash: bad, attesterIndex: base + 3, packageHash: pkg, signature })).toEqual({
        report: true,
        created: true,
      });
      expect(await attestations.insertIfReportOf({ reportHash: bad, attesterIndex: base + 3, packageHash: pkg, signature: sig() })).toEqual({
        report: true,
        created: false,
      });
      expect(await attestations.insertIfReportOf({ reportHash: bad, attesterIndex: base + 1, packageHash: other, signature })).toEqual({
        report: false,
        created: false,
      });
      expect(await attestations.insertIfReportOf({ reportHash: hash(), attesterIndex: base + 1, packageHash: pkg, signature })).toEqual({
        report: false,
        created: false,
      });
      expect(await attestations.reportHashesForPackage(pkg)).toEqual(
        [
          { reportHash: bad, signers: 2 },
          { reportHash: good, signers: 2 },
        ].sort((a, b) => (a.reportHash < b.reportHash ? -1 : 1)),
      );
    });

    it('reports of the legacy hash format (before engine 0.7.0) keep their hash and signatures but never count toward a verdict', async () => {
      const { workReports, attesters, attestations } = get().repos;
      const base = 1000 + Math.floor(Math.random() * 1_000_000) * 4;
      for (let i = 0; i < 3; i++) await attesters.upsert(base + i, hash());
      const s = await newService();
      const pkg = await newPackage([s.id]);
      const legacy = hash();
      await workReports.insertIfAbsent({ reportHash: legacy, packageHash: pkg, encoded: bytes(legacy), engine: 'jam-wasm-metered/0.6.0/4', hashFormat: 1 });
      const current = await newReport(pkg);
      expect(await workReports.get(legacy)).toMatchObject({ reportHash: legacy, hashFormat: 1 });
      expect(await workReports.get(current)).toMatchObject({ hashFormat: CURRENT_HASH_FORMAT });
      for (const i of [0, 1]) await attestations.insertIfAbsent({ reportHash: legacy, attesterIndex: base + i, packageHash: pkg, signature: sig() });
      // two legacy signatures (a threshold's worth) count for nothing; they stay stored
      expect(await attestations.reportHashesForPackage(pkg)).toEqual([]);
      expect((await attestations.listByReport(legacy)).map((a) => a.attesterIndex)).toEqual([base, base + 1]);
      await attestations.insertIfAbsent({ reportHash: current, attesterIndex: base + 2, packageHash: pkg, signature: sig() });
      expect(await attestations.reportHashesForPackage(pkg)).toEqual([{ reportHash: current, signers: 1 }]);
    });
  });

  describe('ExportedSegmentRepository', () => {
    it("keeps a report's segments; they are held (importable by segments root or package hash) once the package is attested with that report", async () => {
      const { workPackages, exportedSegments } = get().repos;
      const s = await newService();
      const pkg = await newPackage([s.id]);
      const report = await newReport(pkg);
      const root = hash();
      const segs = [new Uint8Array(4104).fill(1), new Uint8Array(4104).fill(2)];
      await exportedSegments.record({ reportHash: report, packageHash: pkg, segmentsRoot: root, segments: segs });
      await exportedSegments.record({ reportHash: report, packageHash: pkg, segmentsRoot: root, segments: segs });
      expect((await exportedSegments.listByReport(report)).map((r) => [r.index, r.segmentsRoot, r.data[0]])).toEqual([
        [0, root, 1],
        [1, root, 2],
      ]);
      const byRoot = { root, kind: 'segments_root' as const, index: 1 };
      const byPackage = { root: pkg, kind: 'package_hash' as const, index: 0 };
      // not held while the package is pending
      expect(await exportedSegments.getHeld(byRoot)).toBeNull();
      expect(await exportedSegments.firstMissing([byRoot, byPackage])).toEqual(byRoot);
      expect(await workPackages.transition(pkg, ['pending'], 'attested', { reportHash: report })).toBe(true);
      expect(await exportedSegments.getHeld(byRoot)).toEqual({ data: segs[1], segmentsRoot: root, packageHash: pkg });
      expect((await exportedSegments.getHeld(byPackage))?.data).toEqual(segs[0]);
      expect(await exportedSegments.getHeld({ ...byRoot, index: 2 })).toBeNull();
      expect(await exportedSegments.getHeld({ ...byRoot, root: hash() })).toBeNull();
      expect(await exportedSegments.firstMissing([byRoot, byPackage])).toBeUndefined();
      // a segment that is not 4104 bytes is refused by the table
      await expect(
        exportedSegments.record({ reportHash: report, packageHash: pkg, segmentsRoot: root, segments: [segs[0]!, segs[1]!, new Uint8Array(10)] }),
      ).rejects.toMatchObject({
        code: '23514',
      });
    });
  });

  describe('AccumulationRepository', () => {
    const counterKey = bytes('counter');
    const readCounter = (m: Map<string, Uint8Array>): number => {
      const v = m.get('0x' + Buffer.from(counterKey).toString('hex'));
      return v ? Buffer.from(v).readUInt32BE(0) : 0;
    };
    const counterValue = (n: number): Uint8Array => {
      const b = Buffer.alloc(4);
      b.writeUInt32BE(n);
      return new Uint8Array(b);
    };

    it('applies a report once when called 5 times concurrently', async () => {
      const { accumulations, serviceStorage } = get().repos;
      const s = await newService();
      const pkg = await newPackage([s.id]);
      const rep = await newReport(pkg);
      let runs = 0;
      const results = await Promise.all(
        Array.from({ length: 5 }, () =>
          accumulations.applyOnce({
            reportHash: rep,
            packageHash: pkg,
            serviceId: s.id,
            loadLimit: NO_LOAD_LIMIT,
            run: async ({ storage }) => {
              runs++;
              await new Promise((r) => setTimeout(r, 20));
              return { status: 'ok', gasUsed: 123n, writes: [{ key: counterKey, value: counterValue(readCounter(storage!) + 1) }] };
            },
          }),
        ),
      );
      // the sandbox runs outside the lock, so several deliveries may run it; exactly one applies
      expect(runs).toBeGreaterThanOrEqual(1);
      expect(results.filter((r) => r.applied)).toHaveLength(1);
      expect(results.filter((r) => !r.applied).every((r) => r.status === 'ok')).toBe(true);
      expect(readCounter(await serviceStorage.storageSnapshot(s.id))).toBe(1);
      const rows = await get().ds.query('SELECT status, gas_used FROM accumulation WHERE service_id = $1', [s.id]);
      expect(rows).toEqual([{ status: 'ok', gas_used: '123' }]);
    });

    it('applies different reports of one service one at a time: no lost update on a counter', async () => {
      const { accumulations, serviceStorage } = get().repos;
      const s = await newService();
      const pkg = await newPackage([s.id]);
      const reports: string[] = [];
      for (let i = 0; i < 8; i++) reports.push(await newReport(pkg));
      const results = await Promise.all(
        reports.map((rep) =>
          accumulations.applyOnce({
            reportHash: rep,
            packageHash: pkg,
            serviceId: s.id,
            loadLimit: NO_LOAD_LIMIT,
            run: async ({ storage }) => {
              const n = readCounter(storage!);
              await new Promise((r) => setTimeout(r, 10));
              return { status: 'ok', gasUsed: 1n, writes: [{ key: counterKey, value: counterValue(n + 1) }] };
            },
          }),
        ),
      );
      expect(results.every((r) => r.applied)).toBe(true);
      expect(readCounter(await serviceStorage.storageSnapshot(s.id))).toBe(8);
    });

    it('runs the sandbox outside the service lock: another report applies meanwhile, and the stale run is run again on the new state (issue 8)', async () => {
      const { accumulations, serviceStorage } = get().repos;
      const s = await newService();
      const pkg = await newPackage([s.id]);
      const [slow, fast] = [await newReport(pkg), await newReport(pkg)];
      let started!: () => void;
      const running = new Promise<void>((r) => (started = r));
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      const seen: number[] = [];
      const slowApply = accumulations.applyOnce({
        reportHash: slow,
        packageHash: pkg,
        serviceId: s.id,
        loadLimit: NO_LOAD_LIMIT,
        run: async ({ storage }) => {
          seen.push(readCounter(storage!));
          started();
          await gate;
          return { status: 'ok', gasUsed: 1n, writes: [{ key: counterKey, value: counterValue(readCounter(storage!) + 10) }] };
        },
      });
      await running;
      // the slow run holds no lock: this apply completes while it is still running
      const fastResult = await accumulations.applyOnce({
        reportHash: fast,
        packageHash: pkg,
        serviceId: s.id,
        loadLimit: NO_LOAD_LIMIT,
        run: async ({ storage }) => ({ status: 'ok', gasUsed: 1n, writes: [{ key: counterKey, value: counterValue(readCounter(storage!) + 1) }] }),
      });
      expect(fastResult).toEqual({ applied: true, status: 'ok' });
      release();
      // its first outcome was computed on the state before `fast`: dropped, run again on counter 1
      expect(await slowApply).toEqual({ applied: true, status: 'ok' });
      expect(seen).toEqual([0, 1]);
      expect(readCounter(await serviceStorage.storageSnapshot(s.id))).toBe(11);
    });

    it('after OPTIMISTIC_ACCUMULATE_ATTEMPTS lost compare-and-sets runs under the lock; any write to service_storage moves state_version', async () => {
      const { accumulations, serviceStorage } = get().repos;
      const s = await newService();
      const pkg = await newPackage([s.id]);
      const target = await newReport(pkg);
      const version = async (): Promise<number> => Number((await get().ds.query('SELECT state_version FROM service WHERE id = $1', [s.id]))[0].state_version);
      const v0 = await version();
      // a hand-written write moves it too (one statement, two rows: one step)
      await get().ds.query(`INSERT INTO service_storage (service_id, key, value) VALUES ($1, 'a'::bytea, 'x'::bytea), ($1, 'b'::bytea, 'y'::bytea)`, [s.id]);
      expect(await version()).toBe(v0 + 1);
      let calls = 0;
      const result = await accumulations.applyOnce({
        reportHash: target,
        packageHash: pkg,
        serviceId: s.id,
        loadLimit: NO_LOAD_LIMIT,
        run: async ({ storage }) => {
          calls++;
          // each of the optimistic runs loses to another report's apply
          if (calls <= OPTIMISTIC_ACCUMULATE_ATTEMPTS) {
            const other = await newReport(pkg);
            await accumulations.applyOnce({
              reportHash: other,
              packageHash: pkg,
              serviceId: s.id,
              loadLimit: NO_LOAD_LIMIT,
              run: async ({ storage: st }) => ({ status: 'ok', gasUsed: 1n, writes: [{ key: counterKey, value: counterValue(readCounter(st!) + 1) }] }),
            });
          }
          return { status: 'ok', gasUsed: 1n, writes: [{ key: counterKey, value: counterValue(readCounter(storage!) + 100) }] };
        },
      });
      expect(result).toEqual({ applied: true, status: 'ok' });
      expect(calls).toBe(OPTIMISTIC_ACCUMULATE_ATTEMPTS + 1);
      expect(readCounter(await serviceStorage.storageSnapshot(s.id))).toBe(OPTIMISTIC_ACCUMULATE_ATTEMPTS + 100);
    });

    it('rolls back everything when run throws, applies on retry, deletes null writes', async () => {
      const { accumulations, serviceStorage } = get().repos;
      const s = await newService();
      const pkg = await newPackage([s.id]);
      const r1 = await newReport(pkg);
      const r2 = await newReport(pkg);
      await accumulations.applyOnce({
        reportHash: r1,
        packageHash: pkg,
        serviceId: s.id,
        loadLimit: NO_LOAD_LIMIT,
        run: async () => ({
          status: 'ok',
          gasUsed: 0n,
          writes: [
            { key: bytes('keep'), value: bytes('1') },
            { key: bytes('drop'), value: bytes('2') },
          ],
        }),
      });
      const boom = new Error('guest exploded');
      await expect(
        accumulations.applyOnce({
          reportHash: r2,
          packageHash: pkg,
          serviceId: s.id,
          loadLimit: NO_LOAD_LIMIT,
          run: async () => {
            throw boom;
          },
        }),
      ).rejects.toBe(boom);
      expect([...(await serviceStorage.storageSnapshot(s.id)).keys()].sort()).toEqual(['0x64726f70', '0x6b656570']);
      const retried = await accumulations.applyOnce({
        reportHash: r2,
        packageHash: pkg,
        serviceId: s.id,
        loadLimit: NO_LOAD_LIMIT,
        run: async ({ storage }) => {
          expect(storage?.size).toBe(2);
          return { status: 'panic', gasUsed: 5n, writes: [{ key: bytes('drop'), value: null }] };
        },
      });
      expect(retried).toEqual({ applied: true, status: 'panic' });
      expect(await serviceStorage.getStorage(s.id, bytes('drop'))).toBeNull();
      expect(await serviceStorage.getStorage(s.id, bytes('keep'))).toEqual(bytes('1'));
      await expectDomainError(
        accumulations.applyOnce({
          reportHash: r2,
          packageHash: pkg,
          serviceId: 2_000_000_000,
          loadLimit: NO_LOAD_LIMIT,
          run: async () => ({ status: 'ok', gasUsed: 0n, writes: [] }),
        }),
        'unknown_service',
      );
    });
  });

  describe('AccumulationRepository: storage footprint and wall-clock failures', () => {
    it('gives run the stored footprint, and loads nothing when it exceeds loadLimit', async () => {
      const { accumulations, serviceStorage } = get().repos;
      const s = await newService();
      const pkg = await newPackage([s.id]);
      const seed = await newReport(pkg);
      await accumulations.applyOnce({
        reportHash: seed,
        packageHash: pkg,
        serviceId: s.id,
        loadLimit: NO_LOAD_LIMIT,
        run: async ({ footprint }) => {
          expect(footprint).toEqual({ bytes: 0, items: 0 });
          return {
            status: 'ok',
            gasUsed: 0n,
            writes: [
              { key: bytes('ab'), value: new Uint8Array(10) },
              { key: bytes('c'), value: new Uint8Array(100_000) },
            ],
          };
        },
      });
      expect(await serviceStorage.footprint(s.id)).toEqual({ bytes: 2 + 10 + 1 + 100_000, items: 2 });
      expect(await serviceStorage.footprint(2_000_000_000)).toEqual({ bytes: 0, items: 0 });
      const seen: { footprint: unknown; size: number | null }[] = [];
      for (const loadLimit of [
        { bytes: 100_013, items: 2 },
        { bytes: 100_012, items: 2 },
        { bytes: 100_013, items: 1 },
      ]) {
        await expect(
          accumulations.applyOnce({
            reportHash: await newReport(pkg),
            packageHash: pkg,
            serviceId: s.id,
            loadLimit,
            run: async ({ footprint, storage }) => {
              seen.push({ footprint, size: storage === null ? null : storage.size });
              throw new Error('roll back');
            },
          }),
        ).rejects.toThrow('roll back');
      }
      const fp = { bytes: 100_013, items: 2 };
      expect(seen).toEqual([
        { footprint: fp, size: 2 },
        { footprint: fp, size: null },
        { footprint: fp, size: null },
      ]);
    });

    it('counts wall-clock failures durably and records timed_out exactly once at the bound', async () => {
      const { accumulations } = get().repos;
      const s = await newService();
      const pkg = await newPackage([s.id]);
      const rep = await newReport(pkg);
      const fail = () => accumulations.recordWallClockFailure({ reportHash: rep, packageHash: pkg, serviceId: s.id, maxFailures: 3, gasUsed: 2n ** 63n - 1n });
      expect(await accumulations.wallClockFailures(rep, s.id)).toBe(0);
      expect(await fail()).toEqual({ failures: 1, final: false, applied: false });
      expect(await fail()).toEqual({ failures: 2, final: false, applied: false });
      expect(await accumulations.wallClockFailures(rep, s.id)).toBe(2);
      // the third and any racing later ones: exactly one records the row, the rest find it
      const racing = await Promise.all([fail(), fail(), fail()]);
      expect(racing.filter((r) => r.applied)).toEqual([{ failures: 3, final: true, applied: true, status: 'timed_out' }]);
      expect(racing.filter((r) => !r.applied)).toEqual([
        { failures: 3, final: true, applied: false, status: 'timed_out' },
        { failures: 3, final: true, applied: false, status: 'timed_out' },
      ]);
      const rows = await get().ds.query('SELECT status, gas_used FROM accumulation WHERE report_hash = $1 AND service_id = $2', [
        Buffer.from(rep.slice(2), 'hex'),
        s.id,
      ]);
      expect(rows).toEqual([{ status: 'timed_out', gas_used: '9223372036854775807' }]);
      // a later delivery finds it applied and runs nothing
      const run = jest.fn();
      expect(await accumulations.applyOnce({ reportHash: rep, packageHash: pkg, serviceId: s.id, loadLimit: NO_LOAD_LIMIT, run })).toEqual({
        applied: false,
        status: 'timed_out',
      });
      expect(run).not.toHaveBeenCalled();
      await expect(accumulations.recordWallClockFailure({ reportHash: rep, packageHash: pkg, serviceId: s.id, maxFailures: 0, gasUsed: 0n })).rejects.toThrow(
        RangeError,
      );
      await expectDomainError(
        accumulations.recordWallClockFailure({ reportHash: rep, packageHash: pkg, serviceId: 2_000_000_000, maxFailures: 3, gasUsed: 0n }),
        'unknown_service',
      );
    });

    it('does not count a failure for an accumulation already recorded, and deletes the counts with the report (retention)', async () => {
      const { accumulations, workPackages } = get().repos;
      const s = await newService();
      const pkg = await newPackage([s.id]);
      const rep = await newReport(pkg);
      expect(await accumulations.recordWallClockFailure({ reportHash: rep, packageHash: pkg, serviceId: s.id, maxFailures: 5, gasUsed: 1n })).toMatchObject({
        failures: 1,
        final: false,
      });
      // the retry succeeded
      expect(
        await accumulations.applyOnce({
          reportHash: rep,
          packageHash: pkg,
          serviceId: s.id,
          loadLimit: NO_LOAD_LIMIT,
          run: async () => ({ status: 'ok', gasUsed: 7n, writes: [] }),
        }),
      ).toEqual({ applied: true, status: 'ok' });
      // a late duplicate delivery's timeout: nothing to count, the recorded result stands
      expect(await accumulations.recordWallClockFailure({ reportHash: rep, packageHash: pkg, serviceId: s.id, maxFailures: 1, gasUsed: 1n })).toEqual({
        failures: 1,
        final: true,
        applied: false,
        status: 'ok',
      });
      expect(await workPackages.transition(pkg, ['pending'], 'failed', { reportHash: rep })).toBe(true);
      await get().ds.query(`UPDATE work_package SET updated_at = now() - interval '2 days' WHERE hash = $1`, [Buffer.from(pkg.slice(2), 'hex')]);
      let deleted = 0;
      for (let n = 1; n > 0; deleted += n) n = (await workPackages.deleteFinishedOlderThan(86_400_000, 1000)).packages;
      expect(deleted).toBeGreaterThanOrEqual(1);
      expect(await accumulations.wallClockFailures(rep, s.id)).toBe(0);
    });
  });

  describe('sandbox failures (executor crashes, engine faults)', () => {
    it('counts executor failures per (report, service) apart from wall-clock kills, records sandbox_failed exactly once at the bound', async () => {
      const { accumulations } = get().repos;
      const s = await newService();
      const pkg = await newPackage([s.id]);
      const rep = await newReport(pkg);
      const crash = () =>
        accumulations.recordSandboxFailure({
          reportHash: rep,
          packageHash: pkg,
          serviceId: s.id,
          kind: 'executor',
          maxFailures: 2,
          gasUsed: 5n,
          error: 'sandbox executor failed: x',
        });
      expect(await accumulations.recordWallClockFailure({ reportHash: rep, packageHash: pkg, serviceId: s.id, maxFailures: 3, gasUsed: 1n })).toEqual({
        failures: 1,
        final: false,
        applied: false,
      });
      expect(await crash()).toEqual({ failures: 1, final: false, applied: false });
      expect(await accumulations.executorFailures(rep, s.id)).toBe(1);
      expect(await accumulations.wallClockFailures(rep, s.id)).toBe(1);
      const racing = await Promise.all([crash(), crash(), crash()]);
      expect(racing.filter((r) => r.applied)).toEqual([{ failures: 2, final: true, applied: true, status: 'sandbox_failed' }]);
      expect(racing.filter((r) => !r.applied)).toEqual([
        { failures: 2, final: true, applied: false, status: 'sandbox_failed' },
        { failures: 2, final: true, applied: false, status: 'sandbox_failed' },
      ]);
      const rows = await get().ds.query('SELECT status, gas_used FROM accumulation WHERE report_hash = $1 AND service_id = $2', [
        Buffer.from(rep.slice(2), 'hex'),
        s.id,
      ]);
      expect(rows).toEqual([{ status: 'sandbox_failed', gas_used: '5' }]);
      const attempt = await get().ds.query('SELECT wall_clock_failures, executor_failures, last_error FROM accumulation_attempt WHERE report_hash = $1', [
        Buffer.from(rep.slice(2), 'hex'),
      ]);
      expect(attempt).toEqual([{ wall_clock_failures: 1, executor_failures: 2, last_error: 'sandbox executor failed: x' }]);
      // a late wall-clock kill finds the final row and counts nothing
      expect(await accumulations.recordWallClockFailure({ reportHash: rep, packageHash: pkg, serviceId: s.id, maxFailures: 3, gasUsed: 1n })).toEqual({
        failures: 1,
        final: true,
        applied: false,
        status: 'sandbox_failed',
      });
    });

    it('counts blob failures (code unreadable) apart from the other kinds: blob_unavailable at the bound, no gas; refine counts them as kind blob', async () => {
      const { accumulations, refineAttempts } = get().repos;
      const s = await newService();
      const pkg = await newPackage([s.id]);
      const rep = await newReport(pkg);
      const blob = () =>
        accumulations.recordSandboxFailure({
          reportHash: rep,
          packageHash: pkg,
          serviceId: s.id,
          kind: 'blob',
          maxFailures: 2,
          gasUsed: 0n,
          error: 'blob unavailable: x',
        });
      expect(
        await accumulations.recordSandboxFailure({ reportHash: rep, packageHash: pkg, serviceId: s.id, kind: 'executor', maxFailures: 3, gasUsed: 1n }),
      ).toEqual({ failures: 1, final: false, applied: false });
      expect(await blob()).toEqual({ failures: 1, final: false, applied: false });
      expect(await accumulations.blobFailures(rep, s.id)).toBe(1);
      expect(await accumulations.executorFailures(rep, s.id)).toBe(1);
      expect(await blob()).toEqual({ failures: 2, final: true, applied: true, status: 'blob_unavailable' });
      const rows = await get().ds.query('SELECT status, gas_used FROM accumulation WHERE report_hash = $1 AND service_id = $2', [
        Buffer.from(rep.slice(2), 'hex'),
        s.id,
      ]);
      expect(rows).toEqual([{ status: 'blob_unavailable', gas_used: '0' }]);
      expect(await blob()).toEqual({ failures: 2, final: true, applied: false, status: 'blob_unavailable' });

      const counted = await refineAttempts.recordFailure({
        packageHash: pkg,
        attesterIndex: 0,
        kind: 'blob',
        maxFailures: 1,
        attesterCount: 3,
        error: 'blob unavailable: y',
      });
      expect(counted).toMatchObject({
        failures: 1,
        exhausted: true,
        unableToSign: [{ attesterIndex: 0, lastKind: 'blob', wallClockFailures: 0, lastError: 'blob unavailable: y' }],
      });
      // the column still refuses kinds nobody writes
      await expect(get().ds.query(`UPDATE refine_attempt SET last_kind = 'other' WHERE package_hash = $1`, [Buffer.from(pkg.slice(2), 'hex')])).rejects.toThrow(
        /refine_attempt_last_kind_check/,
      );
    });

    it('counts refine failures per (package, attester); gives up at the bound; lists attesters that gave up without signing; deleted with the package', async () => {
      const { refineAttempts, attesters, attestations, workPackages } = get().repos;
      for (const i of [0, 1, 2]) await attesters.upsert(i, hash());
      const pkg = await newPackage([1]);
      const fail = (attesterIndex: number, kind: 'wall_clock' | 'executor' = 'executor') =>
        refineAttempts.recordFailure({ packageHash: pkg, attesterIndex, kind, maxFailures: 2, attesterCount: 3, error: `boom ${attesterIndex}` });
      expect(await fail(0, 'wall_clock')).toEqual({ failures: 1, exhausted: false, exhaustedNow: false, unableToSign: [] });
      const second = await fail(0);
      expect(second).toMatchObject({ failures: 2, exhausted: true, exhaustedNow: true });
      expect(second!.unableToSign).toEqual([
        { attesterIndex: 0, failures: 2, wallClockFailures: 1, lastKind: 'executor', lastError: 'boom 0', exhausted: true },
      ]);
      // an attester that gave up is not counted again
      expect(await fail(0)).toMatchObject({ failures: 2, exhausted: true, exhaustedNow: false });
      // concurrent attesters: each counted once, serialised on the package row
      const both = await Promise.all([fail(1, 'wall_clock'), fail(2, 'wall_clock')]);
      expect(both.map((r) => r!.failures)).toEqual([1, 1]);
      expect(await fail(1, 'wall_clock')).toMatchObject({
        exhausted: true,
        unableToSign: [{ attesterIndex: 0 }, { attesterIndex: 1, lastKind: 'wall_clock', wallClockFailures: 2 }],
      });
      expect((await refineAttempts.list(pkg)).map((r) => [r.attesterIndex, r.failures, r.exhausted])).toEqual([
        [0, 2, true],
        [1, 2, true],
        [2, 1, false],
      ]);
      expect(await refineAttempts.get(pkg, 2)).toMatchObject({ failures: 1, exhausted: false });
      expect(await refineAttempts.get(pkg, 5)).toBeNull();
      // an attester that gave up but had signed a report of the package does not count as unable; nor does one outside n
      const rep = await newReport(pkg);
      await attestations.insertIfAbsent({ reportHash: rep, packageHash: pkg, attesterIndex: 1, signature: sig() });
      expect((await refineAttempts.unableToSign(pkg, 3)).map((r) => r.attesterIndex)).toEqual([0]);
      expect((await refineAttempts.unableToSign(pkg, 1)).map((r) => r.attesterIndex)).toEqual([0]);
      expect(await refineAttempts.recordFailure({ packageHash: hash(), attesterIndex: 0, kind: 'executor', maxFailures: 2, attesterCount: 3 })).toBeNull();
      await expect(refineAttempts.recordFailure({ packageHash: pkg, attesterIndex: 0, kind: 'executor', maxFailures: 0, attesterCount: 3 })).rejects.toThrow(
        RangeError,
      );
      // retention deletes the counts with the package
      expect(await workPackages.transition(pkg, ['pending'], 'failed')).toBe(true);
      await get().ds.query(`UPDATE work_package SET updated_at = now() - interval '2 days' WHERE hash = $1`, [Buffer.from(pkg.slice(2), 'hex')]);
      for (let n = 1; n > 0;) n = (await workPackages.deleteFinishedOlderThan(86_400_000, 1000)).packages;
      expect(await refineAttempts.list(pkg)).toEqual([]);
    });
  });

  describe('retry of failed packages (retryFailed)', () => {
    it("puts a refine failure back to pending without its attesters' counts; keeps attestations; bounded", async () => {
      const { refineAttempts, attestations, attesters, workPackages } = get().repos;
      for (const i of [0, 1, 2]) await attesters.upsert(i, hash());
      const pkg = await newPackage([1]);
      for (const i of [0, 1]) await refineAttempts.recordFailure({ packageHash: pkg, attesterIndex: i, kind: 'wall_clock', maxFailures: 1, attesterCount: 3 });
      const rep = await newReport(pkg);
      await attestations.insertIfAbsent({ reportHash: rep, packageHash: pkg, attesterIndex: 2, signature: sig() });
      expect(await workPackages.transition(pkg, ['pending'], 'failed', { errorCode: 'refine_timeout', errorMessage: 'gave up' })).toBe(true);
      const r = await workPackages.retryFailed(pkg, 1);
      expect(r).toMatchObject({ outcome: 'retried', phase: 'refine', row: { hash: pkg, status: 'pending', errorCode: null, errorMessage: null, retries: 1 } });
      expect(await refineAttempts.list(pkg)).toEqual([]);
      expect((await attestations.listByReport(rep)).map((a) => a.attesterIndex)).toEqual([2]);
      expect(await workPackages.retryFailed(pkg, 1)).toEqual({ outcome: 'not_failed', status: 'pending' });
      expect(await workPackages.transition(pkg, ['pending'], 'failed', { errorCode: 'refine_sandbox_failure', errorMessage: 'again' })).toBe(true);
      expect(await workPackages.retryFailed(pkg, 1)).toEqual({ outcome: 'limit_reached', retries: 1 });
      expect(await workPackages.get(pkg)).toMatchObject({ status: 'failed', errorCode: 'refine_sandbox_failure', retries: 1 });
      await expect(workPackages.retryFailed(pkg, -1)).rejects.toThrow(RangeError);
    });

    it('puts an accumulate failure back to attested: deletes only the accumulations that wrote nothing and their counts (exactly once)', async () => {
      const { accumulations, workPackages } = get().repos;
      const [ok, slow, crashy] = [await newService(), await newService(), await newService()];
      const pkg = await newPackage([ok.id, slow.id, crashy.id]);
      const rep = await newReport(pkg);
      expect(
        await accumulations.applyOnce({
          reportHash: rep,
          packageHash: pkg,
          serviceId: ok.id,
          loadLimit: NO_LOAD_LIMIT,
          run: async () => ({ status: 'ok', gasUsed: 7n, writes: [] }),
        }),
      ).toEqual({ applied: true, status: 'ok' });
      await accumulations.recordWallClockFailure({ reportHash: rep, packageHash: pkg, serviceId: slow.id, maxFailures: 1, gasUsed: 1n });
      await accumulations.recordSandboxFailure({ reportHash: rep, packageHash: pkg, serviceId: crashy.id, kind: 'executor', maxFailures: 1, gasUsed: 1n });
      expect(await workPackages.transition(pkg, ['pending'], 'failed', { reportHash: rep, errorCode: 'accumulate_timeout', errorMessage: 'x' })).toBe(true);
      const r = await workPackages.retryFailed(pkg, 3);
      expect(r).toMatchObject({ outcome: 'retried', phase: 'accumulate', row: { status: 'attested', reportHash: rep, errorCode: null, retries: 1 } });
      const rows = await get().ds.query('SELECT service_id, status FROM accumulation WHERE report_hash = $1 ORDER BY service_id', [
        Buffer.from(rep.slice(2), 'hex'),
      ]);
      expect(rows).toEqual([{ service_id: ok.id, status: 'ok' }]);
      expect(await accumulations.wallClockFailures(rep, slow.id)).toBe(0);
      expect(await accumulations.executorFailures(rep, crashy.id)).toBe(0);
      // the applied one is still applied: a new delivery runs only the other two
      const run = jest.fn(async () => ({ status: 'ok' as const, gasUsed: 1n, writes: [] }));
      expect(await accumulations.applyOnce({ reportHash: rep, packageHash: pkg, serviceId: ok.id, loadLimit: NO_LOAD_LIMIT, run })).toEqual({
        applied: false,
        status: 'ok',
      });
      expect(run).not.toHaveBeenCalled();
    });

    it('refuses verdicts, unknown and unfinished packages', async () => {
      const { workPackages } = get().repos;
      expect(await workPackages.retryFailed(hash(), 3)).toEqual({ outcome: 'not_found' });
      const pkg = await newPackage([1]);
      expect(await workPackages.retryFailed(pkg, 3)).toEqual({ outcome: 'not_failed', status: 'pending' });
      expect(await workPackages.transition(pkg, ['pending'], 'disputed')).toBe(true);
      expect(await workPackages.transition(pkg, ['disputed'], 'failed', { errorCode: 'dispute_rejected', errorMessage: 'no' })).toBe(true);
      expect(await workPackages.retryFailed(pkg, 3)).toEqual({ outcome: 'not_retryable', errorCode: 'dispute_rejected' });
      const bare = await newPackage([1]);
      expect(await workPackages.transition(bare, ['pending'], 'failed')).toBe(true);
      expect(await workPackages.retryFailed(bare, 3)).toEqual({ outcome: 'not_retryable', errorCode: null });
      // an accumulate code without a report cannot restart accumulate
      const noReport = await newPackage([1]);
      expect(await workPackages.transition(noReport, ['pending'], 'failed', { errorCode: 'accumulate_timeout' })).toBe(true);
      expect(await workPackages.retryFailed(noReport, 3)).toEqual({ outcome: 'not_retryable', errorCode: 'accumulate_timeout' });
      expect(await workPackages.retryFailed(pkg, 0)).toEqual({ outcome: 'not_retryable', errorCode: 'dispute_rejected' });
    });
  });

  describe('AuditLogRepository', () => {
    it('appends and pages newest first', async () => {
      const { auditLog } = get().repos;
      const action = `act-${tag()}`;
      const token = hash();
      const appended = [];
      for (let i = 0; i < 5; i++) {
        appended.push(
          await auditLog.append({ actorTokenHash: i === 0 ? null : token, action, target: `t${i}`, outcome: 'ok', details: { i, nested: [true, null] } }),
        );
      }
      expect(appended[1]).toMatchObject({ actorTokenHash: token, action, target: 't1', outcome: 'ok', details: { i: 1, nested: [true, null] } });
      const seen: string[] = [];
      let beforeId: string | undefined;
      for (;;) {
        const page = await auditLog.list({ action, limit: 2, ...(beforeId === undefined ? {} : { beforeId }) });
        if (page.length === 0) break;
        seen.push(...page.map((e) => e.id));
        beforeId = page[page.length - 1]!.id;
      }
      expect(seen).toEqual(appended.map((e) => e.id).reverse());
      await expectDomainError(auditLog.list({ beforeId: 'x', limit: 1 }), 'invalid_request');
    });
  });

  afterAll(async () => {
    if (ctx?.ds.isInitialized) await ctx.ds.destroy();
  });

  return get;
}
