/**
 * How the gateway's hot paths scale with stored packages and with a submitter's backlog (issue 8;
 * docs/performance.md, "Scale"): latency and PostgreSQL query plans at 10^3 and 10^6 stored packages.
 *
 * A production gateway alone (PostgreSQL + Redis; no workers, so seeded rows are never processed)
 * gets one real accumulated word-count package; the bench then copies that row in SQL
 * (`generate_series`) to `--small` (1,000) and later `--large` (1,000,000) rows: 1 in 100 is in
 * flight (`pending`) for the bench's principal (its backlog: 10, then 10,000), the rest
 * `accumulated`, spread over the past. At each size, after ANALYZE:
 * - p50/p99 of `--requests` sequential real submits (POST /jam/packages, fresh packages: auth, quota
 *   count of the backlog, insert, enqueue), of GET /jam/packages/{hash} and of one page of
 *   GET /jam/services/{id}/packages?limit=50;
 * - EXPLAIN (ANALYZE, BUFFERS) of the backlog count at submit, the janitor's stale-package scan,
 *   the service listing and the read by hash: the same SQL as libs/persistence's
 *   work-package.repository.ts (inFlightBySubmitter; the COUNT it replaced on an older server, findStale, listByService, get).
 * Prints both tables and the plans, JSON to bench/results/scale.json (or `--json FILE`), and last
 * `scale submit p50 large/small: X`.
 *
 * Run (after `npm run build`): npm run bench -- scale [--small 1000] [--large 1000000] [--requests 100]
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { IN_FLIGHT_PACKAGE_STATUSES, initHashing } from '@jam/domain';
import { repoRoot } from './repo-root';
import { numberArg, percentile, register, startCluster, submit, waitAccumulated, workPackage, type Cluster, type Tenant } from './support/jam-cluster';

const root = repoRoot();
const SMALL = numberArg('small', 1_000);
const LARGE = numberArg('large', 1_000_000);
const REQUESTS = numberArg('requests', 100);
const JSON_OUT = (() => {
  const i = process.argv.indexOf('--json');
  return i < 0 ? path.join(root, 'bench', 'results', 'scale.json') : path.resolve(process.argv[i + 1] ?? 'scale.json');
})();
const IN_FLIGHT_SQL = IN_FLIGHT_PACKAGE_STATUSES.map((s) => `'${s}'`).join(', ');

/** Adds rows copied from `template` until the table holds `target` rows; 1 in 100 pending. */
async function seedTo(db: Client, template: Buffer, target: number): Promise<void> {
  const have = Number((await db.query<{ n: string }>('SELECT count(*) AS n FROM work_package')).rows[0]!.n);
  const cols = (
    await db.query<{ column_name: string }>(
      `SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'work_package' ORDER BY ordinal_position`,
    )
  ).rows.map((r) => r.column_name);
  const override: Record<string, string> = {
    hash: `decode(md5('seed-' || g) || md5('seed2-' || g), 'hex')`,
    status: `CASE WHEN g % 100 = 0 THEN 'pending' ELSE 'accumulated' END`,
    report_hash: `CASE WHEN g % 100 = 0 THEN NULL ELSE t.report_hash END`,
    created_at: `now() - g * interval '1 second'`,
    updated_at: `now() - g * interval '1 second'`,
    accumulated_at: `CASE WHEN g % 100 = 0 THEN NULL ELSE now() - g * interval '1 second' END`,
  };
  const select = cols.map((c) => override[c] ?? `t.${c}`).join(', ');
  const step = 100_000;
  for (let from = have; from < target; from += step) {
    const to = Math.min(target, from + step);
    await db.query(
      `INSERT INTO work_package (${cols.join(', ')}) SELECT ${select} FROM work_package t, generate_series($2::int, $3::int) g WHERE t.hash = $1`,
      [template, from + 1, to],
    );
  }
  await db.query('ANALYZE work_package');
}

async function timed(n: number, fn: (i: number) => Promise<void>): Promise<{ p50: number; p99: number }> {
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    await fn(i);
    ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  ms.sort((a, b) => a - b);
  return { p50: percentile(ms, 50), p99: percentile(ms, 99) };
}

