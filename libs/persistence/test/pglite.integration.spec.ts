import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { createDataSource, createRepositories, EMBEDDED_POSTGRES_POOL_SIZE, runMigrations, startEmbeddedPostgres, type EmbeddedPostgres } from '../src';
import { describePersistence, hash, type TestDatabase } from './persistence-suite';

describe('persistence on embedded PGlite', () => {
  let dataDir = '';
  let server: EmbeddedPostgres | undefined;
  let db: TestDatabase | undefined;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'jam-persist-'));
    const rssBefore = process.memoryUsage().rss;
    const t0 = performance.now();
    server = await startEmbeddedPostgres({ dataDir, port: 0 });
    const ms = performance.now() - t0;
    const rssMiB = (process.memoryUsage().rss - rssBefore) / 2 ** 20;
    // Measurement for the report, never asserted (docs/architecture.md section 12, habit 9: no timed assertions in tests).
    console.log(`startEmbeddedPostgres (fresh dataDir, initdb): ${ms.toFixed(0)} ms, RSS +${rssMiB.toFixed(0)} MiB`);
    expect(server.url).toMatch(/^postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres$/);
    expect(server.poolSize).toBe(EMBEDDED_POSTGRES_POOL_SIZE);
    db = { url: server.url, poolSize: server.poolSize };
  }, 180_000); // a fresh initdb took 17-35 s on a loaded 2-core machine

  const ctx = describePersistence(() => {
    if (!db) throw new Error('server not started');
    return db;
  });

  describe('embedded server', () => {
    it('accepts one connection at a time (EMBEDDED_POSTGRES_POOL_SIZE): a second socket is refused', async () => {
      const { ds } = ctx();
      await ds.query('SELECT 1'); // the pool's one idle connection stays open (idleTimeoutMillis 0)
      const other = new Client({ connectionString: server!.url, connectionTimeoutMillis: 5000 });
      other.on('error', () => undefined);
      await expect(other.connect()).rejects.toThrow();
      await other.end().catch(() => undefined);
      expect(await ds.query('SELECT 2 AS n')).toEqual([{ n: 2 }]);
    });

    it('keeps every committed row across close and restart', async () => {
      const { ds, repos } = ctx();
      const h = hash();
      await repos.preimages.insertIfAbsent({ hash: h, length: 42, storageTier: 'fs', uploadedBy: 'restart' });
      const before = await ds.query('SELECT count(*)::int AS n FROM work_package');
      await ds.destroy();
      await server!.close();

      const t0 = performance.now();
      server = await startEmbeddedPostgres({ dataDir, port: 0 });
      console.log(`startEmbeddedPostgres (existing dataDir): ${(performance.now() - t0).toFixed(0)} ms`);
      const ds2 = createDataSource({ url: server.url, poolSize: server.poolSize });
      await ds2.initialize();
      try {
        expect(await runMigrations(ds2)).toEqual([]);
        expect(await createRepositories(ds2).preimages.get(h)).toMatchObject({ hash: h, length: 42, storageTier: 'fs', uploadedBy: 'restart' });
        expect(await ds2.query('SELECT count(*)::int AS n FROM work_package')).toEqual(before);
      } finally {
        await ds2.destroy();
      }
    }, 120_000);
  });

  afterAll(async () => {
    await server?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });
});
