import {
  PACKAGE_TRANSITIONS as T,
  isFinishedPackageStatus,
  type PackageFailureCode,
  blake2b256,
  decodeWorkPackage,
  GP_MAX_REPORT_OUTPUT_SIZE,
  GP_SEGMENT_SIZE,
  segmentAddress,
  segmentsRoot,
  type ImportSpec,
  encodeWorkReport,
  engineAuthOutput,
  fromHex,
  reportHash as computeReportHash,
  REPORT_HASH_FORMAT,
  toHex,
  type WorkDigest,
  type WorkExecResult,
  type EngineIdentity,
  type WorkPackage,
  type WorkReport,
} from '@jam/domain';
import { parseJobPayload, REFINE_PACKAGE_V1, VERIFY_ATTESTATION_JOB } from '@jam/queue-contracts';
import { PermanentJobError, enqueue, type ConsumedJob, type JobQueue } from '@jam/queue';
import { signGuarantee, thresholdReachable, type AttesterKey } from '@jam/attest';
import { BlobCache, BlobUnavailableError, type BlobStore } from '@jam/blob-store';
import { detectCodeFormat, ENGINE_IDENTITY, PVM_ENGINE_IDENTITY, reportEngineIdentity, sandboxFailureKind, type SandboxPool } from '@jam/sandbox';
import type {
  GuestLogEntry,
  ExportedSegmentRepository,
  RefineAttemptRecord,
  RefineAttemptRepository,
  RefineFailureKind,
  ServiceRepository,
  WorkPackageRepository,
  WorkReportRepository,
} from '@jam/persistence';
import type { JamMetrics, Logger } from '@jam/telemetry';

/** What the refine processor needs; built by the refine-worker role (refine-worker.role.ts). */
export interface RefineDeps {
  workPackages: WorkPackageRepository;
  services: ServiceRepository;
  workReports: WorkReportRepository;
  /** Where the report's exported segments are kept and imported segments are read. */
  exportedSegments: ExportedSegmentRepository;
  blobs: BlobStore;
  /** Service code by code hash in front of `blobs` (immutable by hash); default: a {@link BlobCache} of its default size. */
  codeCache?: BlobCache;
  sandbox: SandboxPool;
  queue: JobQueue;
  /** The keys of the attesters this process refines for, by index. */
  keys: ReadonlyMap<number, AttesterKey>;
  metrics: JamMetrics;
  logger: Logger;
  /** Sandbox failures that are not guest results, counted per (package, attester). */
  refineAttempts: RefineAttemptRepository;
  /** Such failures one attester may have on one package before it gives up on it (`max_sandbox_failures`, >= 1). */
  maxSandboxFailures: number;
  /** n: size of the attester set (`attesters`). */
  attesterCount: number;
  /** t: `attestation_threshold`: the package fails once fewer than t attesters can still sign it. */
  threshold: number;
}

const ZERO_HASH = new Uint8Array(32);

/**
 * Refines one work package as one attester (docs/architecture.md section 6): runs each work item's service
 * `refine` in the sandbox, builds the WorkReport (GP 0.7.2 eq. workreport), stores it by report
 * hash, signs `jam_guarantee ++ report hash` and enqueues the attestation.
 *
 * Idempotent: the same package, code and engine give the same report hash, the report row is
 * upserted by that hash, Ed25519 signatures are deterministic and the attestation job id is
 * derived from (report hash, attester). Transient failures (database, queue) throw and retry;
 * a missing package is final.
 *
 * Only what the code and its inputs decide is signed (ok, out_of_gas, panic, oversize, and
 * bad_code / bad_exports / code_oversize from the validator). A run without a guest result never
 * gets signed, because it depends on the machine, not only on the code: the wall clock killed the
 * run, the executor crashed, was killed or reported an engine fault, or a blob the run needs (the
 * service's code, an extrinsic preimage: both are in the database, so every attester must see
 * them) could not be read from the blob store (missing, corrupted, store error). Each is counted
 * in `refine_attempt` per (package, attester) and retried; at `maxSandboxFailures` this attester
 * gives up on the package (and skips it from then on). The package fails ({@link refineFailureCode})
 * only once the attesters that have not given up are fewer than the threshold, so one attester's
 * sick machine or lagging store cannot fail a package the others can attest.
 */
export class RefineProcessor {
  private readonly code: BlobCache;

  constructor(private readonly deps: RefineDeps) {
    this.code = deps.codeCache ?? new BlobCache(deps.blobs);
  }