async function measure(cluster: Cluster, db: Client, tenant: Tenant, hash: string, label: string) {
  const token = tenant.token;
  const submitMs = await timed(REQUESTS, async (i) => {
    await submit(cluster.api, tenant, workPackage(tenant, new TextEncoder().encode(`${label} ${i} ${randomBytes(8).toString('hex')}`), 10_000_000n));
  });
  const getMs = await timed(REQUESTS, async () => {
    await cluster.api.ok(token, 'GET', `/jam/packages/${hash}`);
  });
  const listMs = await timed(Math.max(10, REQUESTS / 4), async () => {
    await cluster.api.ok(token, 'GET', `/jam/services/${tenant.serviceId}/packages?limit=50`);
  });
  const explain = async (sql: string, params: unknown[]): Promise<string> =>
    (await db.query(`EXPLAIN (ANALYZE, BUFFERS) ${sql}`, params)).rows.map((r: Record<string, string>) => r['QUERY PLAN']).join('\n');
  const plans = {
    // the per-submitter counters (migration 1769000000000) where the server has them, else the COUNT it ran before
    'backlog at submit (inFlightBySubmitter)': (await db.query<{ t: string | null }>(`SELECT to_regclass('principal_in_flight')::text AS t`)).rows[0]!.t
      ? await explain(`SELECT COALESCE(sum(packages), 0) AS n, COALESCE(sum(refine_gas), 0) AS gas FROM principal_in_flight WHERE principal = $1`, ['bench'])
      : await explain(`SELECT count(*) AS n, COALESCE(sum(refine_gas), 0) AS gas FROM work_package WHERE submitted_by = $1 AND status IN (${IN_FLIGHT_SQL})`, [
          'bench',
        ]),
    'janitor stale scan (findStale)': await explain(
      `SELECT hash, status FROM work_package WHERE status = ANY($1::text[]) AND updated_at <= now() - $2 * interval '1 millisecond' ORDER BY updated_at LIMIT $3`,
      [[...IN_FLIGHT_PACKAGE_STATUSES], 15_000, 100],
    ),
    'service listing (listByService)': await explain(
      `SELECT hash, status, created_at FROM work_package WHERE service_ids @> ARRAY[$1::integer] ORDER BY created_at DESC, hash DESC LIMIT 51`,
      [tenant.serviceId],
    ),
    'read by hash (get)': await explain(`SELECT * FROM work_package WHERE hash = $1`, [Buffer.from(hash.slice(2), 'hex')]),
  };
  const rows = Number((await db.query<{ n: string }>('SELECT count(*) AS n FROM work_package')).rows[0]!.n);
  return { label, rows, submitMs, getMs, listMs, plans };
}

async function main(): Promise<void> {
  await initHashing();
  const cluster = await startCluster({
    label: 'scale',
    production: true,
    principals: ['bench'],
    serverRoot: root,
    roles: ['gateway'],
    env: { JAM_MAX_PENDING_PACKAGES: '10000000' },
  });
  const db = new Client({ connectionString: cluster.databaseUrl });
  await db.connect();
  try {
    const code = new Uint8Array(readFileSync(path.join(root, 'services', 'word-count', 'build', 'word-count.wasm')));
    const tenant = await register(cluster.api, 'bench', cluster.tokens['bench']!, code);
    const hash = await submit(cluster.api, tenant, workPackage(tenant, new TextEncoder().encode('template package'), 10_000_000n));
    // no workers run: mark the template accumulated as a finished package looks (report hash left null)
    await db.query(`UPDATE work_package SET status = 'accumulated', accumulated_at = now() WHERE hash = $1`, [Buffer.from(hash.slice(2), 'hex')]);
    await waitAccumulated(cluster.api, tenant, [hash], 60_000);
    const template = Buffer.from(hash.slice(2), 'hex');
    const results = [];
    for (const [label, target] of [
      ['small', SMALL],
      ['large', LARGE],
    ] as const) {
      const t0 = Date.now();
      await seedTo(db, template, target);
      console.log(`seeded to ${target} rows in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      const r = await measure(cluster, db, tenant, hash, label);
      results.push(r);
      console.log(`\n${label}: ${r.rows} stored packages`);
      console.log(
        `  submit p50/p99 ${r.submitMs.p50.toFixed(1)}/${r.submitMs.p99.toFixed(1)} ms   get ${r.getMs.p50.toFixed(1)}/${r.getMs.p99.toFixed(1)} ms   list ${r.listMs.p50.toFixed(1)}/${r.listMs.p99.toFixed(1)} ms`,
      );
      for (const [name, plan] of Object.entries(r.plans)) console.log(`  -- ${name}\n${plan.replace(/^/gm, '     ')}`);
    }
    mkdirSync(path.dirname(JSON_OUT), { recursive: true });
    writeFileSync(JSON_OUT, JSON.stringify(results, null, 2));
    console.log(`JSON: ${path.relative(process.cwd(), JSON_OUT)}`);
    console.log(`scale submit p50 large/small: ${(results[1]!.submitMs.p50 / results[0]!.submitMs.p50).toFixed(2)}`);
  } finally {
    await db.end();
    await cluster.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
