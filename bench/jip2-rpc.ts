/**
 * JIP-2 RPC vs the HTTP API for the same read: one storage value of a service
 * (`serviceValue(best, id, key)` over one WebSocket vs `GET /jam/services/{id}/storage/{key}` over
 * keep-alive HTTP), against one real embedded server started from dist/ (PGlite, in-process
 * queue) in a temp dir by bench/support/jam-cluster.ts. Both keep `CONCURRENCY` requests in flight; rounds alternate the two so
 * load changes hit both alike. Prints requests/s and median/p99 latency (ms) per mode, and the
 * gateway's CPU seconds per 1000 requests (utime+stime from /proc; steadier than wall clock on a
 * shared machine, docs/architecture.md section 13).
 * Run: npm run build && npm run bench -- jip2-rpc [requests per round = 2000] [rounds = 3]
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import WebSocket from 'ws';
import { JamClient } from '@jam/client';
import { initHashing } from '@jam/domain';
import { repoRoot } from './repo-root';
import { startCluster } from './support/jam-cluster';

const PER_ROUND = Number(process.argv[2] ?? 2000);
const ROUNDS = Number(process.argv[3] ?? 3);
const CONCURRENCY = 16;
const root = repoRoot();

/** CPU seconds of a process and its waited-for children (utime, stime, cutime, cstime from /proc). */
function cpuSeconds(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / 100;
}

const pct = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))] ?? NaN;

/** Runs `n` calls of `one`, `CONCURRENCY` at a time; returns each call's latency (ms) and the wall time (ms). */
async function drive(n: number, one: () => Promise<void>): Promise<{ latencies: number[]; wallMs: number }> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next++ < n) {
        const t = performance.now();
        await one();
        latencies.push(performance.now() - t);
      }
    }),
  );
  return { latencies, wallMs: performance.now() - started };
}

async function main(): Promise<void> {
  await initHashing();
  const cluster = await startCluster({
    label: 'jip2',
    production: false,
    principals: ['bench'],
    serverRoot: root,
    rpc: true,
    env: { JAM_RATE_LIMIT_PER_MINUTE: '10000000' },
  });
  try {
    const [pid] = cluster.pids();
    const base = cluster.api.base;
    const token = cluster.tokens['bench']!;
    const setup = new JamClient({ baseUrl: base, token });
    const code = new Uint8Array(readFileSync(path.join(root, 'services/word-count/build/word-count.wasm')));
    const { hash: codeHash } = await setup.putPreimage(code);
    const service = await setup.createService({ code_hash: codeHash });
    const ws = new WebSocket(`ws://127.0.0.1:${cluster.rpcPort!}/`, { headers: { Authorization: `Bearer ${token}` } });
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    const waiting = new Map<number, (result: unknown) => void>();
    ws.on('message', (data) => {
      const msg = JSON.parse(data.toString()) as { id: number; result?: unknown; error?: unknown };
      if (msg.error) throw new Error(JSON.stringify(msg.error));
      waiting.get(msg.id)?.(msg.result);
      waiting.delete(msg.id);
    });
    let id = 0;
    const rpc = (method: string, params: unknown[]) =>
      new Promise<unknown>((resolve) => {
        const n = ++id;
        waiting.set(n, resolve);
        ws.send(JSON.stringify({ jsonrpc: '2.0', id: n, method, params }));
      });
    // State queries name one of the last 8 blocks (6 s timeslots, docs/jip2.md): a header older
    // than 48 s answers "block unavailable", so a slow round on a loaded machine takes a fresh one.
    let header = '';
    let headerAt = 0;
    const recentHeader = async (): Promise<string> => {
      if (Date.now() - headerAt > 6_000) {
        header = ((await rpc('bestBlock', [])) as { header_hash: string }).header_hash;
        headerAt = Date.now();
      }
      return header;
    };
    const key = Buffer.from('words');
    const modes = {
      rpc: async () => {
        await rpc('serviceValue', [await recentHeader(), service.id, key.toString('base64')]);
      },
      http: async () => {
        const r = await fetch(`${base}/jam/services/${service.id}/storage/0x${key.toString('hex')}`, { headers: { Authorization: `Bearer ${token}` } });
        await r.arrayBuffer();
        if (r.status !== 404) throw new Error(`HTTP ${r.status}`);
      },
    };
    const results: Record<keyof typeof modes, { latencies: number[]; wallMs: number; cpu: number }> = {
      rpc: { latencies: [], wallMs: 0, cpu: 0 },
      http: { latencies: [], wallMs: 0, cpu: 0 },
    };
    await drive(200, modes.rpc);
    await drive(200, modes.http);
    for (let round = 0; round < ROUNDS; round++) {
      for (const mode of (round % 2 === 0 ? ['rpc', 'http'] : ['http', 'rpc']) as (keyof typeof modes)[]) {
        const cpu0 = cpuSeconds(pid!);
        const r = await drive(PER_ROUND, modes[mode]);
        results[mode].cpu += cpuSeconds(pid!) - cpu0;
        results[mode].latencies.push(...r.latencies);
        results[mode].wallMs += r.wallMs;
      }
    }
    ws.close();
    console.log(`jip2-rpc: ${ROUNDS} rounds x ${PER_ROUND} reads per mode, ${CONCURRENCY} in flight, one storage value (absent), embedded server`);
    console.log('mode   req/s    median ms   p99 ms   server CPU s per 1000');
    for (const mode of ['rpc', 'http'] as const) {
      const r = results[mode];
      const n = r.latencies.length;
      console.log(
        `${mode.padEnd(5)} ${String(Math.round((n / r.wallMs) * 1000)).padStart(6)}   ${pct(r.latencies, 0.5).toFixed(2).padStart(8)}   ${pct(r.latencies, 0.99)
          .toFixed(2)
          .padStart(6)}   ${((r.cpu / n) * 1000).toFixed(3)}`,
      );
    }
  } finally {
    await cluster.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