  async handle(job: ConsumedJob): Promise<void> {
    const { package_hash: packageHash, attester_index: attesterIndex } = parseJobPayload(REFINE_PACKAGE_V1, job.payload);
    const key = this.deps.keys.get(attesterIndex);
    if (!key) throw new PermanentJobError(`this process holds no key for attester ${attesterIndex}`);
    // the package and this attester's failure count in one statement
    const read = await this.deps.workPackages.getForAttester(packageHash, attesterIndex);
    if (!read) throw new PermanentJobError(`unknown package ${packageHash}`);
    const { row, attempt, serviceCodeHashes } = read;
    if (isFinishedPackageStatus(row.status)) return;
    if (attempt?.exhausted) {
      // This attester gave up on the package. Re-check the verdict: the process may have died
      // between counting the last failure and failing the package.
      await this.failIfUnreachable(packageHash, await this.deps.refineAttempts.unableToSign(packageHash, this.deps.attesterCount));
      this.deps.logger.info(
        { packageHash, attesterIndex, failures: attempt.failures },
        'attester gave up on this package (max_sandbox_failures); not refining it again',
      );
      return;
    }
    // Compare-and-set only when the row read above can still move (the first attester's job does;
    // statuses never go back to `pending` but by a retry, which enqueues new jobs): one UPDATE per package, not one per attester.
    if ((T.startRefine.from as readonly string[]).includes(row.status))
      await this.deps.workPackages.transition(packageHash, T.startRefine.from, T.startRefine.to);

    const encoded = row.encoded;
    const pkg = decodeWorkPackage(encoded);
    // W_R budget (below) reserves the longest auth_output a report can carry (both engines' identity),
    // so every attester computes the same budget before knowing which engines the items run on.
    const reservedAuthOutput = engineAuthOutput(reportEngineIdentity([ENGINE_IDENTITY, PVM_ENGINE_IDENTITY]));
    const results: WorkDigest[] = [];
    // the engines that ran the items: auth_output carries their identity, so the report hash binds it (docs/architecture.md section 6)
    const engines: EngineIdentity[] = [];
    // Kept beside the report, not in it: the attesters sign only the report (docs/service-abi.md, "Guest logs and trap detail").
    const guestLog: GuestLogEntry[] = [];
    const exported: Uint8Array[] = [];
    const segmentRootLookup = new Map<string, string>();
    try {
      // GP 0.7.2 eq. 11.8 / 14.x: auth_output and every item's output share W_R bytes.
      let outputBudget = GP_MAX_REPORT_OUTPUT_SIZE - reservedAuthOutput.length;
      for (let i = 0; i < pkg.items.length; i++) {
        const { digest, exports } = await this.refineItem(pkg, i, row.queuePriority, {
          packageHash,
          encoded,
          engines,
          guestLog,
          outputBudget,
          segmentRootLookup,
          serviceCodeHashes,
        });
        if ('ok' in digest.result) outputBudget -= digest.result.ok.length;
        results.push(digest);
        exported.push(...exports);
      }
    } catch (err) {
      const kind = refineFailureKind(err);
      if (kind === undefined) throw err;
      await this.countFailure(packageHash, attesterIndex, kind, err as Error);
    }
    const exportsRoot = segmentsRoot(exported);
    const engine = reportEngineIdentity(engines);
    const report: WorkReport = {
      package_spec: {
        hash: fromHex(packageHash, 32),
        length: encoded.length,
        // No erasure coding in this product: the erasure root stays zero (docs/service-abi.md).
        erasure_root: ZERO_HASH,
        // GP 0.7.2 appendix E eq. E.4: constant-depth Merkle root of every exported segment, in order.
        exports_root: exportsRoot,
        exports_count: exported.length,
      },
      context: pkg.context,
      core_index: 0,
      // GP 0.7.2: authorizer hash = H(auth code hash ++ authorizer config).
      authorizer_hash: blake2b256(concat(pkg.auth_code_hash, pkg.authorizer_config)),
      auth_gas_used: 0n,
      // The engine identity, so reports of different engines or cost tables differ (report-hash.ts).
      auth_output: engineAuthOutput(engine),
      // GP 0.7.2: a dictionary, ordered by package hash.
      segment_root_lookup: [...segmentRootLookup.entries()]
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([p, r]) => ({ work_package_hash: fromHex(p, 32), segment_tree_root: fromHex(r, 32) })),
      results,
    };
    // GP 0.7.2 eq. 11.26: attesters sign H(E(report)).
    const hash = toHex(computeReportHash(report));
    await this.deps.workReports.insertIfAbsent({
      reportHash: hash,
      packageHash,
      encoded: encodeWorkReport(report),
      engine: JSON.stringify(engine),
      guestLog,
      hashFormat: REPORT_HASH_FORMAT.gp,
    });
    await this.deps.exportedSegments.record({ packageHash, reportHash: hash, segmentsRoot: toHex(exportsRoot), segments: exported });
    const signature = signGuarantee(key, fromHex(hash, 32));
    await enqueue(
      this.deps.queue,
      VERIFY_ATTESTATION_JOB,
      { report_hash: hash, package_hash: packageHash, attester_index: attesterIndex, signature: toHex(signature) },
      { priority: row.queuePriority },
    );
    this.deps.logger.info({ packageHash, reportHash: hash, attesterIndex }, 'refined package');
  }

  /**
   * Counts a sandbox failure durably; below the bound rethrows `err` (the job retries). At the
   * bound this attester gives up: fails the package if the threshold is now out of reach.
   * @throws always: `err` to retry, PermanentJobError once this attester gave up
   */
  private async countFailure(packageHash: string, attesterIndex: number, kind: RefineFailureKind, err: Error): Promise<never> {
    const { deps } = this;
    const counted = await deps.refineAttempts.recordFailure({
      packageHash,
      attesterIndex,
      kind,
      maxFailures: deps.maxSandboxFailures,
      attesterCount: deps.attesterCount,
      error: err.message,
    });
    if (counted === null) throw new PermanentJobError(`unknown package ${packageHash}`);
    if (!counted.exhausted) {
      deps.metrics.sandboxFailures.inc({ phase: 'refine', kind, outcome: 'retry' });
      deps.logger.warn(
        { packageHash, attesterIndex, kind, error: err.message, failures: counted.failures, max: deps.maxSandboxFailures },
        `refine ended without a guest result (${FAILURE_WORDS[kind]}); retrying`,
      );
      throw err;
    }
    if (counted.exhaustedNow) {
      deps.metrics.sandboxFailures.inc({ phase: 'refine', kind, outcome: 'final' });
      deps.metrics.sandboxTraps.inc({ phase: 'refine', result: kind === 'wall_clock' ? 'timed_out' : kind === 'blob' ? 'blob_unavailable' : 'sandbox_failed' });
      deps.logger.error(
        { packageHash, attesterIndex, kind, error: err.message, failures: counted.failures },
        'refine ended without a guest result max_sandbox_failures times; this attester gives up on the package',
      );
    }
    await this.failIfUnreachable(packageHash, counted.unableToSign);
    throw new PermanentJobError(`attester ${attesterIndex} gave up on package ${packageHash} after ${counted.failures} sandbox failures: ${err.message}`);
  }

  /**
   * Fails the package when the attesters that gave up on it (`unable`, none of which signed it)
   * leave fewer than the threshold able to sign. @returns true when the package is failed by this call
   */
  private async failIfUnreachable(packageHash: string, unable: readonly RefineAttemptRecord[]): Promise<boolean> {
    const { deps } = this;
    if (thresholdReachable(deps.threshold, deps.attesterCount, unable.length)) return false;
    const errorCode = refineFailureCode(unable);
    const errorMessage =
      `fewer than ${deps.threshold} of ${deps.attesterCount} attesters can still sign: ` +
      unable
        .map(
          (r) =>
            `attester ${r.attesterIndex} gave up after ${r.failures} sandbox failures (${r.wallClockFailures} wall clock), last: ${r.lastError ?? r.lastKind}`,
        )
        .join('; ');
    if (!(await deps.workPackages.transition(packageHash, T.failRefine.from, T.failRefine.to, { errorCode, errorMessage }))) return false;
    deps.metrics.packages.inc({ status: 'failed' });
    deps.logger.error(
      { packageHash, errorCode, gaveUp: unable.map((r) => r.attesterIndex) },
      'package failed in refine: too many attesters gave up after sandbox failures',
    );
    return true;
  }

  /**
   * Refines work item `index` (GP 0.7.2 section 14.4, the item's share of Ξ).
   * @param priority the package's fair-share priority, which orders the call in the executor pool's queue
   * @param acc.packageHash the package's hash (0x hex), part of a PVM service's refine arguments
   * @param acc.encoded the encoded package (GP E(p)), which a PVM service's `fetch` reads
   * @param acc.engines receives the identity of the engine that ran the item, if one did
   * @param acc.guestLog gets the item's log lines and trap detail when the guest ran
   * @param acc.outputBudget bytes of GP W_R left for this item's output after auth_output and earlier outputs
   * @param acc.segmentRootLookup filled with package hash -> segments root of imports in package-hash form
   * @param acc.serviceCodeHashes code hash (`0x` hex) of each registered service the package names, read with the package
   * @returns the digest and the item's exports: exactly `export_count` segments of W_G bytes; when the
   *   result is not `ok` (or the guest exported a different number, which makes it `bad_exports`)
   *   they are `export_count` zero segments, as GP 0.7.2 eq. 14.x pads them.
   * @throws BlobUnavailableError when the code, an extrinsic or an imported segment cannot be read
   */
  private async refineItem(
    pkg: WorkPackage,
    index: number,
    priority: number,
    acc: {
      packageHash: string;
      encoded: Uint8Array;
      engines: EngineIdentity[];
      guestLog: GuestLogEntry[];
      outputBudget: number;
      segmentRootLookup: Map<string, string>;
      serviceCodeHashes: ReadonlyMap<number, string>;
    },
  ): Promise<{ digest: WorkDigest; exports: Uint8Array[] }> {
    const { packageHash, encoded, engines, guestLog, outputBudget, segmentRootLookup, serviceCodeHashes } = acc;
    const item = pkg.items[index]!;
    const base = {
      service_id: item.service,
      code_hash: item.code_hash,
      payload_hash: blake2b256(item.payload),
      accumulate_gas: item.accumulate_gas_limit,
    };
    const load = {
      imports: item.import_segments.length,
      extrinsic_count: item.extrinsic.length,
      extrinsic_size: item.extrinsic.reduce((n, x) => n + x.len, 0),
      exports: item.export_count,
    };
    const zeroExports = (): Uint8Array[] => Array.from({ length: item.export_count }, () => new Uint8Array(GP_SEGMENT_SIZE));
    const codeHash = toHex(item.code_hash);
    // Read with the package (`getForAttester`); an item's service is always among the package's
    // `service_ids` (the gateway derives them from the items), the read below is for a row that is not.
    const serviceCodeHash = serviceCodeHashes.has(item.service) ? serviceCodeHashes.get(item.service) : (await this.deps.services.get(item.service))?.codeHash;
    // A service that vanished or changed code is a deterministic outcome for every attester: bad_code.
    if (serviceCodeHash === undefined || serviceCodeHash !== codeHash) {
      const result = itemResult({ bad_code: null }, [], item.export_count, outputBudget);
      return { digest: { ...base, result, refine_load: { gas_used: 0n, ...load } }, exports: zeroExports() };
    }
    // The service row names this code and the gateway accepted the package only with every
    // extrinsic stored (the package pins them against the GC): a blob the store cannot give is
    // the store's state (lagging, restored from backup, corrupted, unreachable), never the guest's
    // input. Not bad_code, not a lookup answering NONE: BlobUnavailableError, counted and retried.
    const code = await this.code.read(codeHash, `code of service ${item.service}`);
    const preimages = new Map<string, Uint8Array>();
    for (let j = 0; j < item.extrinsic.length; j++) {
      const h = toHex(item.extrinsic[j]!.hash);
      if (!preimages.has(h)) preimages.set(h, await BlobUnavailableError.read(this.deps.blobs, h, `extrinsic ${j} of item ${index}`));
    }
    const imports = await readImports(this.deps.exportedSegments, item.import_segments, index, segmentRootLookup);
    const exportOffset = pkg.items.slice(0, index).reduce((n, it) => n + it.export_count, 0);
    const outcome = await this.deps.sandbox.refine(
      {
        codeHash,
        code,
        serviceId: item.service,
        itemIndex: index,
        payload: item.payload,
        gasLimit: item.refine_gas_limit,
        preimages,
        packageHash,
        imports,
        exportOffset,
        // PVM `fetch` reads the package and its parts from it (GP 0.7.2 appendix B, selectors 7-13); Wasm code never does
        workPackage: detectCodeFormat(code) === 'jam-pvm' ? encoded : undefined,
      },
      { priority },
    );
    if (outcome.timedOut) {
      // A wall-clock kill depends on machine speed, not on the code: never sign a report built on it.
      throw new RefineTimeoutError(`item ${index} (service ${item.service}) hit the sandbox wall-clock limit`);
    }
    if (outcome.engine) engines.push(outcome.engine);
    guestLog.push({ item_index: index, service_id: item.service, logs: outcome.logs, trap: outcome.trap ?? null });
    this.deps.metrics.gasUsed.inc({ phase: 'refine' }, Number(outcome.gasUsed));
    const exported = outcome.exports ?? [];
    const result = itemResult(outcome.result, exported, item.export_count, outputBudget);
    const kind = Object.keys(result)[0] ?? 'ok';
    if (kind !== 'ok') this.deps.metrics.sandboxTraps.inc({ phase: 'refine', result: kind });
    return {
      digest: { ...base, result, refine_load: { gas_used: outcome.gasUsed, ...load } },
      exports: 'ok' in result ? exported : zeroExports(),
    };
  }
}

