/**
 * The bare Fastify server `npm run bench -- gateway` compares the gateway with (docs/performance.md,
 * "Gateway throughput"): the least work each measured route must do.
 *
 *   node dist/bench/gateway-bare.server.js <port> <databaseUrl>
 *   GET  /packages/:hash   one indexed SELECT of the product's own `work_package` row (same database)
 *   POST /dryrun           JSON.parse of the body + Blake2b-256 of its bytes (hash-wasm, as the product)
 * Prints `ready` on stdout once listening.
 */
import Fastify from 'fastify';
import { Pool } from 'pg';
import { blake2b256, fromHex, initHashing, toHex } from '@jam/domain';

const [portArg, databaseUrl] = process.argv.slice(2);
if (portArg === undefined || databaseUrl === undefined) {
  console.error('usage: gateway-bare.server.js <port> <databaseUrl>');
  process.exit(2);
}

async function main(): Promise<void> {
  await initHashing();
  const pool = new Pool({ connectionString: databaseUrl, max: 10 });
  const app = Fastify({ logger: false, bodyLimit: 4 * 1024 * 1024 });
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  app.get<{ Params: { hash: string } }>('/packages/:hash', async (req, reply) => {
    const r = await pool.query('SELECT hash, status, service_ids, error_code, created_at, updated_at, accumulated_at FROM work_package WHERE hash = $1', [
      Buffer.from(fromHex(req.params.hash)),
    ]);
    if (r.rows.length === 0) return reply.code(404).send({ code: 'not_found' });
    const row = r.rows[0];
    return {
      hash: toHex(row.hash),
      status: row.status,
      services: row.service_ids,
      error_code: row.error_code,
      created_at: row.created_at,
      accumulated_at: row.accumulated_at,
    };
  });
  app.post('/dryrun', async (req) => {
    const raw = req.body as Buffer;
    JSON.parse(raw.toString('utf8'));
    return { hash: toHex(blake2b256(raw)) };
  });
  await app.listen({ port: Number(portArg), host: '127.0.0.1' });
  process.stdout.write('ready\n');
  const shutdown = (): void =>
    void app
      .close()
      .then(() => pool.end())
      .finally(() => process.exit(0));
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
