/**
 * Retrying failed packages (POST /jam/packages/{hash}/retry for owners and delegates, POST
 * /admin/packages/{hash}/retry for admins) through real `jam` processes from the build on
 * PostgreSQL and Redis: a gateway, an attestation process, and refine + accumulate workers whose
 * sandbox wall clock is first too short for the services' work (an infrastructure fault: the
 * packages fail refine_timeout / accumulate_timeout), then replaced by workers with a sound one.
 *
 * - a package retried while the fault persists fails again; past max_package_retries the retry
 *   answers 409 retry_limit_reached;
 * - after the fix, an accumulate failure retried by its owner accumulates; the accumulation of the
 *   report's other service that had applied (recorded by the test before any worker ran) is not
 *   run again (exactly once: same row);
 * - a refine failure retried by an admin is refined, attested and accumulated;
 * - a package that is not failed answers 409 conflict, a verdict (dispute_rejected) 422
 *   not_retryable, another tenant 404; every call is in the audit log as package.retry.
 * Needs `npm run build` (processes and executors run dist/).
 */
import * as path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { blake2b256, encodeWorkPackage, encodeWorkReport, packageHash, reportHash, toHex, type WorkReport } from '@jam/domain';
import { ACCUMULATE_QUEUE, ACCUMULATE_REPORT_V1, REFINE_PACKAGE_V1, accumulateJobId, refineJobId, refineQueueName } from '@jam/queue-contracts';
import { ENGINE_IDENTITY } from '@jam/sandbox';
import { JamProcess, api, freePort, runCli } from '../support/jam-server';
import { wat2wasm } from '../sandbox/sandbox-test.helpers';
import { REDIS_URL, metric, metricsOf, useWorkerHarness, type HarnessService } from './worker-harness';

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

