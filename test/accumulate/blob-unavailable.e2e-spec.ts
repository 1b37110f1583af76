/**
 * Only deterministic outcomes are signed (issue 7 part 5), through the real worker path: one `jam`
 * process from the build running refine-worker (3 attesters, threshold 2), attestation and
 * accumulate-worker on PostgreSQL and Redis (BullMQ), with real sandbox executors and the
 * filesystem blob store. The test removes blobs from the store behind the database's back (a
 * lagging or restored store) and puts them back:
 *
 * - the service's code missing while the package is refined: no report and no signature while it
 *   is missing, each attester's failures counted as `blob`; once restored, the package is refined,
 *   attested and accumulated with the word count of its payload (before: every attester signed
 *   `bad_code` and that was accumulated);
 * - an extrinsic missing for good: every attester gives up after max_sandbox_failures, the package
 *   fails `refine_blob_unavailable`, no report exists (before: the lookup answered NONE and that
 *   was signed);
 * - the code missing when the report is accumulated: nothing applied while it is missing, then the
 *   right storage once restored (before: the service's digests were skipped and the package marked
 *   accumulated); missing for good: exactly max_sandbox_failures tries, then the accumulation is
 *   recorded `blob_unavailable` and the package fails `accumulate_blob_unavailable`.
 * Needs `npm run build` (processes and executors run dist/).
 */
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { blake2b256, encodeWorkPackage, packageHash, toHex } from '@jam/domain';
import type { JobQueue } from '@jam/queue';
import { REFINE_PACKAGE_V1, refineJobId, refineQueueName } from '@jam/queue-contracts';
import { exampleServicePath } from '@jam/sandbox';
import { PROCESS_TEST_TIMEOUT_MS } from '../support/jam-server';
import { metric, metricsOf, once, until, useWorkerHarness, type HarnessService } from './worker-harness';

const ATTESTERS = 3;
const THRESHOLD = 2;
const MAX_FAILURES = 3;

const u64 = (n: bigint) => {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, n, true);
  return b;
};
const WORDS = new TextEncoder().encode('words');
const ITEMS = new TextEncoder().encode('items');

