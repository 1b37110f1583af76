import { randomBytes } from 'node:crypto';
import { Readable, Writable, pipeline } from 'node:stream';
import { blake2b256, initHashing, toHex } from '@jam/domain';
import { BlobCorruptError, createVerifyingStream } from './verifying-stream';

/** Streams `chunks` through the verifier; resolves with the bytes that came out and the error, if any. */
function run(hash: string, length: number, chunks: Buffer[]): Promise<{ out: Buffer; err: unknown }> {
  const out: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      out.push(chunk);
      done();
    },
  });
  return new Promise((resolve) =>
    pipeline(Readable.from(chunks), createVerifyingStream(hash, length), sink, (err) => resolve({ out: Buffer.concat(out), err })),
  );
}

describe('createVerifyingStream', () => {
  const blob = randomBytes(300_000);
  let hash: string;
  beforeAll(async () => {
    await initHashing();
    hash = toHex(blake2b256(blob));
  });
  const chunks = (b: Buffer) => Array.from({ length: Math.ceil(b.length / 65536) }, (_, i) => b.subarray(i * 65536, (i + 1) * 65536));

  it('passes intact bytes through unchanged', async () => {
    const { out, err } = await run(hash, blob.length, chunks(blob));
    expect(err).toBeUndefined();
    expect(Buffer.compare(out, blob)).toBe(0);
  });

  it('never lets a corrupt body out whole: the last chunk is held back and the stream fails', async () => {
    const bad = Buffer.from(blob);
    bad[bad.length - 1]! ^= 1;
    const { out, err } = await run(hash, blob.length, chunks(bad));
    expect(err).toBeInstanceOf(BlobCorruptError);
    expect((err as BlobCorruptError).hash).toBe(hash);
    expect(out.length).toBeLessThan(blob.length);
  });

  it('fails on a body shorter or longer than the recorded length', async () => {
    expect((await run(hash, blob.length, chunks(blob.subarray(0, 1000)))).err).toBeInstanceOf(BlobCorruptError);
    const long = await run(hash, blob.length, chunks(Buffer.concat([blob, Buffer.alloc(1)])));
    expect(long.err).toBeInstanceOf(BlobCorruptError);
    expect(long.out.length).toBeLessThan(blob.length);
  });

  it('passes an empty blob', async () => {
    const empty = toHex(blake2b256(new Uint8Array()));
    expect(await run(empty, 0, [])).toEqual({ out: Buffer.alloc(0), err: undefined });
  });
});
