/**
 * Preimage upload speed (issue 8; docs/performance.md, "Preimage uploads"): `PUT /jam/preimages/{hash}`
 * of fresh random blobs against the gateway vs raw Blake2b-256 (hash-wasm, 64 KiB updates) of the
 * same bytes in this process, interleaved rounds, and the gateway's memory growth.
 *
 * The gateway runs in production mode (PostgreSQL + Redis, filesystem blob store in a temp dir),
 * `max_preimage_bytes` raised to fit. Each round uploads one fresh 64 MiB and `--small` fresh 1 MiB
 * blobs (sequentially, one connection) and hashes the same bytes locally. MB/s = MiB / s (2^20).
 * RSS: the gateway's VmRSS before the first upload and its VmHWM (peak) after the last.
 * Prints a table, JSON to bench/results/upload.json (or `--json FILE`), and last the lines
 * `upload 1MiB/hash ratio: X` and `upload 64MiB/hash ratio: X` (medians of the rounds).
 *
 * Run (after `npm run build`): npm run bench -- upload [--rounds 3] [--small 16]
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createBLAKE2b } from 'hash-wasm';
import { blake2b256, initHashing, toHex } from '@jam/domain';
import { repoRoot } from './repo-root';
import { median, numberArg, startCluster, type Cluster } from './support/jam-cluster';

const root = repoRoot();
const ROUNDS = numberArg('rounds', 3);
const SMALL = numberArg('small', 16);
const MiB = 1024 * 1024;
const JSON_OUT = (() => {
  const i = process.argv.indexOf('--json');
  return i < 0 ? path.join(root, 'bench', 'results', 'upload.json') : path.resolve(process.argv[i + 1] ?? 'upload.json');
})();

/** kB value of a /proc/<pid>/status field (VmRSS, VmHWM), in MiB. */
function procStatusMiB(pid: number, field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m === null ? NaN : Number(m[1]) / 1024;
}

/** Seconds to Blake2b-256 `data` with hash-wasm in 64 KiB updates (what a streaming server at best does). */
async function hashSeconds(data: Uint8Array): Promise<number> {
  const h = await createBLAKE2b(256);
  const t0 = process.hrtime.bigint();
  h.init();
  for (let o = 0; o < data.length; o += 64 * 1024) h.update(data.subarray(o, Math.min(data.length, o + 64 * 1024)));
  h.digest('binary');
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

/** Seconds for one PUT of `data` (a fresh blob: never stored before); throws unless 201. */
async function uploadSeconds(cluster: Cluster, data: Uint8Array): Promise<number> {
  const hash = toHex(blake2b256(data));
  const t0 = process.hrtime.bigint();
  const r = await cluster.api.call(cluster.tokens['bench']!, 'PUT', `/jam/preimages/${hash}`, data, 'application/octet-stream');
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 201) throw new Error(`PUT ${data.length} bytes: ${r.status} ${JSON.stringify(r.json)}`);
  return s;
}

async function main(): Promise<void> {
  await initHashing();
  const cluster = await startCluster({
    label: 'upload',
    production: true,
    principals: ['bench'],
    serverRoot: root,
    env: { JAM_MAX_PREIMAGE_BYTES: String(128 * MiB), JAM_MAX_STORED_PREIMAGE_BYTES: String(64 * 1024 * MiB) },
  });
  try {
    const gatewayPid = cluster.pids()[0]!;
    // warm-up: one small upload (connections, prepared statements, JIT)
    await uploadSeconds(cluster, randomBytes(MiB));
    const rssBefore = procStatusMiB(gatewayPid, 'VmRSS');
    const rows: Array<{ round: number; upload64: number; hash64: number; upload1: number; hash1: number }> = [];
    console.log(`upload bench: 1 x 64 MiB and ${SMALL} x 1 MiB fresh blobs per round, ${ROUNDS} rounds; MiB/s`);
    for (let round = 1; round <= ROUNDS; round++) {
      const big = randomBytes(64 * MiB);
      const hash64 = 64 / (await hashSeconds(big));
      const upload64 = 64 / (await uploadSeconds(cluster, big));
      let up1 = 0;
      let h1 = 0;
      for (let i = 0; i < SMALL; i++) {
        const small = randomBytes(MiB);
        h1 += await hashSeconds(small);
        up1 += await uploadSeconds(cluster, small);
      }
      const row = { round, upload64, hash64, upload1: SMALL / up1, hash1: SMALL / h1 };
      rows.push(row);
      console.log(
        `round ${round}: 64 MiB upload ${upload64.toFixed(0)} vs hash ${hash64.toFixed(0)} (${(upload64 / hash64).toFixed(3)});  1 MiB upload ${row.upload1.toFixed(0)} vs hash ${row.hash1.toFixed(0)} (${(row.upload1 / row.hash1).toFixed(3)})`,
      );
    }
    const peak = procStatusMiB(gatewayPid, 'VmHWM');
    const r64 = median(rows.map((r) => r.upload64 / r.hash64));
    const r1 = median(rows.map((r) => r.upload1 / r.hash1));
    console.log(`gateway RSS: ${rssBefore.toFixed(0)} MiB before the first upload, peak ${peak.toFixed(0)} MiB (growth ${(peak - rssBefore).toFixed(0)} MiB)`);
    mkdirSync(path.dirname(JSON_OUT), { recursive: true });
    writeFileSync(JSON_OUT, JSON.stringify({ rounds: rows, ratio64: r64, ratio1: r1, rssBeforeMiB: rssBefore, rssPeakMiB: peak }, null, 2));
    console.log(`JSON: ${path.relative(process.cwd(), JSON_OUT)}`);
    console.log(`upload 1MiB/hash ratio: ${r1.toFixed(3)}`);
    console.log(`upload 64MiB/hash ratio: ${r64.toFixed(3)}`);
  } finally {
    await cluster.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
