/**
 * Accumulate limits through the real worker path: `jam` processes from the build (roles
 * accumulate-worker, janitor) on PostgreSQL and Redis (BullMQ), with real sandbox executors.
 * The test plays the part of refine and attestation: it stores a package and a GP-encoded report
 * whose digests carry the accumulate operands, marks the package attested and enqueues the
 * accumulate job as the attestation service would.
 *
 * - Storage footprint quota (JAM_MAX_SERVICE_STORAGE_BYTES / _ITEMS): across several jobs of one
 *   service the stored state never exceeds the quota; a service already over it (legacy rows) can
 *   still delete; one larger than an executor can be given ends `storage_over_limit`.
 * - Poison accumulate (a guest that always hits JAM_SANDBOX_WALL_CLOCK_MS): counted in the
 *   database across a worker crash and a lost queue (the janitor's reconciler re-enqueues it),
 *   and after JAM_MAX_ACCUMULATE_TIMEOUTS kills the package is `failed` for good.
 * Needs `npm run build` (processes and executors run dist/).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { JobQueue } from '@jam/queue';
import { ACCUMULATE_QUEUE, accumulateJobId } from '@jam/queue-contracts';
import { HOST_FULL, HOST_NONE, MAX_STORAGE_SNAPSHOT_BYTES, MAX_STORAGE_SNAPSHOT_ITEMS } from '@jam/sandbox';
import { ConfigError, loadConfig } from '@jam/config';
import type { JamProcess } from '../support/jam-server';
import { deleteKeys } from '../support/redis';
import { HOSTILE_DIR, wat2wasm } from '../sandbox/sandbox-test.helpers';
import { SCRIPT_GUEST, script, type Cmd } from '../../libs/sandbox/test/write-script.guest';
import { PROCESS_TEST_TIMEOUT_MS } from '../support/jam-server';
import { metric, metricsOf, until, useWorkerHarness, type HarnessService } from './worker-harness';

const QUOTA_BYTES = 10_000;
const QUOTA_ITEMS = 30;
const MAX_TIMEOUTS = 3;

const u64 = (b: Uint8Array, i: number) => Buffer.from(b).readBigUInt64LE(i * 8);

describe('accumulate limits through the accumulate-worker process (PostgreSQL, Redis, executors)', () => {
  const h = useWorkerHarness('acclim');
  const { suffix } = h;

  const footprint = (serviceId: number) => h.repos.serviceStorage.footprint(serviceId);

  it('caps the quota settings at what an executor can be given', () => {
    expect(
      loadConfig({ JAM_MAX_SERVICE_STORAGE_BYTES: String(MAX_STORAGE_SNAPSHOT_BYTES), JAM_MAX_SERVICE_STORAGE_ITEMS: String(MAX_STORAGE_SNAPSHOT_ITEMS) }),
    ).toMatchObject({
      maxServiceStorageBytes: MAX_STORAGE_SNAPSHOT_BYTES,
      maxServiceStorageItems: MAX_STORAGE_SNAPSHOT_ITEMS,
    });
    expect(() => loadConfig({ JAM_MAX_SERVICE_STORAGE_BYTES: String(MAX_STORAGE_SNAPSHOT_BYTES + 1) })).toThrow(ConfigError);
    expect(() => loadConfig({ JAM_MAX_SERVICE_STORAGE_ITEMS: String(MAX_STORAGE_SNAPSHOT_ITEMS + 1) })).toThrow(ConfigError);
  });

  describe('storage footprint quota', () => {
    const prefix = `jamacq${suffix}`;
    let queue: JobQueue;
    let metricsPort: number;
    let worker: JamProcess;
    let scriptService: (name: string) => Promise<HarnessService>;

    beforeAll(async () => {
      ({ proc: worker, metricsPort } = await h.startWorker('accumulate-worker', prefix, {
        JAM_MAX_SERVICE_STORAGE_BYTES: String(QUOTA_BYTES),
        JAM_MAX_SERVICE_STORAGE_ITEMS: String(QUOTA_ITEMS),
      }));
      queue = h.queue(prefix);
      // one code per service: the script guest, made distinct by a data segment naming it
      scriptService = async (name: string) =>
        h.registerService(
          await wat2wasm(SCRIPT_GUEST.replace('(data (i32.const 512) "r")', `(data (i32.const 512) "r") (data (i32.const 600) "${name}")`), `${name}.wat`),
        );
    }, PROCESS_TEST_TIMEOUT_MS);
    afterAll(async () => {
      await worker?.stop();
      await deleteKeys(h.redis, prefix);
    });

    /** Runs one job of the script guest; @returns the `write` results the guest stored under "r". */
    async function runJob(service: HarnessService, cmds: Cmd[]): Promise<bigint[]> {
      const { pkg } = await h.submitAttested(queue, service, { operand: script(cmds) });
      const row = await h.finished(pkg);
      if (row.status !== 'accumulated') throw new Error(`package ${row.status}: ${row.errorCode} ${row.errorMessage}\n${worker.output.join('').slice(-3000)}`);
      const r = await h.repos.serviceStorage.getStorage(service.id, new Uint8Array([0x72]));
      expect(r).not.toBeNull();
      return cmds.map((_, i) => u64(r!, i));
    }
    const cmdRange = (from: number, n: number, valLen: number): Cmd[] => Array.from({ length: n }, (_, i) => ({ id: from + i, keyLen: 4, valLen }));
    const NONE = HOST_NONE;
    const FULL = HOST_FULL;

    it('holds max_service_storage_bytes across jobs of one service; deletions make room again', async () => {
      const s = await scriptService('bytes');
      // each job: "r" (1 + 8 x 10 bytes) and 10 writes of 4-byte keys; a 500-byte value takes 504 bytes
      expect(await runJob(s, cmdRange(0, 10, 500))).toEqual(Array(10).fill(NONE));
      expect(await footprint(s.id)).toEqual({ bytes: 81 + 10 * 504, items: 11 });
      // 9 more fit (9657 bytes), the 10th would make 10161 > 10000
      expect(await runJob(s, cmdRange(10, 10, 500))).toEqual([...Array(9).fill(NONE), FULL]);
      expect(await footprint(s.id)).toEqual({ bytes: 9657, items: 20 });
      expect(await runJob(s, cmdRange(20, 10, 500))).toEqual(Array(10).fill(FULL));
      expect(await footprint(s.id)).toEqual({ bytes: 9657, items: 20 });
      // deleting 5 keys frees 5 x 504 bytes for 5 new ones
      expect(await runJob(s, [...cmdRange(0, 5, 0), ...cmdRange(20, 5, 500)])).toEqual([...Array(5).fill(500n), ...Array(5).fill(NONE)]);
      expect(await footprint(s.id)).toEqual({ bytes: 9657, items: 20 });
      const keys = (await h.ds.query('SELECT key FROM service_storage WHERE service_id = $1 ORDER BY key', [s.id])) as { key: Buffer }[];
      // the 9 of job 2 that fit are 10..18
      expect(
        keys
          .filter((k) => k.key.length === 4)
          .map((k) => k.key.readUInt32LE(0))
          .sort((a, b) => a - b),
      ).toEqual([...range(5, 18), ...range(20, 24)]);
    });

    it('holds max_service_storage_items across jobs of one service', async () => {
      const s = await scriptService('items');
      expect(await runJob(s, cmdRange(0, 20, 1))).toEqual(Array(20).fill(NONE));
      // "r" + 20 keys = 21 items; 9 more reach 30
      expect(await runJob(s, cmdRange(20, 20, 1))).toEqual([...Array(9).fill(NONE), ...Array(11).fill(FULL)]);
      expect((await footprint(s.id)).items).toBe(QUOTA_ITEMS);
      expect(await runJob(s, [{ id: 0, keyLen: 4, valLen: 0 }, ...cmdRange(40, 19, 1)])).toEqual([1n, NONE, ...Array(18).fill(FULL)]);
      expect(await footprint(s.id)).toEqual({ bytes: 161 + 29 * 5, items: QUOTA_ITEMS });
    });

    it('still runs a service whose stored state is over the quota (legacy rows): deletions work, growth does not; warned and counted', async () => {
      const s = await scriptService('legacy');
      // written before the quota existed: "r" sized for 4 results and three 5000-byte values (15,045 bytes)
      await h.ds.query(`INSERT INTO service_storage (service_id, key, value) VALUES ($1, '\\x72', $2), ($1, $3, $5), ($1, $4, $5), ($1, $6, $5)`, [
        s.id,
        Buffer.alloc(32),
        key4(0),
        key4(1),
        Buffer.alloc(5000, 7),
        key4(2),
      ]);
      expect(await footprint(s.id)).toEqual({ bytes: 15_045, items: 4 });
      const before = metric(await metricsOf(metricsPort), 'jam_service_storage_over_quota_total{action="ran"}');
      const results = await runJob(s, [
        { id: 0, keyLen: 4, valLen: 0 }, // delete: 10,041 bytes, still over
        { id: 9, keyLen: 4, valLen: 10 }, // grows while over: FULL
        { id: 1, keyLen: 4, valLen: 0 }, // delete: 5,037 bytes
        { id: 9, keyLen: 4, valLen: 10 }, // within the quota again: fits
      ]);
      expect(results).toEqual([5000n, FULL, 5000n, NONE]);
      expect(await footprint(s.id)).toEqual({ bytes: 5_051, items: 3 });
      expect(metric(await metricsOf(metricsPort), 'jam_service_storage_over_quota_total{action="ran"}')).toBe(before + 1);
      expect(worker.output.join('')).toMatch(/service storage is over its quota/);
    });

    it('records storage_over_limit without running when the stored state is larger than an executor can be given', async () => {
      const s = await scriptService('huge');
      await h.ds.query(`INSERT INTO service_storage (service_id, key, value) SELECT $1, int4send(g), '\\x01'::bytea FROM generate_series(1, $2::integer) g`, [
        s.id,
        MAX_STORAGE_SNAPSHOT_ITEMS + 1,
      ]);
      const { pkg, rep } = await h.submitAttested(queue, s, { operand: script(cmdRange(0, 3, 0)) });
      const row = await h.finished(pkg);
      expect(row).toMatchObject({ status: 'failed', errorCode: 'storage_over_limit' });
      const acc = await h.accumulationRows(rep);
      expect(acc).toEqual([{ status: 'storage_over_limit', gas_used: '0' }]);
      expect((await footprint(s.id)).items).toBe(MAX_STORAGE_SNAPSHOT_ITEMS + 1);
      const text = await metricsOf(metricsPort);
      expect(metric(text, 'jam_service_storage_over_quota_total{action="refused"}')).toBe(1);
      expect(metric(text, 'jam_packages_total{status="failed"}')).toBe(1);
    });
  });

  describe('a guest that always hits the wall clock in accumulate', () => {
    const prefix = `jamacp${suffix}`;

    it(
      'is counted in the database across a crash and a lost queue, and fails its package after max_accumulate_timeouts',
      async () => {
        const env = {
          JAM_SANDBOX_WALL_CLOCK_MS: '200',
          JAM_MAX_ACCUMULATE_TIMEOUTS: String(MAX_TIMEOUTS),
          JAM_RECONCILE_INTERVAL_MS: '200',
          JAM_RECONCILE_STALE_MS: '0',
        };
        // the hostile corpus's infinite loop, moved into accumulate
        const fixture = fs.readFileSync(path.join(HOSTILE_DIR, 'infinite-loop.wat'), 'utf8');
        const looping = fixture.replace(
          '(func (export "accumulate") (param i32) (result i64) (i64.const 0))',
          '(func (export "accumulate") (param i32) (result i64) (loop $l (br $l)) (i64.const 0))',
        );
        expect(looping).not.toBe(fixture);
        const service = await h.registerService(await wat2wasm(looping, 'infinite-loop-accumulate.wat'));
        const queue = h.queue(prefix);

        // A worker counts its first wall-clock kill, then crashes (SIGKILL) and Redis loses the queue.
        // The report's accumulate gas (2^62) outlasts any wall clock: a real report stays below G_A,
        // so this stands in for a machine too slow for the wall clock.
        const first = await h.startWorker('accumulate-worker', prefix, env);
        const { pkg, rep } = await h.submitAttested(queue, service, { accumulateGas: 2n ** 62n });
        await until('the first wall-clock kill', async () => ((await h.repos.accumulations.wallClockFailures(rep, service.id)) >= 1 ? true : undefined));
        await first.proc.kill();
        const counted = await h.repos.accumulations.wallClockFailures(rep, service.id);
        expect(counted).toBeLessThan(MAX_TIMEOUTS);
        expect((await h.repos.workPackages.get(pkg))?.status).toBe('accumulating');
        await deleteKeys(h.redis, prefix);

        // A new worker and the janitor: the reconciler re-enqueues the package, the count goes on from the database.
        const second = await h.startWorker('accumulate-worker,janitor', prefix, env);
        const row = await h.finished(pkg, 180_000);
        const logs = () => second.proc.output.join('').slice(-4000);
        expect(row).toMatchObject({ status: 'failed', errorCode: 'accumulate_timeout' });
        expect(row.errorMessage).toMatch(new RegExp(`service ${service.id}: accumulate was killed by the sandbox wall clock`));
        expect(await h.repos.accumulations.wallClockFailures(rep, service.id)).toBe(MAX_TIMEOUTS);
        const acc = await h.accumulationRows(rep);
        expect(acc).toEqual([{ status: 'timed_out', gas_used: String(2n ** 62n) }]);
        const text = await metricsOf(second.metricsPort);
        expect(metric(text, 'jam_accumulate_timeouts_total{outcome="final"}')).toBe(1);
        expect(metric(text, 'jam_accumulate_timeouts_total{outcome="retry"}')).toBe(MAX_TIMEOUTS - 1 - counted);
        expect(metric(text, 'jam_reconciler_reenqueued_total{queue="accumulate"}')).toBeGreaterThanOrEqual(1);
        expect(logs()).toMatch(/recorded timed_out/);

        // Final: later reconciler rounds leave it alone and nothing runs it again.
        const reenqueued = metric(text, 'jam_reconciler_reenqueued_total{queue="accumulate"}');
        const runs = metric(text, 'jam_janitor_runs_total{task="reconcile",outcome="ok"}');
        await until('three more reconciler runs', async () =>
          metric(await metricsOf(second.metricsPort), 'jam_janitor_runs_total{task="reconcile",outcome="ok"}') >= runs + 3 ? true : undefined,
        );
        const later = await metricsOf(second.metricsPort);
        expect(metric(later, 'jam_reconciler_reenqueued_total{queue="accumulate"}')).toBe(reenqueued);
        expect(metric(later, 'jam_accumulate_timeouts_total{outcome="retry"}') + metric(later, 'jam_accumulate_timeouts_total{outcome="final"}')).toBe(
          MAX_TIMEOUTS - counted,
        );
        expect(await h.repos.accumulations.wallClockFailures(rep, service.id)).toBe(MAX_TIMEOUTS);
        expect((await h.repos.workPackages.get(pkg))?.status).toBe('failed');
        expect(await queue.isQueued(ACCUMULATE_QUEUE, accumulateJobId(rep))).toBe(false);
        await second.proc.stop();
      },
      PROCESS_TEST_TIMEOUT_MS,
    );
  });
});

function key4(id: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(id);
  return b;
}
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
