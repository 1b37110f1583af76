/**
 * Unit tests of the refine processor's decisions (one module: the repositories and the sandbox are
 * in-memory stand-ins; the blob store is a real filesystem store in a temp dir, the queue the real
 * in-process driver). What is signed, what is counted and retried, and when the package fails.
 * The worker path with PostgreSQL, Redis and real processes: test/accumulate/blob-unavailable.e2e-spec.ts.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  blake2b256,
  decodeEngineAuthOutput,
  decodeWorkReport,
  encodeWorkPackage,
  GP_MAX_REPORT_OUTPUT_SIZE,
  GP_SEGMENT_SIZE,
  guaranteeMessage,
  initHashing,
  packageHash,
  segmentsRoot,
  toHex,
  type WorkExecResult,
  type WorkPackage,
} from '@jam/domain';
import { ENGINE_IDENTITY } from '@jam/sandbox';
import { BlobUnavailableError, FilesystemBlobStore, type BlobStore } from '@jam/blob-store';
import { PermanentJobError, createInProcessQueue, type JobQueue } from '@jam/queue';
import { ATTESTATION_QUEUE, REFINE_PACKAGE_V1 } from '@jam/queue-contracts';
import { rawPublicKey, type AttesterKey } from '@jam/attest';
import type { RefineRequest, SandboxPool } from '@jam/sandbox';
import type {
  ExportedSegmentRepository,
  RefineAttemptRecord,
  RefineAttemptRepository,
  RefineFailureKind,
  ServiceRecord,
  ServiceRepository,
  WorkPackageRecord,
  WorkPackageRepository,
  WorkPackageStatus,
  WorkReportRepository,
} from '@jam/persistence';
import { JamMetrics, createLogger } from '@jam/telemetry';
import { RefineProcessor } from './refine.processor';

const SERVICE_ID = 7;
const ATTESTERS = 3;
const THRESHOLD = 2;
const MAX_FAILURES = 2;

async function* once(b: Uint8Array): AsyncGenerator<Uint8Array> {
  yield b;
}

/** In-memory `refine_attempt` with the repository's rules: count until the bound, then exhausted; attesters that signed are able. */
class FakeRefineAttempts {
  readonly rows = new Map<number, RefineAttemptRecord>();
  async recordFailure(opts: { attesterIndex: number; kind: RefineFailureKind; maxFailures: number; attesterCount: number; error?: string }) {
    const before = this.rows.get(opts.attesterIndex);
    if (before?.exhausted) return { failures: before.failures, exhausted: true, exhaustedNow: false, unableToSign: await this.unableToSign() };
    const failures = (before?.failures ?? 0) + 1;
    const row: RefineAttemptRecord = {
      attesterIndex: opts.attesterIndex,
      failures,
      wallClockFailures: (before?.wallClockFailures ?? 0) + (opts.kind === 'wall_clock' ? 1 : 0),
      lastKind: opts.kind,
      lastError: opts.error ?? null,
      exhausted: failures >= opts.maxFailures,
    };
    this.rows.set(opts.attesterIndex, row);
    return { failures, exhausted: row.exhausted, exhaustedNow: row.exhausted, unableToSign: await this.unableToSign() };
  }
  async get(_pkg: string, attesterIndex: number) {
    return this.rows.get(attesterIndex) ?? null;
  }
  async unableToSign() {
    return [...this.rows.values()].filter((r) => r.exhausted);
  }
}

interface Fixture {
  processor: RefineProcessor;
  queue: JobQueue;
  pkgHash: string;
  codeHash: string;
  extrinsicHash: string;
  attempts: FakeRefineAttempts;
  row: WorkPackageRecord;
  reports: { reportHash: string; encoded: Uint8Array }[];
  sandboxCalls: RefineRequest[];
  run: (attester: number) => Promise<void>;
  /** Segments the processor stored as the report's exports. */
  recorded: Uint8Array[];
}

