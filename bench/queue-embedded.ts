/**
 * Embedded-mode queue driver choice: BullMQ's PostgreSQL backend on PGlite (served through
 * @electric-sql/pglite-socket) vs the in-process driver, on a fresh PGlite in a temp dir.
 *
 * Per driver and workload it reports enqueue/s, end-to-end jobs/s, duplicate and missing runs,
 * and every error seen (onError, console.error/warn, unhandled rejections) split into "during
 * the run" and "at shutdown". Workloads: a no-op handler, and a handler doing one
 * `INSERT ... ON CONFLICT DO NOTHING` on the same PGlite (what a real handler costs at least).
 * Run: node bench/queue-embedded.run.cjs [jobs=1000] [concurrency=10]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { Pool } from 'pg';
import { REFINE_PACKAGE_V1, refineJobId, refineQueueName, type JobOptionsPolicy } from '@jam/queue-contracts';
import { createBullMqPostgresQueue, createInProcessQueue, migrateBullMqPostgresSchema, type JobQueue } from '@jam/queue';

const JOBS = Number(process.argv[2] ?? 1000);
const CONCURRENCY = Number(process.argv[3] ?? 10);
const QUEUE = refineQueueName(0);
const POLICY: JobOptionsPolicy = { attempts: 3, backoff: { type: 'exponential', delay: 50 }, removeOnComplete: true, removeOnFail: { age: 3600, count: 1000 } };

const phase = { name: 'setup' };
const errors: Array<{ phase: string; msg: string }> = [];
const record = (msg: string): void => void errors.push({ phase: phase.name, msg: msg.slice(0, 200) });
for (const level of ['error', 'warn'] as const) {
  const orig = console[level].bind(console);
  console[level] = (...args: unknown[]) => {
    record(`console.${level}: ${args.map((a) => (a instanceof Error ? a.message : String(a))).join(' ')}`);
    if (process.argv.includes('--verbose')) orig(...args);
  };
}
process.on('unhandledRejection', (r) => record(`unhandledRejection: ${String(r)}`));
process.on('uncaughtException', (e) => record(`uncaughtException: ${e.message}`));

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Result {
  driver: string;
  workload: string;
  enqueuePerS: number;
  jobsPerS: number;
  duplicates: number;
  missing: number;
  runErrors: number;
  shutdownErrors: number;
  closeMs: number;
}

async function runOne(driver: string, workload: 'noop' | 'db-insert', make: () => Promise<JobQueue>, pool: Pool): Promise<Result> {
  const errBefore = errors.length;
  phase.name = `${driver}/${workload}/run`;
  const table = `bench_${randomBytes(4).toString('hex')}`;
  await pool.query(`CREATE TABLE ${table} (id text PRIMARY KEY)`);
  const queue = await make();
  const runs = new Map<string, number>();
  const ids = Array.from({ length: JOBS }, () => `0x${randomBytes(32).toString('hex')}`);
  const t0 = performance.now();
  for (const h of ids) await queue.enqueue(QUEUE, REFINE_PACKAGE_V1, { package_hash: h, attester_index: 0 }, { jobId: refineJobId(h, 0) });
  const tEnq = performance.now();
  let done = 0;
  queue.process(
    QUEUE,
    async (job) => {
      runs.set(job.id, (runs.get(job.id) ?? 0) + 1);
      if (workload === 'db-insert') await pool.query(`INSERT INTO ${table} (id) VALUES ($1) ON CONFLICT DO NOTHING`, [job.id]);
      done++;
    },
    { concurrency: CONCURRENCY },
  );
  const deadline = Date.now() + 300_000;
  while (done < JOBS && Date.now() < deadline) await sleep(5);
  const tRun = performance.now();
  await sleep(500); // late duplicates (stalled-job recovery, double claims) show up here
  const runErrEnd = errors.length;
  phase.name = `${driver}/${workload}/shutdown`;
  const c0 = performance.now();
  await queue.close();
  const closeMs = performance.now() - c0;
  await sleep(1000); // errors emitted after close resolved still count as shutdown errors
  const duplicates = [...runs.values()].filter((n) => n > 1).length;
  const missing = ids.filter((h) => !runs.has(refineJobId(h, 0))).length;
  const rows = await pool.query(`SELECT count(*)::int AS n FROM ${table}`);
  if (workload === 'db-insert' && rows.rows[0].n !== JOBS - missing) record(`row count ${rows.rows[0].n} != ${JOBS - missing}`);
  await pool.query(`DROP TABLE ${table}`);
  return {
    driver,
    workload,
    enqueuePerS: Math.round(JOBS / ((tEnq - t0) / 1000)),
    jobsPerS: Math.round(JOBS / ((tRun - t0) / 1000)),
    duplicates,
    missing,
    runErrors: runErrEnd - errBefore,
    shutdownErrors: errors.length - runErrEnd,
    closeMs: Math.round(closeMs),
  };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'jam-queue-bench-'));
  const s0 = performance.now();
  const db = await PGlite.create(join(dir, 'pgdata'));
  const server = new PGLiteSocketServer({ db, port: 0, host: '127.0.0.1', maxConnections: 64 });
  await server.start();
  const startMs = Math.round(performance.now() - s0);
  const conn = server.getServerConn();
  const databaseUrl = `postgres://postgres@${conn}/postgres`;
  const pool = new Pool({ connectionString: databaseUrl, max: 4 });
  const results: Result[] = [];
  const onError = (e: Error): void => record(`onError: ${e.message}`);
  try {
    for (const workload of ['noop', 'db-insert'] as const) {
      results.push(await runOne('in-process', workload, async () => createInProcessQueue({ jobOptions: () => POLICY, onError }), pool));
      for (const schema of ['public', 'jamq']) {
        phase.name = `bullmq-pg(${schema})/migrate`;
        try {
          await Promise.race([
            migrateBullMqPostgresSchema({ databaseUrl, schema }),
            sleep(30_000).then(() => Promise.reject(new Error('migration timed out after 30 s'))),
          ]);
          results.push(
            await runOne(
              `bullmq-pg(${schema})`,
              workload,
              async () => createBullMqPostgresQueue({ databaseUrl, schema, jobOptions: () => POLICY, onError }),
              pool,
            ),
          );
        } catch (err) {
          record(`bullmq-pg(${schema}) failed: ${(err as Error).message}`);
        }
      }
    }
  } finally {
    phase.name = 'teardown';
    await pool.end();
    await server.stop();
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
  process.stdout.write(`PGlite + socket start: ${startMs} ms; jobs=${JOBS} concurrency=${CONCURRENCY}\n`);
  console.table(results);
  const byPhase = new Map<string, string[]>();
  for (const e of errors) byPhase.set(e.phase, [...(byPhase.get(e.phase) ?? []), e.msg]);
  for (const [p, msgs] of byPhase) {
    process.stdout.write(`errors in ${p}: ${msgs.length}\n`);
    for (const m of [...new Set(msgs)].slice(0, 5)) process.stdout.write(`  ${m}\n`);
  }
  process.exit(0);
}

void main();
