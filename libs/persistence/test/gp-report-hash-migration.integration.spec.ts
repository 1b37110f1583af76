/**
 * Migration 1768000000000 on a database that already holds reports (issue 9 item 1): rows made
 * before it keep their report hash and are marked hash format 1 (legacy), their attestations stay;
 * rows written afterwards are format 2 (GP H(E(report))). Real PostgreSQL, own database.
 */
import { randomBytes } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { createTestDatabase, type TestDatabase } from '../../../test/support/database';
import { createDataSource, createRepositories, PERSISTENCE_MIGRATIONS } from '../src';

const hex32 = () => `0x${randomBytes(32).toString('hex')}`;

describe('migration 1768000000000: stored reports keep their hash as format 1', () => {
  // an empty database (createTestDatabase, not createMigratedDatabase): the test runs the migrations up to this one itself
  let db: TestDatabase | undefined;
  let ds: DataSource | undefined;

  beforeAll(async () => {
    db = await createTestDatabase('gpmig');
    ds = createDataSource({ url: db.url, poolSize: 2 });
    await ds.initialize();
  });

  afterAll(async () => {
    if (ds?.isInitialized) await ds.destroy();
    await db?.drop();
  });

  it('marks existing rows legacy, keeps their hashes and attestations, and new rows are GP format', async () => {
    const at = PERSISTENCE_MIGRATIONS.findIndex((M) => new M().name === 'GpReportHashAndSegments1768000000000');
    expect(at).toBeGreaterThan(0);
    const runner = ds!.createQueryRunner();
    try {
      for (const M of PERSISTENCE_MIGRATIONS.slice(0, at)) await new M().up(runner);
      // a report and its attestation as engine 0.6.0 stored them
      const pkg = hex32();
      const report = hex32();
      const b = (h: string) => Buffer.from(h.slice(2), 'hex');
      await runner.query(`INSERT INTO work_package (hash, encoded, status, service_ids, submitted_by) VALUES ($1, $2, 'attesting', '{}', 'p')`, [
        b(pkg),
        b(pkg),
      ]);
      await runner.query(`INSERT INTO work_report (report_hash, package_hash, encoded, engine) VALUES ($1, $2, $3, 'old')`, [b(report), b(pkg), b(report)]);
      await runner.query(`INSERT INTO attester ("index", public_key) VALUES (0, $1)`, [b(hex32())]);
      await runner.query(`INSERT INTO attestation (report_hash, attester_index, package_hash, signature) VALUES ($1, 0, $2, $3)`, [
        b(report),
        b(pkg),
        randomBytes(64),
      ]);
      // this migration, then the ones after it (the repositories read their columns too)
      for (const M of PERSISTENCE_MIGRATIONS.slice(at)) await new M().up(runner);

      const repos = createRepositories(ds!);
      expect(await repos.workReports.get(report)).toMatchObject({ reportHash: report, hashFormat: 1 });
      expect((await repos.attestations.listByReport(report)).map((a) => a.attesterIndex)).toEqual([0]);
      // the legacy signature does not count: the reconciler will re-refine this package
      expect(await repos.attestations.reportHashesForPackage(pkg)).toEqual([]);
      const fresh = hex32();
      await repos.workReports.insertIfAbsent({ reportHash: fresh, packageHash: pkg, encoded: new Uint8Array(3), engine: 'new' });
      expect(await repos.workReports.get(fresh)).toMatchObject({ hashFormat: 2 });
    } finally {
      await runner.release();
    }
  });
});
