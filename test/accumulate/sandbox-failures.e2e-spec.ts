/**
 * Sandbox failures that are not a guest result (docs/sandbox.md, failure handling), through the
 * real worker path: `jam` processes from the build (accumulate-worker + janitor, refine-worker) on
 * PostgreSQL and Redis (BullMQ), with real sandbox executors. An executor that dies during a job
 * is made by this test: it SIGKILLs the worker's executor while it runs guest code, which the pool
 * reports exactly like a crash (`sandbox executor failed: ...`). The guest code tells which
 * executor runs it: before it loops, it grows its memory and writes every page of it
 * (GUEST_MARKER_BYTES), so only an executor holding one of this test's jobs has that much
 * anonymous memory resident. Neither an idle executor nor one still starting up comes near it,
 * however long a start-up takes on a loaded machine (CPU time was no such signal: a respawned
 * executor's start-up burnt more CPU than the old bound under two CPU burners, and killing it
 * before it was ready was not counted as a job failure).
 *
 * - accumulate whose executor dies every time: exactly JAM_MAX_SANDBOX_FAILURES runs, then the
 *   accumulation is recorded `sandbox_failed` and the package `failed` (accumulate_sandbox_failure);
 *   the reconciler does not run it again;
 * - accumulate whose executor dies once: the retry runs it to the end (`accumulated`);
 * - refine whose executor dies every time: each attester gives up after JAM_MAX_SANDBOX_FAILURES,
 *   and the package fails (refine_sandbox_failure) once fewer than the threshold can still sign.
 * Needs `npm run build` (processes and executors run dist/).
 */
import * as fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import { encodeWorkPackage, packageHash, toHex } from '@jam/domain';
import type { JobQueue } from '@jam/queue';
import { ACCUMULATE_QUEUE, REFINE_PACKAGE_V1, accumulateJobId, refineJobId, refineQueueName } from '@jam/queue-contracts';
import type { JamProcess } from '../support/jam-server';
import { wat2wasm } from '../sandbox/sandbox-test.helpers';
import { PROCESS_TEST_TIMEOUT_MS } from '../support/jam-server';
import { metric, metricsOf, sleep, until, useWorkerHarness, type HarnessService } from './worker-harness';

const MAX_FAILURES = 3;
/** 64 KiB Wasm pages the test's guest code grows its memory to and writes before it loops (48 MiB). */
const GUEST_MARKER_PAGES = 768;
const GUEST_MARKER_BYTES = GUEST_MARKER_PAGES * 65536;
/**
 * Resident anonymous memory (bytes) past which an executor runs this test's guest code: an idle or
 * starting executor holds about 18 MiB (Node, the engine, its modules), one running the guest that
 * plus GUEST_MARKER_BYTES (about 66 MiB).
 */
const BUSY_RSS_ANON_BYTES = 40 * 1024 * 1024;
/** WAT that grows memory 0 to GUEST_MARKER_PAGES pages and writes one word in every 4 KiB of it; needs `(local $p i32)`. */
const WRITE_GUEST_MARKER = `(drop (memory.grow (i32.const ${GUEST_MARKER_PAGES - 1})))
  (loop $t (i32.store (local.get $p) (i32.const 1)) (local.set $p (i32.add (local.get $p) (i32.const 4096)))
    (br_if $t (i32.lt_u (local.get $p) (i32.const ${GUEST_MARKER_BYTES}))))`;

