import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';

/** Resolves a package entry from this file (typed independently of any global `require` declaration). */
const resolveModule = (id: string): string => createRequire(__filename).resolve(id);

/**
 * Pool size to pass to createDataSource for the embedded server. WARNING: must stay 1.
 *
 * Read from @electric-sql/pglite-socket 0.2.17 (dist/chunk-*.js) and checked by experiment:
 * PGlite is ONE Postgres backend (one session). The socket server accepts `maxConnections`
 * sockets (default 1; extra sockets get "Too many connections") and funnels every protocol
 * message of every socket into one FIFO queue. While PGlite is inside a transaction it runs only
 * messages of the socket that opened it: every other socket's statements, even a plain SELECT,
 * wait until that transaction ends. So transactions on different connections are serialized,
 * not MVCC-isolated; session state (SET, prepared statements, temp tables) is shared; and
 * outside a transaction the Parse/Bind/Execute messages of two sockets can interleave and
 * clobber each other's unnamed statement. Hence one socket and one pooled connection: with
 * TypeORM the wait then happens in the pool, and a transaction holds the whole database.
 */
export const EMBEDDED_POSTGRES_POOL_SIZE = 1;

/** Options of {@link startEmbeddedPostgres}. */
export interface EmbeddedPostgresOptions {
  /** Directory for the data; the cluster lives in `<dataDir>/pg` (created if missing). */
  dataDir: string;
  /** Interface to listen on (default 127.0.0.1; keep it loopback, there is no authentication). */
  host?: string;
  /** TCP port (default 0 = a random free port; read the actual one from `url`). */
  port?: number;
}

/** A running embedded server. */
export interface EmbeddedPostgres {
  /** `postgres://postgres@<host>:<port>/postgres` for the ordinary `pg` driver. */
  url: string;
  /** Always EMBEDDED_POSTGRES_POOL_SIZE (1): pass it to createDataSource. */
  poolSize: number;
  /**
   * Stops accepting connections, drops open ones (rolling back an open transaction) and shuts
   * PGlite down cleanly (checkpoint), so every committed row is on disk for the next start.
   * Destroy DataSources first. Idempotent.
   */
  close(): Promise<void>;
}

/**
 * Source of the worker thread that owns PGlite and its socket server. It is plain JavaScript run
 * with `eval: true` because PGlite's CommonJS build loads Node built-ins with dynamic
 * `import()`, which Jest's module VM rejects; in a worker, Node itself loads the modules. The
 * thread also keeps the WASM Postgres off the main event loop.
 * Protocol: worker posts {type:'ready', port} or {type:'error', message}; main posts 'close';
 * worker answers {type:'closed'} after PGlite has shut down (checkpoint) and exits.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { PGlite } = require(workerData.pglitePath);
const { PGLiteSocketServer } = require(workerData.socketPath);
(async () => {
  let db;
  try {
    db = await PGlite.create(workerData.pgDir);
    const server = new PGLiteSocketServer({ db, host: workerData.host, port: workerData.port, maxConnections: workerData.maxConnections });
    await server.start();
    const conn = server.getServerConn();
    parentPort.on('message', async (msg) => {
      if (msg !== 'close') return;
      try {
        await server.stop();
        await new Promise((resolve) => setImmediate(resolve));
        await db.close();
        parentPort.postMessage({ type: 'closed' });
      } catch (err) {
        parentPort.postMessage({ type: 'error', message: String(err && err.stack || err) });
      }
      parentPort.close();
    });
    parentPort.postMessage({ type: 'ready', port: Number(conn.slice(conn.lastIndexOf(':') + 1)) });
  } catch (err) {
    if (db) await db.close().catch(() => undefined);
    parentPort.postMessage({ type: 'error', message: String(err && err.stack || err) });
    parentPort.close();
  }
})();
`;

type WorkerReply = { type: 'ready'; port: number } | { type: 'closed' } | { type: 'error'; message: string };

function nextReply(worker: Worker): Promise<WorkerReply> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: WorkerReply): void => {
      cleanup();
      resolve(m);
    };
    const onError = (err: Error): void => {
      cleanup();
      reject(err);
    };
    const onExit = (code: number): void => {
      cleanup();
      reject(new Error(`embedded postgres worker exited with code ${code}`));
    };
    const cleanup = (): void => {
      worker.off('message', onMessage).off('error', onError).off('exit', onExit);
    };
    worker.on('message', onMessage).on('error', onError).on('exit', onExit);
  });
}

/**
 * Opens (or initialises) a PGlite cluster persisted under `<dataDir>/pg` and serves it over
 * the PostgreSQL wire protocol on `host:port` with PGLiteSocketServer, so the same TypeORM/`pg`
 * code runs in embedded mode (docs/architecture.md section 4). PGlite runs in a worker thread of this
 * process. Measured on a loaded 2-core machine: 17-35 s and about +740 MiB RSS for a fresh
 * `dataDir` (initdb), 1.3-3.3 s to reopen an existing one.
 * If the worker dies after startup its 'error' is not caught here and ends the process (the
 * database is gone; failing loudly beats serving without it).
 * @throws when the data directory cannot be created, PGlite cannot open it or the port cannot be bound.
 */
export async function startEmbeddedPostgres(opts: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const pgDir = join(opts.dataDir, 'pg');
  await mkdir(pgDir, { recursive: true });
  const host = opts.host ?? '127.0.0.1';
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: {
      pglitePath: resolveModule('@electric-sql/pglite'),
      socketPath: resolveModule('@electric-sql/pglite-socket'),
      pgDir,
      host,
      port: opts.port ?? 0,
      maxConnections: EMBEDDED_POSTGRES_POOL_SIZE,
    },
  });
  const ready = await nextReply(worker);
  if (ready.type !== 'ready') {
    await worker.terminate();
    throw new Error(`embedded postgres failed to start: ${ready.type === 'error' ? ready.message : ready.type}`);
  }
  const urlHost = host.includes(':') ? `[${host}]` : host;

  let closing: Promise<void> | null = null;
  return {
    url: `postgres://postgres@${urlHost}:${ready.port}/postgres`,
    poolSize: EMBEDDED_POSTGRES_POOL_SIZE,
    close() {
      closing ??= (async () => {
        const reply = nextReply(worker);
        worker.postMessage('close');
        const r = await reply;
        await worker.terminate();
        if (r.type === 'error') throw new Error(`embedded postgres failed to shut down cleanly: ${r.message}`);
      })();
      return closing;
    },
  };
}
