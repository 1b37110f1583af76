import { ConfigError, loadConfig, redactConfig } from './app-config';

const configError = (env: Record<string, string>): ConfigError => {
  try {
    loadConfig(env, '/srv');
  } catch (err) {
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
};

describe('S3 offload settings', () => {
  it('defaults to the filesystem store with no S3 config', () => {
    const c = loadConfig({}, '/srv');
    expect(c.blobStore).toBe('fs');
    expect(c.s3).toBeUndefined();
  });

  it('parses s3-offload settings and never shows the secrets', () => {
    const c = loadConfig(
      {
        JAM_BLOB_STORE: 's3-offload',
        JAM_S3_ENDPOINT: 'https://minio.internal:9000',
        JAM_S3_BUCKET: 'jam-blobs',
        JAM_S3_PREFIX: 'prod/blobs',
        JAM_S3_ACCESS_KEY_ID: 'AKIAEXAMPLE',
        JAM_S3_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI-secret',
        JAM_S3_OFFLOAD_MIN_BYTES: '2048',
        JAM_S3_TIMEOUT_MS: '1500',
      },
      '/srv',
    );
    expect(c.s3).toEqual({
      endpoint: 'https://minio.internal:9000',
      region: 'us-east-1',
      bucket: 'jam-blobs',
      prefix: 'prod/blobs',
      forcePathStyle: true,
      credentials: { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI-secret' },
      offloadMinBytes: 2048,
      timeoutMs: 1500,
      migrateBatch: 100,
    });
    const logged = JSON.stringify(redactConfig(c));
    expect(logged).not.toContain('AKIAEXAMPLE');
    expect(logged).not.toContain('wJalrXUtnFEMI');
    const err = configError({ JAM_S3_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI-secret', JAM_S3_TIMEOUT_MS: 'x' });
    expect(err.message).not.toContain('wJalrXUtnFEMI');
  });

  it('rejects s3-offload without a bucket, half the credentials and malformed values, naming each variable', () => {
    expect(configError({ JAM_BLOB_STORE: 's3-offload' }).message).toContain('JAM_S3_BUCKET must be set when JAM_BLOB_STORE=s3-offload');
    expect(configError({ JAM_BLOB_STORE: 's3-offload', JAM_S3_BUCKET: 'b-1', JAM_S3_ACCESS_KEY_ID: 'AKIA' }).message).toContain(
      'JAM_S3_ACCESS_KEY_ID and JAM_S3_SECRET_ACCESS_KEY must be set together',
    );
    const err = configError({
      JAM_BLOB_STORE: 's3',
      JAM_S3_BUCKET: 'Bad_Bucket',
      JAM_S3_PREFIX: '/lead',
      JAM_S3_ENDPOINT: 'ftp://x',
      JAM_S3_OFFLOAD_MIN_BYTES: '-1',
    });
    for (const v of ['JAM_BLOB_STORE', 'JAM_S3_BUCKET', 'JAM_S3_PREFIX', 'JAM_S3_ENDPOINT', 'JAM_S3_OFFLOAD_MIN_BYTES']) expect(err.message).toContain(v);
  });
});
