/**
 * Fair sharing between tenants (issue 7 part 4, docs/fairness.md): tenant B's submit-to-accumulated
 * latency on an idle server, then while tenant A floods it with CPU-heavy but legal packages.
 *
 * Starts a real embedded server (`dist/apps/standalone/src/main.js`: PGlite, in-process queue, one
 * process) in a temp data dir with two principals, `alice` (A) and `bob` (B). A registers the
 * `spin` service (bench/workloads/spin.as) and submits `--flood` packages whose refine spins
 * 65,536 xorshift rounds per payload byte (`--heavy-bytes`; ok results, within G_R); B registers `word-count` and submits `--quiet`
 * small packages, one every `--gap-ms`, first on the idle server, then right after A's flood was
 * accepted. Latency = from just before B's POST to the package's `accumulated_at` (same host
 * clock). The flood must still be unfinished when B submits its last package, else the phase
 * measured nothing: the bench prints A's backlog then (and when B is done) and fails if it is 0.
 *
 * Output: p50 / p99 / max per phase, and the last line `fairness p99 ratio: X` (flood p99 / idle p99).
 * Run (after `npm run build`): npm run bench -- fairness [--production] [--quiet 20] [--flood 60] [--heavy-bytes 2000] [--gap-ms 500]
 *   [--server-root DIR] (run the server built in another checkout, e.g. the code before a change).
 * JAM_* variables of the bench's environment (settings under test) are passed to the server.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { initHashing, type WorkPackage } from '@jam/domain';
import { compileAssemblyScript } from './assemblyscript.compiler';
import { repoRoot } from './repo-root';
import {
  numberArg as arg,
  percentile,
  register,
  sleep,
  startCluster,
  statuses,
  submit,
  waitAccumulated as waitAll,
  workPackage,
  type Api,
  type Tenant,
} from './support/jam-cluster';

const root = repoRoot();

const QUIET = arg('quiet', 20);
const FLOOD = arg('flood', 60);
/** Payload bytes of one heavy package; each buys 65,536 xorshift rounds of refine (bench/workloads/spin.as). */
const HEAVY_BYTES = arg('heavy-bytes', 2_000);
const GAP_MS = arg('gap-ms', 500);
/**
 * Checkout whose built server runs (its dist/ and example services): another worktree measures the
 * code before a change with this same client. Default: this repository.
 */
const SERVER_ROOT = (() => {
  const i = process.argv.indexOf('--server-root');
  return i < 0 ? root : path.resolve(process.argv[i + 1] ?? '.');
})();
const MAIN_JS = path.join(SERVER_ROOT, 'dist', 'apps', 'standalone', 'src', 'main.js');
/**
 * `--production`: PostgreSQL (127.0.0.1:5432, a database of its own) and Redis (127.0.0.1:6379, a
 * key prefix of its own), one process per role as deployed: gateway, refine-worker per attester,
 * attestation, accumulate-worker, janitor. Default: the embedded single process.
 */
const PRODUCTION = process.argv.includes('--production');
/** Upper bound on any wait (ms): progress-bounded waits still need an end on a broken build. */
const DEADLINE_MS = arg('deadline-ms', 20 * 60_000);

/** Waits until every hash is accumulated (fails on failed/disputed). @returns accumulated_at per hash */
const waitAccumulated = (api: Api, t: Tenant, hashes: string[]): Promise<Map<string, number>> => waitAll(api, t, hashes, DEADLINE_MS);

interface Phase {
  name: string;
  latenciesMs: number[];
  /** What `atLastSubmit` returned right after B's last submission. */
  afterSubmit?: number;
}