describe('RefineProcessor: only deterministic outcomes are signed', () => {
  let tmp: string;
  let store: FilesystemBlobStore;
  const code = new Uint8Array(crypto.randomBytes(64));
  const extrinsic = new TextEncoder().encode('an extrinsic the guest looks up');
  const keys = new Map<number, AttesterKey>();
  const queues: JobQueue[] = [];

  beforeAll(async () => {
    await initHashing();
    for (let i = 0; i < ATTESTERS; i++) {
      const privateKey = crypto.generateKeyPairSync('ed25519').privateKey;
      keys.set(i, { index: i, privateKey, publicKey: rawPublicKey(privateKey) });
    }
  });
  beforeEach(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'jam-refine-unit-'));
    store = new FilesystemBlobStore(tmp);
  });
  afterEach(async () => {
    await Promise.all(queues.splice(0).map((q) => q.close()));
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  /** A one-item package of service 7 with one extrinsic; `guest` is what the sandbox answers. */
  function fixture(
    opts: {
      blobs?: BlobStore;
      guest?: WorkExecResult;
      serviceCodeHash?: string;
      servicesError?: Error;
      exportCount?: number;
      guestExports?: Uint8Array[];
    } = {},
  ): Fixture {
    const codeHash = toHex(blake2b256(code));
    const extrinsicHash = toHex(blake2b256(extrinsic));
    const zero = new Uint8Array(32);
    const wp: WorkPackage = {
      authorization: new Uint8Array(0),
      auth_code_host: SERVICE_ID,
      auth_code_hash: blake2b256(code),
      authorizer_config: new Uint8Array(0),
      context: { anchor: zero, state_root: zero, beefy_root: zero, lookup_anchor: zero, lookup_anchor_slot: 0, prerequisites: [] },
      items: [
        {
          service: SERVICE_ID,
          code_hash: blake2b256(code),
          payload: new TextEncoder().encode('payload'),
          refine_gas_limit: 1_000_000n,
          accumulate_gas_limit: 1_000_000n,
          import_segments: [],
          extrinsic: [{ hash: blake2b256(extrinsic), len: extrinsic.length }],
          export_count: opts.exportCount ?? 0,
        },
      ],
    };
    const pkgHash = toHex(packageHash(wp));
    const row = { hash: pkgHash, status: 'pending', encoded: encodeWorkPackage(wp), errorCode: null, errorMessage: null } as unknown as WorkPackageRecord;
    const workPackages = {
      get: async () => row,
      getForAttester: async (h: string, i: number) => {
        const a = await attempts.get(h, i);
        // the service's code hash comes with the package (one statement): its read fails with it
        if (opts.servicesError) throw opts.servicesError;
        return { row, attempt: a && { failures: a.failures, exhausted: a.exhausted }, serviceCodeHashes: new Map([[SERVICE_ID, service.codeHash]]) };
      },
      transition: async (_h: string, from: WorkPackageStatus[], to: WorkPackageStatus, fields: { errorCode?: string; errorMessage?: string } = {}) => {
        if (!from.includes(row.status)) return false;
        Object.assign(row, { status: to, errorCode: fields.errorCode ?? null, errorMessage: fields.errorMessage ?? null });
        return true;
      },
    };
    const service = { id: SERVICE_ID, codeHash: opts.serviceCodeHash ?? codeHash } as ServiceRecord;
    const services = {
      get: async () => {
        if (opts.servicesError) throw opts.servicesError;
        return service;
      },
    };
    const reports: Fixture['reports'] = [];
    const workReports = {
      insertIfAbsent: async (r: { reportHash: string; encoded: Uint8Array }) => {
        reports.push(r);
        return { created: true };
      },
    };
    const sandboxCalls: RefineRequest[] = [];
    const sandbox = {
      refine: async (req: RefineRequest) => {
        sandboxCalls.push(req);
        return {
          result: opts.guest ?? { ok: req.preimages.get(extrinsicHash) ?? new Uint8Array(0) },
          gasUsed: 123n,
          logs: [],
          exports: opts.guestExports ?? [],
        };
      },
    };
    const exportedSegments = {
      record: async (r: { segments: readonly Uint8Array[] }) => {
        recorded.push(...r.segments);
      },
      getHeld: async () => null,
    };
    const recorded: Uint8Array[] = [];
    const queue = createInProcessQueue();
    queues.push(queue);
    const attempts = new FakeRefineAttempts();
    const processor = new RefineProcessor({
      workPackages: workPackages as unknown as WorkPackageRepository,
      services: services as unknown as ServiceRepository,
      workReports: workReports as unknown as WorkReportRepository,
      exportedSegments: exportedSegments as unknown as ExportedSegmentRepository,
      blobs: opts.blobs ?? store,
      sandbox: sandbox as unknown as SandboxPool,
      queue,
      keys,
      metrics: new JamMetrics({ defaultMetrics: false }),
      logger: createLogger({ level: 'silent' }),
      refineAttempts: attempts as unknown as RefineAttemptRepository,
      maxSandboxFailures: MAX_FAILURES,
      attesterCount: ATTESTERS,
      threshold: THRESHOLD,
    });
    const run = (attester: number) =>
      processor.handle({ id: `r${attester}`, name: REFINE_PACKAGE_V1, payload: { package_hash: pkgHash, attester_index: attester }, attempt: 1 });
    return { processor, queue, pkgHash, codeHash, extrinsicHash, attempts, row, reports, sandboxCalls, run, recorded };
  }

  const putCode = () => store.put(toHex(blake2b256(code)), once(code), { maxBytes: 1 << 20 });
  const putExtrinsic = () => store.put(toHex(blake2b256(extrinsic)), once(extrinsic), { maxBytes: 1 << 20 });
  const attestationsQueued = async (q: JobQueue) => (await q.counts(ATTESTATION_QUEUE)).waiting;

  it('code missing from the store: nothing signed, counted as a blob failure and retried; once restored, the package is signed with the guest result', async () => {
    await putExtrinsic();
    const f = fixture();
    const err = await f.run(0).catch((e: unknown) => e);
    expect(BlobUnavailableError.is(err)).toBe(true);
    expect(err).not.toBeInstanceOf(PermanentJobError);
    expect((err as Error).message).toMatch(/^blob unavailable: code of service 7 \(0x[0-9a-f]{64}\): no blob/);
    expect(f.reports).toEqual([]);
    expect(f.sandboxCalls).toEqual([]);
    expect(await attestationsQueued(f.queue)).toBe(0);
    expect(await f.attempts.get(f.pkgHash, 0)).toMatchObject({ failures: 1, lastKind: 'blob', exhausted: false });

    await putCode();
    await f.run(0);
    expect(f.reports).toHaveLength(1);
    expect(decodeWorkReport(f.reports[0]!.encoded).results[0]!.result).toEqual({ ok: extrinsic });
    expect(await attestationsQueued(f.queue)).toBe(1);
    expect(f.row.status).toBe('refining');
  });

  it('extrinsic missing: nothing signed (never a lookup answering NONE); once restored, the guest sees the preimage', async () => {
    await putCode();
    const f = fixture();
    const err = await f.run(1).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/^blob unavailable: extrinsic 0 of item 0 /);
    expect(f.sandboxCalls).toEqual([]);
    expect(f.reports).toEqual([]);
    expect(await f.attempts.get(f.pkgHash, 1)).toMatchObject({ failures: 1, lastKind: 'blob' });

    await putExtrinsic();
    await f.run(1);
    expect(f.sandboxCalls).toHaveLength(1);
    expect([...f.sandboxCalls[0]!.preimages.entries()]).toEqual([[f.extrinsicHash, extrinsic]]);
    // the code is not \0asm, so it is read as a PVM service: it gets the encoded package for `fetch` (its hash is the package hash)
    expect(toHex(blake2b256(f.sandboxCalls[0]!.workPackage!))).toBe(f.pkgHash);
    expect(await attestationsQueued(f.queue)).toBe(1);
  });

  it('a corrupted blob (hash mismatch on read) and an S3 error are counted blob failures, not results', async () => {
    await putCode();
    await putExtrinsic();
    const codeHash = toHex(blake2b256(code));
    fs.writeFileSync(path.join(tmp, codeHash.slice(2, 4), codeHash), 'garbage');
    const f = fixture();
    expect(((await f.run(0).catch((e: unknown) => e)) as Error).message).toMatch(/blob unavailable: code of service 7 .* is corrupted on disk/);
    expect(await f.attempts.get(f.pkgHash, 0)).toMatchObject({ failures: 1, lastKind: 'blob' });

    const s3Down: BlobStore = Object.assign(Object.create(store) as BlobStore, {
      getBytes: async () => {
        throw Object.assign(new Error('We encountered an internal error. Please try again.'), { name: 'InternalError', $metadata: { httpStatusCode: 500 } });
      },
    });
    const g = fixture({ blobs: s3Down });
    expect(((await g.run(2).catch((e: unknown) => e)) as Error).message).toMatch(/blob unavailable: .*internal error/);
    expect(await g.attempts.get(g.pkgHash, 2)).toMatchObject({ failures: 1, lastKind: 'blob' });
    expect([...f.reports, ...g.reports]).toEqual([]);
  });

  it('missing for good: each attester gives up at max_sandbox_failures; the package fails refine_blob_unavailable once the threshold is out of reach', async () => {
    const f = fixture();
    // attester 0: retried below the bound, then gives up (PermanentJobError), but 2 of 3 can still sign
    await expect(f.run(0)).rejects.toThrow(BlobUnavailableError);
    await expect(f.run(0)).rejects.toThrow(PermanentJobError);
    expect(f.row.status).toBe('refining');
    // its later deliveries return at once without reading anything
    await f.run(0);
    expect(await f.attempts.get(f.pkgHash, 0)).toMatchObject({ failures: MAX_FAILURES, exhausted: true, lastKind: 'blob' });
    // attester 1 gives up too: fewer than 2 of 3 can sign
    await expect(f.run(1)).rejects.toThrow(BlobUnavailableError);
    await expect(f.run(1)).rejects.toThrow(PermanentJobError);
    expect(f.row).toMatchObject({ status: 'failed', errorCode: 'refine_blob_unavailable' });
    expect(f.row.errorMessage).toMatch(
      /^fewer than 2 of 3 attesters can still sign: attester 0 gave up after 2 sandbox failures \(0 wall clock\), last: blob unavailable: code of service 7/,
    );
    expect(f.reports).toEqual([]);
    expect(await attestationsQueued(f.queue)).toBe(0);
  });

  it('signs what the code decides: the validator verdict bad_code, and bad_code for a service whose code changed (no blob read)', async () => {
    await putCode();
    await putExtrinsic();
    const f = fixture({ guest: { bad_code: null } });
    await f.run(0);
    expect(decodeWorkReport(f.reports[0]!.encoded).results[0]!.result).toEqual({ bad_code: null });
    expect(await attestationsQueued(f.queue)).toBe(1);

    const empty = new FilesystemBlobStore(path.join(tmp, 'empty'));
    const g = fixture({ blobs: empty, serviceCodeHash: toHex(blake2b256(new Uint8Array([1]))) });
    await g.run(0);
    expect(g.sandboxCalls).toEqual([]);
    expect(decodeWorkReport(g.reports[0]!.encoded).results[0]!.result).toEqual({ bad_code: null });
    expect(g.attempts.rows.size).toBe(0);
  });

  it('a database error is retried without being counted', async () => {
    const f = fixture({ servicesError: new Error('connection terminated') });
    await expect(f.run(0)).rejects.toThrow('connection terminated');
    expect(f.attempts.rows.size).toBe(0);
    expect(f.reports).toEqual([]);
  });
  it('the stored report hash is Blake2b-256 of the GP encoding, with the engine identity in auth_output (GP 0.7.2 eq. 11.26)', async () => {
    await putCode();
    await putExtrinsic();
    const f = fixture();
    await f.run(0);
    await f.run(1);
    const [a, b] = f.reports;
    expect(a!.reportHash).toBe(toHex(blake2b256(a!.encoded)));
    // every attester computes the same report
    expect(b).toEqual(a);
    const report = decodeWorkReport(a!.encoded);
    expect(decodeEngineAuthOutput(report.auth_output)).toEqual({ engine: { ...ENGINE_IDENTITY }, authorizerTrace: new Uint8Array(0) });
    expect(report.package_spec).toMatchObject({ exports_count: 0, exports_root: new Uint8Array(32) });
    expect(guaranteeMessage(blake2b256(a!.encoded)).length).toBe(45);
  });

  it('export_count enforced: a guest exporting fewer segments than declared gives bad_exports and export_count zero segments', async () => {
    await putCode();
    await putExtrinsic();
    const one = new Uint8Array(GP_SEGMENT_SIZE).fill(9);
    const f = fixture({ exportCount: 3, guestExports: [one] });
    await f.run(0);
    const report = decodeWorkReport(f.reports[0]!.encoded);
    expect(report.results[0]!.result).toEqual({ bad_exports: null });
    // gas is what the run used (GP: u from the refine invocation); the item still accounts for its 3 segments
    expect(report.results[0]!.refine_load).toMatchObject({ gas_used: 123n, exports: 3 });
    const zeros = [0, 1, 2].map(() => new Uint8Array(GP_SEGMENT_SIZE));
    expect(f.recorded).toEqual(zeros);
    expect(report.package_spec.exports_count).toBe(3);
    expect(toHex(report.package_spec.exports_root)).toBe(toHex(segmentsRoot(zeros)));
  });

  it('exactly export_count segments: ok, the segments are kept and the availability spec carries their root and count', async () => {
    await putCode();
    await putExtrinsic();
    const segs = [1, 2].map((n) => new Uint8Array(GP_SEGMENT_SIZE).fill(n));
    const f = fixture({ exportCount: 2, guestExports: segs });
    await f.run(0);
    const report = decodeWorkReport(f.reports[0]!.encoded);
    expect(report.results[0]!.result).toEqual({ ok: extrinsic });
    expect(f.recorded).toEqual(segs);
    expect(report.package_spec.exports_count).toBe(2);
    expect(toHex(report.package_spec.exports_root)).toBe(toHex(segmentsRoot(segs)));
  });

  it('GP 0.7.2 I(p, j) order: a run that ends panic, out_of_gas or bad_code exports nothing (Ψ_R), so with export_count > 0 it is bad_exports; with 0 it keeps its result', async () => {
    await putCode();
    await putExtrinsic();
    const segs = [1, 2].map((n) => new Uint8Array(GP_SEGMENT_SIZE).fill(n));
    const zeros = [new Uint8Array(GP_SEGMENT_SIZE), new Uint8Array(GP_SEGMENT_SIZE)];
    for (const guest of [{ panic: null }, { out_of_gas: null }, { bad_code: null }, { code_oversize: null }] as WorkExecResult[]) {
      // segments the guest exported before it trapped are not its exports (GP: e = [] for ∅ and ☇)
      const g = fixture({ exportCount: 2, guestExports: segs, guest });
      await g.run(0);
      const report = decodeWorkReport(g.reports[0]!.encoded);
      expect(report.results[0]!.result).toEqual({ bad_exports: null });
      // u, the gas the run used, is kept (GP: ⟨⊚, u, [G_0 ...]⟩)
      expect(report.results[0]!.refine_load).toMatchObject({ gas_used: 123n, exports: 2 });
      expect(g.recorded).toEqual(zeros);
      const h = fixture({ exportCount: 0, guestExports: segs, guest });
      await h.run(0);
      expect(decodeWorkReport(h.reports[0]!.encoded).results[0]!.result).toEqual(guest);
      expect(h.recorded).toEqual([]);
    }
    // oversize is checked first: an output past W_R stays oversize whatever it exported
    const big = fixture({ exportCount: 2, guestExports: [], guest: { ok: new Uint8Array(GP_MAX_REPORT_OUTPUT_SIZE + 1) } });
    await big.run(0);
    expect(decodeWorkReport(big.reports[0]!.encoded).results[0]!.result).toEqual({ oversize: null });
  });
});