describe('blobs the store cannot give are never signed or accumulated as guest results (PostgreSQL, Redis, worker process)', () => {
  const h = useWorkerHarness('blobgone');
  const wordCount = readFileSync(exampleServicePath('word-count'));
  let queue: JobQueue;
  let metricsPort: number;

  beforeAll(async () => {
    const prefix = `jambu${randomBytes(4).toString('hex')}`;
    const worker = await h.startWorker('refine-worker,attestation,accumulate-worker', prefix, {
      JAM_ATTESTERS: String(ATTESTERS),
      JAM_ATTESTATION_THRESHOLD: String(THRESHOLD),
      JAM_MAX_SANDBOX_FAILURES: String(MAX_FAILURES),
    });
    metricsPort = worker.metricsPort;
    queue = h.queue(prefix);
  }, PROCESS_TEST_TIMEOUT_MS);

  /** A fresh word-count service (its own storage); the code is unique per service so removing it touches no other test. */
  async function newService(): Promise<HarnessService & { codeHex: string }> {
    // a custom section makes the bytes (and the hash) unique; the module runs the same
    const tag = randomBytes(8);
    const code = new Uint8Array([...wordCount, 0x00, 1 + 1 + tag.length, 1, 0x74, ...tag]);
    const service = await h.registerService(code);
    return { ...service, codeHex: toHex(service.codeHash) };
  }

  const putBack = (bytes: Uint8Array) => h.blobs.put(toHex(blake2b256(bytes)), once(bytes), { maxBytes: 1 << 22 });

  /** Stores a package row and enqueues its refine job for every attester, as the gateway does. */
  async function submit(wp: ReturnType<typeof h.newPackage>): Promise<string> {
    const pkg = toHex(packageHash(wp));
    await h.repos.workPackages.insertIfAbsent({ hash: pkg, encoded: encodeWorkPackage(wp), serviceIds: [wp.items[0]!.service], submittedBy: 'test' });
    for (let i = 0; i < ATTESTERS; i++)
      await queue.enqueue(refineQueueName(i), REFINE_PACKAGE_V1, { package_hash: pkg, attester_index: i }, { jobId: refineJobId(pkg, i) });
    return pkg;
  }

  const signatures = async (pkg: string) =>
    (await h.ds.query('SELECT count(*)::int AS n FROM attestation WHERE package_hash = $1', [Buffer.from(pkg.slice(2), 'hex')]))[0].n as number;

  it(
    'code missing while refining: nothing signed; restored, the package accumulates the right word count',
    async () => {
      const service = await newService();
      const code = await h.blobs.getBytes(service.codeHex);
      await h.blobs.delete(service.codeHex);
      const wp = h.newPackage(service);
      const pkg = await submit(wp);

      // every attester has tried and counted a blob failure: that is progress, not a timer
      await until('a counted blob failure of every attester', async () => {
        const attempts = await h.repos.refineAttempts.list(pkg);
        return attempts.length === ATTESTERS && attempts.every((a) => a.failures >= 1) ? attempts : undefined;
      });
      expect(await h.repos.workReports.listByPackage(pkg)).toEqual([]);
      expect(await signatures(pkg)).toBe(0);
      for (const a of await h.repos.refineAttempts.list(pkg))
        expect(a).toMatchObject({ lastKind: 'blob', lastError: expect.stringMatching(/^blob unavailable: code of service \d+ .*no blob/) });

      await putBack(code);
      const row = await h.finished(pkg, 240_000);
      expect(row.status).toBe('accumulated');
      const reports = await h.repos.workReports.listByPackage(pkg);
      expect(reports).toHaveLength(1);
      expect(await h.repos.serviceStorage.getStorage(service.id, WORDS)).toEqual(u64(3n));
      expect(await h.repos.serviceStorage.getStorage(service.id, ITEMS)).toEqual(u64(1n));
      expect(await h.accumulationRows(reports[0]!.reportHash)).toEqual([{ status: 'ok', gas_used: expect.any(String) }]);
    },
    PROCESS_TEST_TIMEOUT_MS,
  );

  it(
    'an extrinsic missing for good: each attester gives up after max_sandbox_failures, the package fails refine_blob_unavailable, no report signed',
    async () => {
      const service = await newService();
      const extrinsic = randomBytes(100);
      const xHash = toHex(blake2b256(extrinsic));
      // the gateway accepted it: the preimage row exists; the store lost the bytes
      await h.repos.preimages.insertIfAbsent({ hash: xHash, length: extrinsic.length, storageTier: 'fs', uploadedBy: 'test' });
      const wp = h.newPackage(service);
      wp.items[0] = { ...wp.items[0]!, extrinsic: [{ hash: blake2b256(extrinsic), len: extrinsic.length }] };
      const pkg = await submit(wp);

      const row = await h.finished(pkg, 240_000);
      expect(row).toMatchObject({ status: 'failed', errorCode: 'refine_blob_unavailable' });
      expect(row.errorMessage).toMatch(
        /^fewer than 2 of 3 attesters can still sign: attester \d gave up after 3 sandbox failures \(0 wall clock\), last: blob unavailable: extrinsic 0 of item 0/,
      );
      const gaveUp = (await h.repos.refineAttempts.list(pkg)).filter((a) => a.exhausted);
      expect(gaveUp.length).toBeGreaterThanOrEqual(ATTESTERS - THRESHOLD + 1);
      for (const a of gaveUp) expect(a).toMatchObject({ failures: MAX_FAILURES, lastKind: 'blob' });
      expect(await h.repos.workReports.listByPackage(pkg)).toEqual([]);
      expect(await signatures(pkg)).toBe(0);
      const text = await metricsOf(metricsPort);
      expect(metric(text, 'jam_sandbox_failures_total{phase="refine",kind="blob",outcome="final"}')).toBeGreaterThanOrEqual(ATTESTERS - THRESHOLD + 1);
    },
    PROCESS_TEST_TIMEOUT_MS,
  );

  it(
    'code missing when accumulating: nothing applied, not skipped; restored, the storage is right',
    async () => {
      const service = await newService();
      const code = await h.blobs.getBytes(service.codeHex);
      await h.blobs.delete(service.codeHex);
      const { pkg, rep } = await h.submitAttested(queue, service, { operand: u64(41n), accumulateGas: 1_000_000n });

      await until('a counted blob failure of the accumulation', async () =>
        (await h.repos.accumulations.blobFailures(rep, service.id)) >= 1 ? true : undefined,
      );
      expect(await h.accumulationRows(rep)).toEqual([]);
      expect((await h.repos.workPackages.get(pkg))?.status).not.toBe('accumulated');
      expect(await h.repos.serviceStorage.getStorage(service.id, WORDS)).toBeNull();

      await putBack(code);
      const row = await h.finished(pkg, 240_000);
      expect(row.status).toBe('accumulated');
      expect(await h.accumulationRows(rep)).toEqual([{ status: 'ok', gas_used: expect.any(String) }]);
      expect(await h.repos.serviceStorage.getStorage(service.id, WORDS)).toEqual(u64(41n));
    },
    PROCESS_TEST_TIMEOUT_MS,
  );

  it(
    'code missing for good when accumulating: exactly max_sandbox_failures tries, then blob_unavailable and accumulate_blob_unavailable',
    async () => {
      const service = await newService();
      await h.blobs.delete(service.codeHex);
      const { pkg, rep } = await h.submitAttested(queue, service, { operand: u64(5n), accumulateGas: 1_000_000n });

      const row = await h.finished(pkg, 240_000);
      expect(row).toMatchObject({ status: 'failed', errorCode: 'accumulate_blob_unavailable' });
      expect(row.errorMessage).toMatch(new RegExp(`service ${service.id}: the service code could not be read from the blob store`));
      expect(await h.repos.accumulations.blobFailures(rep, service.id)).toBe(MAX_FAILURES);
      expect(await h.accumulationRows(rep)).toEqual([{ status: 'blob_unavailable', gas_used: '0' }]);
      expect(await h.repos.serviceStorage.getStorage(service.id, WORDS)).toBeNull();
      const text = await metricsOf(metricsPort);
      expect(metric(text, 'jam_sandbox_failures_total{phase="accumulate",kind="blob",outcome="final"}')).toBe(1);
    },
    PROCESS_TEST_TIMEOUT_MS,
  );
});
