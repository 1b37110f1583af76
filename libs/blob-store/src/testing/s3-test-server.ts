import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import type { S3BlobStoreOptions } from '../s3-blob-store';

interface KoaContext {
  method: string;
  path: string;
  status: number;
  type: string;
  body: unknown;
  get(header: string): string;
}
type KoaMiddleware = (ctx: KoaContext, next: () => Promise<void>) => Promise<void>;
interface S3rverInstance {
  run(): Promise<{ address: string; port: number }>;
  close(): Promise<void>;
  /** Koa's middleware stack (s3rver is a Koa app), composed when the server starts. */
  middleware: KoaMiddleware[];
  store: { existsObject(bucket: string, key: string): Promise<boolean> };
}
type S3rverCtor = new (opts: Record<string, unknown>) => S3rverInstance;

/** An in-process s3rver on 127.0.0.1 with a temp directory (tests only; s3rver is a dev dependency). */
export interface S3TestServer {
  endpoint: string;
  bucket: string;
  dir: string;
  /** Store options pointing at this server (prefix `jam/blobs`, timeout 5 s). */
  options(overrides?: Partial<S3BlobStoreOptions>): S3BlobStoreOptions;
  /** A raw client, for tampering with objects behind the store's back. */
  client(): S3Client;
  close(): Promise<void>;
}

/** Options of {@link startS3TestServer}. */
export interface S3TestServerOptions {
  /**
   * Honour `If-None-Match: *` on PUT as AWS S3 does (412 PreconditionFailed when the key exists,
   * conditional puts serialised). s3rver itself ignores the header and overwrites, which is the
   * default here, as some S3-compatible servers do.
   */
  conditionalWrites?: boolean;
}

export async function startS3TestServer(bucket = 'jam-test', opts: S3TestServerOptions = {}): Promise<S3TestServer> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const S3rver = require('s3rver') as S3rverCtor;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jam-s3rver-'));
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: dir, configureBuckets: [{ name: bucket }] });
  if (opts.conditionalWrites) server.middleware.unshift(conditionalPut(server));
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  const credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
  const clients: S3Client[] = [];
  return {
    endpoint,
    bucket,
    dir,
    options: (overrides = {}) => ({
      endpoint,
      region: 'us-east-1',
      bucket,
      prefix: 'jam/blobs',
      forcePathStyle: true,
      // Frozen, as loadConfig returns it.
      credentials: Object.freeze({ ...credentials }),
      timeoutMs: 5000,
      spoolDir: path.join(dir, '..', `${path.basename(dir)}-spool`),
      ...overrides,
    }),
    client: () => {
      const c = new S3Client({
        endpoint,
        region: 'us-east-1',
        forcePathStyle: true,
        credentials,
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
      });
      clients.push(c);
      return c;
    },
    close: async () => {
      for (const c of clients) c.destroy();
      await server.close();
      fs.rmSync(dir, { recursive: true, force: true });
      fs.rmSync(path.join(dir, '..', `${path.basename(dir)}-spool`), { recursive: true, force: true });
    },
  };
}

/** Koa middleware in front of s3rver: `PUT` with `If-None-Match: *` creates only an absent key (path-style URLs). */
function conditionalPut(server: S3rverInstance): KoaMiddleware {
  let tail: Promise<void> = Promise.resolve();
  return async (ctx, next) => {
    if (ctx.method !== 'PUT' || ctx.get('if-none-match') !== '*' || ctx.get('x-amz-copy-source') !== '') return next();
    const [b = '', ...rest] = ctx.path.replace(/^\//, '').split('/').map(decodeURIComponent);
    const key = rest.join('/');
    // One conditional put at a time: the existence check and the write are one step.
    const previous = tail;
    let release!: () => void;
    tail = new Promise<void>((r) => (release = r));
    await previous;
    try {
      if (await server.store.existsObject(b, key)) {
        ctx.status = 412;
        ctx.type = 'application/xml';
        ctx.body =
          '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>PreconditionFailed</Code><Message>At least one of the pre-conditions you specified did not hold</Message><Condition>If-None-Match</Condition></Error>';
        return;
      }
      await next();
    } finally {
      release();
    }
  };
}
