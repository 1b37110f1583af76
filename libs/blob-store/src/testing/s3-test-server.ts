import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import type { S3BlobStoreOptions } from '../s3-blob-store';

interface S3rverInstance {
  run(): Promise<{ address: string; port: number }>;
  close(): Promise<void>;
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

export async function startS3TestServer(bucket = 'jam-test'): Promise<S3TestServer> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const S3rver = require('s3rver') as S3rverCtor;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jam-s3rver-'));
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: dir, configureBuckets: [{ name: bucket }] });
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
      const c = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
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