/**
 * The result GP 0.7.2 section 14.4 gives a work item (I(p, j) in Ξ, eq. workdigestfunction),
 * from the run's result and the segments it exported, in GP's order: an `ok` output longer than
 * `outputBudget` (what is left of W_R) is `oversize`; otherwise, when the run's exports e are not
 * exactly `exportCount` segments, `bad_exports`; otherwise the run's result. Ψ_R exports nothing
 * (e = []) for out-of-gas and panic, and for BAD/BIG code, so such a run of an item declaring
 * exports is `bad_exports`, and segments a guest exported before it trapped never count. The gas
 * used is the run's in every case (the caller keeps it). The exports the report accounts for are
 * the run's when the result is `ok`, else `exportCount` zero segments.
 */
export function itemResult(run: WorkExecResult, exported: readonly Uint8Array[], exportCount: number, outputBudget: number): WorkExecResult {
  if ('ok' in run && run.ok.length > outputBudget) return { oversize: null };
  if ('oversize' in run) return run;
  const e = 'ok' in run ? exported.length : 0;
  if (e !== exportCount) return { bad_exports: null };
  return run;
}

/**
 * The segments a work item imports, read from the segments this system holds (GP 0.7.2
 * ImportSpec: a segments root, or a work package hash when the index has bit 15 set, the
 * GP's boxed package-hash form). The gateway refused the package at submission unless every one
 * was held; one missing now (its exporter was deleted by retention) is the store's state, not the
 * guest's input: BlobUnavailableError, counted and retried like a missing extrinsic.
 */
