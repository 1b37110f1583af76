/**
 * Cost of verifying preimage downloads (issue 11 item 2): bytes through a plain pass-through
 * Transform vs through `createVerifyingStream` (Blake2b-256 + length check, last chunk held back),
 * in 64 KiB chunks as files and S3 bodies arrive, into a sink that drops them. Runs interleaved
 * (plain, verified, plain, ...) so machine noise hits both alike; reports the median MB/s of each
 * and of Blake2b-256 alone over the same chunks, and the ratio stream / hashing. No HTTP or S3: this is the CPU the gateway adds per downloaded byte.
 * Run: npm run build && npm run bench -- verified-download [MiB=64] [reps=7]
 */
import { randomBytes } from 'node:crypto';
import { PassThrough, Readable, Writable, type Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { blake2b256, createBlake2b256, initHashing, toHex } from '@jam/domain';
import { createVerifyingStream } from '@jam/blob-store';

const MIB = Number(process.argv[2] ?? 64);
const REPS = Number(process.argv[3] ?? 7);
const CHUNK = 64 * 1024;

async function once(blob: Buffer, through: Transform): Promise<number> {
  const chunks = function* () {
    for (let off = 0; off < blob.length; off += CHUNK) yield blob.subarray(off, off + CHUNK);
  };
  const sink = new Writable({ write: (_c, _e, done) => done() });
  const t0 = process.hrtime.bigint();
  await pipeline(Readable.from(chunks()), through, sink);
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

/** The hashing alone, no stream: what the verifier cannot avoid. */
function hashOnly(blob: Buffer): number {
  const t0 = process.hrtime.bigint();
  const h = createBlake2b256();
  for (let off = 0; off < blob.length; off += CHUNK) h.update(blob.subarray(off, off + CHUNK));
  h.digest();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  await initHashing();
  const blob = randomBytes(MIB * 1024 * 1024);
  const hash = toHex(blake2b256(blob));
  const plain: number[] = [];
  const verified: number[] = [];
  const hashing: number[] = [];
  for (let i = 0; i < REPS + 1; i++) {
    const p = await once(blob, new PassThrough());
    const v = await once(blob, createVerifyingStream(hash, blob.length));
    const h = hashOnly(blob);
    if (i === 0) continue; // warm-up
    plain.push(p);
    verified.push(v);
    hashing.push(h);
  }
  const mbps = (ms: number) => (blob.length / 1e6 / (ms / 1000)).toFixed(0);
  console.log(`verified-download: ${MIB} MiB in ${CHUNK / 1024} KiB chunks, median of ${REPS} interleaved runs`);
  console.log(`  pass-through       ${median(plain).toFixed(1)} ms  ${mbps(median(plain))} MB/s`);
  console.log(`  verifying stream   ${median(verified).toFixed(1)} ms  ${mbps(median(verified))} MB/s`);
  console.log(`  Blake2b-256 alone  ${median(hashing).toFixed(1)} ms  ${mbps(median(hashing))} MB/s`);
  console.log(`  ratio verifying stream / hashing alone (time) ${(median(verified) / median(hashing)).toFixed(2)}x`);
}

void main();
