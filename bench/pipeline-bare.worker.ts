/**
 * One process of the bare BullMQ chain that `npm run bench -- pipeline` compares the product with:
 * the product's fan-out with no-op processors (docs/performance.md, "Pipeline throughput").
 *
 *   node dist/bench/pipeline-bare.worker.js <role> <prefix> [databaseUrl]
 *   role: refine:<i> (attester i's queue, concurrency 2, as refine_concurrency's default)
 *         attestation (concurrency 4, as the product's) | accumulate (concurrency 2)
 *
 * Per package: the producer (the bench) adds 3 refine jobs (one per attester queue); each refine
 * job adds an attestation job; the attestation that makes 2 of 3 (SADD + SCARD in one MULTI, then
 * SET NX so exactly one wins) adds the accumulate job; accumulate records `Date.now()` in the
 * `<prefix>:done` hash. With `databaseUrl`, every hop also INSERTs one row into `bare_hop` (the
 * "bare chain + PostgreSQL" variant). Prints `ready` on stdout once its worker runs.
 */
import { Queue, Worker, type Job } from 'bullmq';
import IORedis from 'ioredis';
import { Pool } from 'pg';

const [role, prefix, databaseUrl] = process.argv.slice(2);
if (role === undefined || prefix === undefined) {
  console.error('usage: pipeline-bare.worker.js <refine:i|attestation|accumulate> <prefix> [databaseUrl]');
  process.exit(2);
}

const connection = new IORedis('redis://127.0.0.1:6379', { maxRetriesPerRequest: null });
const pool = databaseUrl !== undefined ? new Pool({ connectionString: databaseUrl, max: 4 }) : undefined;
const queueOpts = { connection, prefix };
const jobOpts = { removeOnComplete: true, removeOnFail: 1000 };

async function hop(pkg: number, name: string): Promise<void> {
  if (pool !== undefined) await pool.query('INSERT INTO bare_hop (pkg, hop) VALUES ($1, $2)', [pkg, name]);
}

async function run(): Promise<Worker> {
  if (role!.startsWith('refine:')) {
    const attester = Number(role!.slice('refine:'.length));
    const attestation = new Queue('attestation', queueOpts);
    return new Worker(
      `refine-a${attester}`,
      async (job: Job<{ pkg: number }>) => {
        await hop(job.data.pkg, `refine${attester}`);
        await attestation.add('attest', { pkg: job.data.pkg, attester }, { ...jobOpts, jobId: `a-${job.data.pkg}-${attester}` });
      },
      { ...queueOpts, concurrency: 2 },
    );
  }
  if (role === 'attestation') {
    const accumulate = new Queue('accumulate', queueOpts);
    return new Worker(
      'attestation',
      async (job: Job<{ pkg: number; attester: number }>) => {
        await hop(job.data.pkg, `attest${job.data.attester}`);
        const set = `${prefix}:att:${job.data.pkg}`;
        const res = await connection.multi().sadd(set, String(job.data.attester)).scard(set).exec();
        const count = Number(res?.[1]?.[1] ?? 0);
        if (count >= 2 && (await connection.set(`${prefix}:acc:${job.data.pkg}`, '1', 'NX')) === 'OK') {
          await accumulate.add('accumulate', { pkg: job.data.pkg }, { ...jobOpts, jobId: `c-${job.data.pkg}` });
        }
      },
      { ...queueOpts, concurrency: 4 },
    );
  }
  if (role === 'accumulate') {
    return new Worker(
      'accumulate',
      async (job: Job<{ pkg: number }>) => {
        await hop(job.data.pkg, 'accumulate');
        await connection.hset(`${prefix}:done`, String(job.data.pkg), String(Date.now()));
      },
      { ...queueOpts, concurrency: 2 },
    );
  }
  throw new Error(`unknown role ${role}`);
}

run()
  .then(async (worker) => {
    await worker.waitUntilReady();
    process.stdout.write('ready\n');
    const shutdown = (): void => {
      void worker
        .close()
        .then(() => pool?.end())
        .then(() => connection.quit())
        .finally(() => process.exit(0));
    };
    process.on('SIGTERM', shutdown);
    process.on('SIGINT', shutdown);
  })
  .catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