/** B submits QUIET word-count packages GAP_MS apart and waits for all; latency per package in ms. */
async function quietPhase(api: Api, b: Tenant, label: string, atLastSubmit?: () => Promise<number>): Promise<Phase> {
  const submitted: Array<{ hash: string; t0: number }> = [];
  for (let i = 0; i < QUIET; i++) {
    const text = `${label} package ${i} ${randomBytes(8).toString('hex')} the quick brown fox`;
    const pkg = workPackage(b, new TextEncoder().encode(text), 10_000_000n);
    const t0 = Date.now();
    submitted.push({ hash: await submit(api, b, pkg), t0 });
    if (i < QUIET - 1) await sleep(GAP_MS);
  }
  const afterSubmit = await atLastSubmit?.();
  const done = await waitAccumulated(
    api,
    b,
    submitted.map((s) => s.hash),
  );
  return {
    name: label,
    latenciesMs: submitted.map((s) => done.get(s.hash)! - s.t0).sort((x, y) => x - y),
    ...(afterSubmit !== undefined ? { afterSubmit } : {}),
  };
}

function line(p: Phase): string {
  const l = p.latenciesMs;
  return `${p.name.padEnd(22)} n=${l.length}  p50 ${percentile(l, 50)} ms  p99 ${percentile(l, 99)} ms  max ${l[l.length - 1]} ms`;
}

async function main(): Promise<void> {
  if (!existsSync(MAIN_JS)) throw new Error(`${MAIN_JS} missing: run npm run build`);
  await initHashing();
  const cluster = await startCluster({ label: 'fair', production: PRODUCTION, principals: ['alice', 'bob'], serverRoot: SERVER_ROOT });
  const api = cluster.api;
  try {
    const spin = await compileAssemblyScript(path.join(root, 'bench', 'workloads', 'spin.as'), false);
    const a = await register(api, 'A (flood)', cluster.tokens['alice']!, spin);
    const b = await register(
      api,
      'B (quiet)',
      cluster.tokens['bob']!,
      new Uint8Array(readFileSync(path.join(SERVER_ROOT, 'services', 'word-count', 'build', 'word-count.wasm'))),
    );
    console.log(
      `fairness bench: ${PRODUCTION ? 'production mode (PostgreSQL, Redis, one process per role)' : 'embedded server'} from ${SERVER_ROOT}, B ${QUIET} word-count packages ${GAP_MS} ms apart; A ${FLOOD} spin packages of ${HEAVY_BYTES} payload bytes`,
    );

    // Warm-up: compile both services in the executors, then time one heavy package alone.
    const warmB = await submit(api, b, workPackage(b, new TextEncoder().encode(`warm ${randomBytes(8).toString('hex')}`), 10_000_000n));
    await waitAccumulated(api, b, [warmB]);
    const heavy = (): WorkPackage => workPackage(a, randomBytes(HEAVY_BYTES), 4_000_000_000n);
    const tHeavy = Date.now();
    const warmA = await submit(api, a, heavy());
    const heavyMs = (await waitAccumulated(api, a, [warmA])).get(warmA)! - tHeavy;
    console.log(`one heavy A package alone: ${heavyMs} ms submit-to-accumulated`);

    const idle = await quietPhase(api, b, 'B idle');
    console.log(line(idle));

    const tFlood = Date.now();
    const floodHashes: string[] = [];
    const pending = Array.from({ length: FLOOD }, () => heavy());
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        for (let pkg = pending.pop(); pkg !== undefined; pkg = pending.pop()) floodHashes.push(await submit(api, a, pkg));
      }),
    );
    console.log(`A's flood accepted in ${Date.now() - tFlood} ms`);
    const unfinished = async (): Promise<number> => {
      const s = await statuses(api, a);
      return floodHashes.filter((h) => s.get(h)?.status !== 'accumulated').length;
    };
    const flooded = await quietPhase(api, b, 'B during A flood', unfinished);
    const atEnd = await unfinished();
    console.log(line(flooded));
    console.log(`A's flood unfinished: ${flooded.afterSubmit} of ${FLOOD} packages at B's last submission, ${atEnd} when B's last package was accumulated`);
    const ratio = percentile(flooded.latenciesMs, 99) / percentile(idle.latenciesMs, 99);
    console.log(`fairness p99 ratio: ${ratio.toFixed(2)}`);
    if (flooded.afterSubmit === 0) {
      // B never competed with the flood: the ratio would measure nothing.
      console.log('WARNING: the flood drained before B submitted its last package; raise --flood or --heavy-bytes');
      process.exitCode = 1;
    }
  } finally {
    await cluster.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