async function readImports(
  segments: ExportedSegmentRepository,
  specs: readonly ImportSpec[],
  itemIndex: number,
  lookup: Map<string, string>,
): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for (let k = 0; k < specs.length; k++) {
    const address = segmentAddress(specs[k]!);
    const held = await segments.getHeld(address);
    if (held === null) {
      const what = `imported segment ${k} of item ${itemIndex} (${address.kind} ${address.root} index ${address.index})`;
      throw new BlobUnavailableError(address.root, what, new Error('not held'));
    }
    // GP 0.7.2 eq. workreport `l`: the segment-root lookup maps each package hash imported from to its segments root.
    if (address.kind === 'package_hash') lookup.set(held.packageHash, held.segmentsRoot);
    out.push(held.data);
  }
  return out;
}

/** The sandbox's wall-clock backstop fired: not a deterministic result, so no report is made. */
class RefineTimeoutError extends Error {
  override name = 'RefineTimeoutError';
}

/** Words for each kind in logs. */
const FAILURE_WORDS: Record<RefineFailureKind, string> = {
  wall_clock: 'sandbox wall clock',
  executor: 'sandbox executor failure',
  blob: 'a blob it needs could not be read',
};

/**
 * Which failure without a guest result `err` (thrown while refining a package) is, or undefined
 * when it is none of them (a database or queue error: transient, retried without counting).
 * @returns `wall_clock` (RefineTimeoutError), `executor` (SandboxExecutorError), `blob` (BlobUnavailableError)
 */