describe('retry of failed packages (gateway, attestation and worker processes; PostgreSQL, Redis)', () => {
  const h = useWorkerHarness('retry');
  const prefix = `jamrt${randomBytes(4).toString('hex')}`;
  const owner = `owner-${randomBytes(8).toString('hex')}`;
  const other = `other-${randomBytes(8).toString('hex')}`;
  const admin = `admin-${randomBytes(8).toString('hex')}`;
  let base: string;
  let gateway: JamProcess;
  let queue: ReturnType<typeof h.queue>;

  /** About 1 s of CPU on a fast machine (8 gas per iteration): far past a 100 ms wall clock, far below 300 s. */
  const SLOW = '(loop $l (local.set $i (i64.add (local.get $i) (i64.const 1))) (br_if $l (i64.lt_u (local.get $i) (i64.const 1000000000))))';
  async function registerService(name: string, refineBody: string, accumulateBody: string): Promise<HarnessService> {
    const code = await wat2wasm(
      `(module (memory (export "memory") 1)
        (func (export "refine") (param i32 i32) (result i64) (local $i i64) ${refineBody} (i64.const 0))
        (func (export "accumulate") (param i32) (result i64) (local $i i64) ${accumulateBody} (i64.const 0)))`,
      `${name}.wat`,
    );
    return h.registerService(code);
  }

  /** Refine and accumulate workers; `wallClockMs` 100 makes the slow services' runs time out. */
  const startWorkers = (wallClockMs: number) =>
    h.startWorker('refine-worker,accumulate-worker', prefix, {
      JAM_SANDBOX_WALL_CLOCK_MS: String(wallClockMs),
      JAM_MAX_SANDBOX_FAILURES: '1',
      JAM_MAX_ACCUMULATE_TIMEOUTS: '1',
    });

  const retry = (pkg: string, token = owner) => api(base, token, 'POST', `/jam/packages/${pkg}/retry`);
  const adminRetry = (pkg: string) => api(base, admin, 'POST', `/admin/packages/${pkg}/retry`);

  /** Stores an attested report of `wp` whose digests are one per service, and enqueues its accumulate job. */
  async function submitAttestedReport(
    services: HarnessService[],
    beforeEnqueue?: (pkg: string, rep: string) => Promise<void>,
  ): Promise<{ pkg: string; rep: string }> {
    const wp = h.newPackage(services[0]!, 2n ** 40n);
    wp.items = services.map((s) => ({ ...wp.items[0]!, service: s.id, code_hash: s.codeHash, accumulate_gas_limit: 2n ** 40n }));
    const pkg = toHex(packageHash(wp));
    const encoded = encodeWorkPackage(wp);
    await h.repos.workPackages.insertIfAbsent({ hash: pkg, encoded, serviceIds: services.map((s) => s.id), submittedBy: 'test' });
    const zero = new Uint8Array(32);
    const report: WorkReport = {
      package_spec: { hash: packageHash(wp), length: encoded.length, erasure_root: zero, exports_root: zero, exports_count: 0 },
      context: wp.context,
      core_index: 0,
      authorizer_hash: zero,
      auth_gas_used: 0n,
      auth_output: new Uint8Array(0),
      segment_root_lookup: [],
      results: services.map((s, i) => ({
        service_id: s.id,
        code_hash: s.codeHash,
        payload_hash: blake2b256(wp.items[i]!.payload),
        accumulate_gas: 2n ** 40n,
        result: { ok: new Uint8Array(8) },
        refine_load: { gas_used: 1n, imports: 0, extrinsic_count: 0, extrinsic_size: 0, exports: 0 },
      })),
    };
    const rep = toHex(reportHash(report));
    await h.repos.workReports.insertIfAbsent({ reportHash: rep, packageHash: pkg, encoded: encodeWorkReport(report), engine: JSON.stringify(ENGINE_IDENTITY) });
    expect(await h.repos.workPackages.transition(pkg, ['pending'], 'attested', { reportHash: rep })).toBe(true);
    await beforeEnqueue?.(pkg, rep);
    await queue.enqueue(ACCUMULATE_QUEUE, ACCUMULATE_REPORT_V1, { report_hash: rep, package_hash: pkg }, { jobId: accumulateJobId(rep) });
    return { pkg, rep };
  }

  /** Stores a pending package of `service` and enqueues its refine jobs, as the gateway does. */
  async function submitPending(service: HarnessService): Promise<string> {
    const wp = h.newPackage(service, 2n ** 40n);
    const pkg = toHex(packageHash(wp));
    await h.repos.workPackages.insertIfAbsent({ hash: pkg, encoded: encodeWorkPackage(wp), serviceIds: [service.id], submittedBy: 'test' });
    for (let i = 0; i < 3; i++)
      await queue.enqueue(refineQueueName(i), REFINE_PACKAGE_V1, { package_hash: pkg, attester_index: i }, { jobId: refineJobId(pkg, i) });
    return pkg;
  }

  const rowsOf = async (rep: string) =>
    (await h.ds.query('SELECT service_id, status, applied_at FROM accumulation WHERE report_hash = $1 ORDER BY service_id', [
      Buffer.from(rep.slice(2), 'hex'),
    ])) as {
      service_id: number;
      status: string;
      applied_at: Date;
    }[];

  beforeAll(async () => {
    queue = h.queue(prefix);
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    gateway = await JamProcess.start(
      {
        DATABASE_URL: h.dbUrl,
        REDIS_URL,
        JAM_QUEUE_PREFIX: prefix,
        JAM_ROLES: 'gateway,attestation',
        JAM_PORT: String(port),
        JAM_DATA_DIR: path.join(h.tmp, 'gw-data'),
        JAM_BLOB_DIR: path.join(h.tmp, 'blobs'),
        JAM_ALLOWED_TOKENS: `test=${sha256(owner)},mallory=${sha256(other)}`,
        JAM_ADMIN_TOKENS: `ops=${sha256(admin)}`,
        JAM_MAX_PACKAGE_RETRIES: '1',
      },
      { port, timeoutMs: 60_000 },
    );
  }, 90_000);
  afterAll(async () => {
    await gateway?.stop();
  });

  it('retries infrastructure failures, bounded, exactly once; refuses verdicts and other tenants; audits every call', async () => {
    const fast = await registerService('fast', '', '');
    const slowAccumulate = await registerService('slow-acc', '', SLOW);
    const slowRefine = await registerService('slow-refine', SLOW, '');

    // The fault: a wall clock too short for the work.
    const short = await startWorkers(100);
    // Package a's report touches two services; the fast one's accumulation already applied (as an
    // earlier delivery would have: recorded here before any worker runs, since under load even a
    // trivial guest call can miss a 100 ms wall clock). A retry must not apply it again.
    const a = await submitAttestedReport([fast, slowAccumulate], async (pkg, rep) => {
      const applied = await h.repos.accumulations.applyOnce({
        reportHash: rep,
        packageHash: pkg,
        serviceId: fast.id,
        loadLimit: { bytes: Number.MAX_SAFE_INTEGER, items: Number.MAX_SAFE_INTEGER },
        run: async () => ({ status: 'ok', gasUsed: 1n, writes: [] }),
      });
      expect(applied).toEqual({ applied: true, status: 'ok' });
    });
    const c = await submitAttestedReport([slowAccumulate]);
    const r = await submitPending(slowRefine);
    expect(await h.finished(a.pkg, 240_000)).toMatchObject({ status: 'failed', errorCode: 'accumulate_timeout', retries: 0 });
    expect(await h.finished(c.pkg, 240_000)).toMatchObject({ status: 'failed', errorCode: 'accumulate_timeout' });
    expect(await h.finished(r, 240_000)).toMatchObject({ status: 'failed', errorCode: 'refine_timeout' });
    const fastRow = (await rowsOf(a.rep)).find((x) => x.service_id === fast.id)!;
    expect((await rowsOf(a.rep)).map((x) => [x.service_id, x.status])).toEqual([
      [fast.id, 'ok'],
      [slowAccumulate.id, 'timed_out'],
    ]);

    // Retried while the fault persists: it runs again and fails again; then the bound (1) answers 409.
    const first = await retry(c.pkg);
    expect(first.status).toBe(202);
    expect(first.json).toMatchObject({ hash: c.pkg, status: 'attested', retries: 1, error: null });
    expect(await h.finished(c.pkg, 240_000)).toMatchObject({ status: 'failed', errorCode: 'accumulate_timeout', retries: 1 });
    const bounded = await retry(c.pkg);
    expect(bounded.status).toBe(409);
    expect(bounded.json.error).toMatchObject({ code: 'retry_limit_reached', details: { retries: 1, limit: 1 } });
    expect((await adminRetry(c.pkg)).status).toBe(409);
    // The command line says the same (exit 1, the code and message).
    const cli = await runCli(['package', 'retry', c.pkg], { JAM_URL: base, JAM_TOKEN: owner });
    expect(cli.code).toBe(1);
    expect(cli.stderr).toContain('retry_limit_reached');

    // The fix: workers with a sound wall clock.
    await short.proc.stop();
    const sound = await startWorkers(300_000);

    // Another tenant cannot see the package; the owner retries it: the timed-out accumulation runs, the applied one does not.
    expect((await retry(a.pkg, other)).status).toBe(404);
    const ok = await retry(a.pkg);
    expect(ok.status).toBe(202);
    expect(ok.json).toMatchObject({ status: 'attested', retries: 1 });
    expect(await h.finished(a.pkg, 240_000)).toMatchObject({ status: 'accumulated', errorCode: null, retries: 1 });
    const after = await rowsOf(a.rep);
    expect(after.map((x) => [x.service_id, x.status])).toEqual([
      [fast.id, 'ok'],
      [slowAccumulate.id, 'ok'],
    ]);
    expect(after[0]!.applied_at).toEqual(fastRow.applied_at);
    expect(await h.repos.accumulations.wallClockFailures(a.rep, slowAccumulate.id)).toBe(0);
    // The dashboard's latency, queue-wait and reachability series come from the worker that did it.
    const text = await metricsOf(sound.metricsPort);
    expect(metric(text, 'jam_package_accumulate_latency_seconds_count')).toBe(1);
    expect(metric(text, 'jam_queue_wait_seconds_count{queue="accumulate"}')).toBe(1);
    expect(metric(text, 'jam_dependency_up{dependency="database"}')).toBe(1);
    expect(metric(text, 'jam_dependency_up{dependency="redis"}')).toBe(1);

    // An admin retries the refine failure: refined, attested by 2 of 3, accumulated.
    const byAdmin = await adminRetry(r);
    expect(byAdmin.status).toBe(202);
    expect(byAdmin.json).toMatchObject({ status: 'pending', retries: 1 });
    expect(await h.finished(r, 240_000)).toMatchObject({ status: 'accumulated', retries: 1 });
    expect((await h.repos.refineAttempts.list(r)).filter((x) => x.exhausted)).toEqual([]);

    // Not failed -> 409; a verdict -> 422.
    const again = await retry(a.pkg);
    expect(again.status).toBe(409);
    expect(again.json.error).toMatchObject({ code: 'conflict', details: { status: 'accumulated' } });
    // A dispute rejected by an admin (the same repository call as POST /admin/disputes/{hash}/resolve).
    const disputed = h.newPackage(fast, 2n ** 40n);
    const verdict = { pkg: toHex(packageHash(disputed)) };
    await h.repos.workPackages.insertIfAbsent({ hash: verdict.pkg, encoded: encodeWorkPackage(disputed), serviceIds: [fast.id], submittedBy: 'test' });
    expect(await h.repos.workPackages.transition(verdict.pkg, ['pending'], 'disputed')).toBe(true);
    expect(
      await h.repos.workPackages.transition(verdict.pkg, ['disputed'], 'failed', {
        errorCode: 'dispute_rejected',
        errorMessage: 'rejected by an administrator',
      }),
    ).toBe(true);
    const refused = await retry(verdict.pkg);
    expect(refused.status).toBe(422);
    expect(refused.json.error).toMatchObject({ code: 'not_retryable', details: { error_code: 'dispute_rejected' } });

    // Audited: owner and admin calls, successes and refusals, newest first.
    const audit = await api(base, admin, 'GET', '/admin/audit?action=package.retry&limit=50');
    expect(audit.status).toBe(200);
    const entries = (audit.json.items as { target: string; outcome: string; details: Record<string, unknown> }[]).map((e) => [
      /0x[0-9a-f]{64}/.exec(e.target)?.[0],
      e.outcome,
      e.details['error'] ?? null,
      e.details['principal'],
    ]);
    expect(entries).toEqual(
      expect.arrayContaining([
        [c.pkg, 'success', null, 'test'],
        [c.pkg, 'failure', 'retry_limit_reached', 'test'],
        [a.pkg, 'success', null, 'test'],
        [a.pkg, 'failure', 'conflict', 'test'],
        [verdict.pkg, 'failure', 'not_retryable', 'test'],
      ]),
    );
    expect(entries.filter(([, , , who]) => who === 'ops').map(([p, outcome]) => [p, outcome])).toEqual(
      expect.arrayContaining([
        [r, 'success'],
        [c.pkg, 'failure'],
      ]),
    );
  }, 900_000);
});