/** Live sandbox executors forked by process `parent`, with their resident anonymous memory (RssAnon, bytes). */
function executorsOf(parent: number): { pid: number; rssAnon: number }[] {
  const out: { pid: number; rssAnon: number }[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // fields after the command: state(0) ppid(1) ...
      if (Number(f[1]) !== parent || f[0] === 'Z') continue;
      if (!fs.readFileSync(`/proc/${name}/cmdline`, 'utf8').includes('executor.process.js')) continue;
      const kb = /^RssAnon:\s+(\d+) kB$/m.exec(fs.readFileSync(`/proc/${name}/status`, 'utf8'));
      out.push({ pid: Number(name), rssAnon: kb === null ? 0 : Number(kb[1]) * 1024 });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/**
 * SIGKILLs every executor of `parent` that runs this test's guest code (it wrote its memory
 * marker, so it holds a job), until `stop()` or `maxKills`. Never an idle or starting executor:
 * the pool does not count a kill before ready as a job failure, it only starts another.
 */
function executorKiller(parent: number, maxKills = Infinity): { kills: () => number; stop: () => Promise<void> } {
  let kills = 0;
  let running = true;
  const killed = new Set<number>();
  const loop = (async () => {
    while (running && kills < maxKills) {
      for (const e of executorsOf(parent)) {
        if (kills >= maxKills || killed.has(e.pid) || e.rssAnon < BUSY_RSS_ANON_BYTES) continue;
        killed.add(e.pid);
        try {
          process.kill(e.pid, 'SIGKILL');
          kills++;
        } catch {
          // exited meanwhile
        }
      }
      await sleep(50);
    }
  })();
  return {
    kills: () => kills,
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

describe('sandbox failures that are not guest results (PostgreSQL, Redis, worker processes, executors)', () => {
  const h = useWorkerHarness('sbxfail');

  /** A worker process on this database with its own queue prefix, one executor, a wall clock no test reaches. */
  async function startWorker(roles: string, extra: Record<string, string> = {}): Promise<{ proc: JamProcess; metricsPort: number; queue: JobQueue }> {
    const prefix = `jamsf${randomBytes(4).toString('hex')}`;
    const worker = await h.startWorker(roles, prefix, { JAM_SANDBOX_WALL_CLOCK_MS: '300000', JAM_MAX_SANDBOX_FAILURES: String(MAX_FAILURES), ...extra });
    return { ...worker, queue: h.queue(prefix) };
  }

  /**
   * A service whose refine and accumulate run `body` (WAT instructions leaving nothing on the
   * stack); a non-empty body first writes the memory marker the executor killer looks for.
   */
  async function registerService(name: string, refineBody: string, accumulateBody: string): Promise<HarnessService> {
    const marked = (body: string) => (body === '' ? '' : `${WRITE_GUEST_MARKER} ${body}`);
    const code = await wat2wasm(
      `(module (memory (export "memory") 1)
        (func (export "refine") (param i32 i32) (result i64) (local $i i64) (local $p i32) ${marked(refineBody)} (i64.const 0))
        (func (export "accumulate") (param i32) (result i64) (local $i i64) (local $p i32) ${marked(accumulateBody)} (i64.const 0)))`,
      `${name}.wat`,
    );
    return h.registerService(code);
  }
  const INFINITE_LOOP = '(loop $l (br $l))';
  /** About 5 s of CPU on a fast machine (1e9 iterations take about 1 s), 8 gas per iteration. */
  const FINITE_LOOP = '(loop $l (local.set $i (i64.add (local.get $i) (i64.const 1))) (br_if $l (i64.lt_u (local.get $i) (i64.const 5000000000))))';

  const submitAttested = (queue: JobQueue, service: HarnessService, accumulateGas: bigint) =>
    h.submitAttested(queue, service, { accumulateGas, refineGas: 10_000_000n });
  const finished = (pkg: string, timeoutMs = 240_000) => h.finished(pkg, timeoutMs);
  const accumulationRows = (rep: string) => h.accumulationRows(rep);

  it(
    'an accumulate whose executor dies on every run ends sandbox_failed after exactly max_sandbox_failures runs; nothing runs it again',
    async () => {
      const service = await registerService('acc-crash', '', INFINITE_LOOP);
      const worker = await startWorker('accumulate-worker,janitor', { JAM_RECONCILE_INTERVAL_MS: '200', JAM_RECONCILE_STALE_MS: '0' });
      const killer = executorKiller(worker.proc.child.pid!);
      try {
        const { pkg, rep } = await submitAttested(worker.queue, service, 2n ** 62n);
        const row = await finished(pkg);
        const logs = () => worker.proc.output.join('').slice(-4000);
        expect(row).toMatchObject({ status: 'failed', errorCode: 'accumulate_sandbox_failure' });
        expect(row.errorMessage).toMatch(new RegExp(`service ${service.id}: the sandbox executor crashed`));
        expect(await h.repos.accumulations.executorFailures(rep, service.id)).toBe(MAX_FAILURES);
        expect(await h.repos.accumulations.wallClockFailures(rep, service.id)).toBe(0);
        expect(await accumulationRows(rep)).toEqual([{ status: 'sandbox_failed', gas_used: String(2n ** 62n) }]);
        expect(killer.kills()).toBe(MAX_FAILURES);
        const text = await metricsOf(worker.metricsPort);
        expect(metric(text, 'jam_sandbox_failures_total{phase="accumulate",kind="executor",outcome="retry"}')).toBe(MAX_FAILURES - 1);
        expect(metric(text, 'jam_sandbox_failures_total{phase="accumulate",kind="executor",outcome="final"}')).toBe(1);
        expect(metric(text, 'jam_packages_total{status="failed"}')).toBe(1);
        expect(logs()).toMatch(/recorded sandbox_failed/);

        // Final: later reconciler rounds do not run it again (no executor gets busy, nothing more counted).
        const runs = metric(text, 'jam_janitor_runs_total{task="reconcile",outcome="ok"}');
        await until('three more reconciler runs', async () =>
          metric(await metricsOf(worker.metricsPort), 'jam_janitor_runs_total{task="reconcile",outcome="ok"}') >= runs + 3 ? true : undefined,
        );
        await sleep(1000);
        expect(killer.kills()).toBe(MAX_FAILURES);
        expect(await h.repos.accumulations.executorFailures(rep, service.id)).toBe(MAX_FAILURES);
        expect(await accumulationRows(rep)).toHaveLength(1);
        expect(await worker.queue.isQueued(ACCUMULATE_QUEUE, accumulateJobId(rep))).toBe(false);
      } finally {
        await killer.stop();
        await worker.proc.stop();
      }
    },
    PROCESS_TEST_TIMEOUT_MS,
  );

  it(
    'an accumulate whose executor dies once is retried and accumulated',
    async () => {
      const service = await registerService('acc-transient', '', FINITE_LOOP);
      const worker = await startWorker('accumulate-worker');
      const killer = executorKiller(worker.proc.child.pid!, 1);
      try {
        const { pkg, rep } = await submitAttested(worker.queue, service, 2n ** 40n);
        const row = await finished(pkg);
        expect(row.status).toBe('accumulated');
        expect(killer.kills()).toBe(1);
        expect(await h.repos.accumulations.executorFailures(rep, service.id)).toBe(1);
        expect(await accumulationRows(rep)).toEqual([{ status: 'ok', gas_used: expect.any(String) }]);
        const text = await metricsOf(worker.metricsPort);
        expect(metric(text, 'jam_sandbox_failures_total{phase="accumulate",kind="executor",outcome="retry"}')).toBe(1);
        expect(metric(text, 'jam_sandbox_failures_total{phase="accumulate",kind="executor",outcome="final"}')).toBe(0);
      } finally {
        await killer.stop();
        await worker.proc.stop();
      }
    },
    PROCESS_TEST_TIMEOUT_MS,
  );

  it(
    'a refine whose executor dies on every run: attesters give up one by one, the package fails once the threshold is out of reach',
    async () => {
      const ATTESTERS = 3;
      const THRESHOLD = 2;
      const service = await registerService('refine-crash', INFINITE_LOOP, '');
      const worker = await startWorker('refine-worker', {
        JAM_ATTESTERS: String(ATTESTERS),
        JAM_ATTESTATION_THRESHOLD: String(THRESHOLD),
        JAM_REFINE_CONCURRENCY: '1',
      });
      const killer = executorKiller(worker.proc.child.pid!);
      try {
        const wp = h.newPackage(service, 2n ** 62n);
        const pkg = toHex(packageHash(wp));
        await h.repos.workPackages.insertIfAbsent({ hash: pkg, encoded: encodeWorkPackage(wp), serviceIds: [service.id], submittedBy: 'test' });
        for (let i = 0; i < ATTESTERS; i++)
          await worker.queue.enqueue(refineQueueName(i), REFINE_PACKAGE_V1, { package_hash: pkg, attester_index: i }, { jobId: refineJobId(pkg, i) });
        const row = await finished(pkg);
        expect(row).toMatchObject({ status: 'failed', errorCode: 'refine_sandbox_failure' });
        expect(row.errorMessage).toMatch(/fewer than 2 of 3 attesters can still sign/);
        // Let a refine still queued in the pool at that moment be killed and counted, then stop: wait
        // (bounded) until every kill so far is counted and no new kill came for a second.
        const counted = async () => (await h.repos.refineAttempts.list(pkg)).reduce((n, a) => n + a.failures, 0);
        for (const until = Date.now() + 120_000; Date.now() < until;) {
          const kills = killer.kills();
          await sleep(1000);
          if (kills === killer.kills() && (await counted()) === kills) break;
        }
        await killer.stop();
        const attempts = await h.repos.refineAttempts.list(pkg);
        const gaveUp = attempts.filter((a) => a.exhausted);
        // One attester giving up did not fail the package: the failure names every attester that
        // had given up when it was decided, at least n - t + 1 of them. A third attester's run already
        // under way at that moment may still be killed, counted and give up afterwards.
        const namedAtFailure = row.errorMessage!.match(new RegExp(`attester \\d+ gave up after ${MAX_FAILURES} sandbox failures`, 'g')) ?? [];
        expect(namedAtFailure.length).toBeGreaterThanOrEqual(ATTESTERS - THRESHOLD + 1);
        expect(gaveUp.length).toBeGreaterThanOrEqual(ATTESTERS - THRESHOLD + 1);
        expect(gaveUp.length).toBeLessThanOrEqual(ATTESTERS);
        for (const a of gaveUp)
          expect(a).toMatchObject({ failures: MAX_FAILURES, lastKind: 'executor', lastError: expect.stringMatching(/^sandbox executor failed: /) });
        for (const a of attempts.filter((x) => !x.exhausted)) expect(a.failures).toBeLessThan(MAX_FAILURES);
        expect(attempts.reduce((n, a) => n + a.failures, 0)).toBe(killer.kills());
        const text = await metricsOf(worker.metricsPort);
        expect(metric(text, 'jam_sandbox_failures_total{phase="refine",kind="executor",outcome="final"}')).toBe(gaveUp.length);
        expect(metric(text, 'jam_packages_total{status="failed"}')).toBe(1);
        expect(worker.proc.output.join('')).toMatch(/this attester gives up on the package/);
        expect(await h.repos.workReports.listByPackage(pkg)).toEqual([]);
      } finally {
        await killer.stop();
        await worker.proc.stop();
      }
    },
    PROCESS_TEST_TIMEOUT_MS,
  );
});