export function refineFailureKind(err: unknown): RefineFailureKind | undefined {
  if (err instanceof RefineTimeoutError) return 'wall_clock';
  if (BlobUnavailableError.is(err)) return 'blob';
  return sandboxFailureKind(err);
}

/** Package error codes of a package failed because too many attesters gave up on it (docs/service-abi.md). */
export type RefineFailureCode = Extract<PackageFailureCode, 'refine_timeout' | 'refine_blob_unavailable' | 'refine_sandbox_failure'>;

/**
 * Error code of a package failed because too many attesters gave up on it: `refine_timeout` when
 * each of them was last stopped by the sandbox wall clock, `refine_blob_unavailable` when each of
 * them last could not read a blob the run needs (code or extrinsic), else `refine_sandbox_failure`
 * (an executor crashed or reported an engine fault, or the last kinds differ).
 */
export function refineFailureCode(gaveUp: readonly Pick<RefineAttemptRecord, 'lastKind'>[]): RefineFailureCode {
  if (gaveUp.length > 0 && gaveUp.every((r) => r.lastKind === 'wall_clock')) return 'refine_timeout';
  if (gaveUp.length > 0 && gaveUp.every((r) => r.lastKind === 'blob')) return 'refine_blob_unavailable';
  return 'refine_sandbox_failure';
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
