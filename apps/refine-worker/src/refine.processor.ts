import {
  DomainError,
  blake2b256,
  decodeWorkPackage,
  encodeWorkReport,
  fromHex,
  reportHash as computeReportHash,
  toHex,
  type WorkDigest,
  type WorkPackage,
  type WorkReport,
} from '@jam/domain';
import { parseJobPayload, REFINE_PACKAGE_V1, VERIFY_ATTESTATION_V1, ATTESTATION_QUEUE, attestationJobId } from '@jam/queue-contracts';
import { PermanentJobError, type ConsumedJob, type JobQueue } from '@jam/queue';
import { signGuarantee, type AttesterKey } from '@jam/attest';
import type { BlobStore } from '@jam/blob-store';
import { ENGINE_IDENTITY, type SandboxPool } from '@jam/sandbox';
import type { ServiceRepository, WorkPackageRepository, WorkReportRepository } from '@jam/persistence';
import type { JamMetrics, Logger } from '@jam/telemetry';

/** What the refine processor needs; built by the launcher. */
export interface RefineDeps {
  workPackages: WorkPackageRepository;
  services: ServiceRepository;
  workReports: WorkReportRepository;
  blobs: BlobStore;
  sandbox: SandboxPool;
  queue: JobQueue;
  /** The keys of the attesters this process refines for, by index. */
  keys: ReadonlyMap<number, AttesterKey>;
  metrics: JamMetrics;
  logger: Logger;
}

const ZERO_HASH = new Uint8Array(32);
const FINISHED = new Set(['accumulated', 'failed']);

/**
 * Refines one work package as one attester (DESIGN.md section 6): runs each work item's service
 * `refine` in the sandbox, builds the WorkReport (GP 0.7.2 eq. workreport), stores it by report
 * hash, signs `jam_guarantee ++ report hash` and enqueues the attestation.
 *
 * Idempotent: the same package, code and engine give the same report hash, the report row is
 * upserted by that hash, Ed25519 signatures are deterministic and the attestation job id is
 * derived from (report hash, attester). Transient failures (DB, blob store) throw and retry;
 * a missing package is final.
 */
export class RefineProcessor {
  constructor(private readonly deps: RefineDeps) {}

  async handle(job: ConsumedJob): Promise<void> {
    const { package_hash: packageHash, attester_index: attesterIndex } = parseJobPayload(REFINE_PACKAGE_V1, job.payload);
    const key = this.deps.keys.get(attesterIndex);
    if (!key) throw new PermanentJobError(`this process holds no key for attester ${attesterIndex}`);
    const row = await this.deps.workPackages.get(packageHash);
    if (!row) throw new PermanentJobError(`unknown package ${packageHash}`);
    if (FINISHED.has(row.status)) return;
    await this.deps.workPackages.transition(packageHash, ['pending'], 'refining');

    const encoded = row.encoded;
    const pkg = decodeWorkPackage(encoded);
    const results: WorkDigest[] = [];
    try {
      for (let i = 0; i < pkg.items.length; i++) {
        results.push(await this.refineItem(pkg, i));
      }
    } catch (err) {
      if (!(err instanceof RefineTimeoutError)) throw err;
      await this.deps.workPackages.transition(packageHash, ['pending', 'refining'], 'failed', { errorCode: 'refine_timeout', errorMessage: err.message });
      this.deps.metrics.packages.inc({ status: 'failed' });
      throw new PermanentJobError(err.message);
    }
    const report: WorkReport = {
      package_spec: {
        hash: fromHex(packageHash, 32),
        length: encoded.length,
        // No erasure coding or segment exports in this product yet: both roots are zero (documented in docs/service-abi.md).
        erasure_root: ZERO_HASH,
        exports_root: ZERO_HASH,
        exports_count: 0,
      },
      context: pkg.context,
      core_index: 0,
      // GP 0.7.2: authorizer hash = H(auth code hash ++ authorizer config).
      authorizer_hash: blake2b256(concat(pkg.auth_code_hash, pkg.authorizer_config)),
      auth_gas_used: 0n,
      auth_output: new Uint8Array(0),
      segment_root_lookup: [],
      results,
    };
    const hash = toHex(computeReportHash(report, ENGINE_IDENTITY));
    await this.deps.workReports.insertIfAbsent({
      reportHash: hash,
      packageHash,
      encoded: encodeWorkReport(report),
      engine: JSON.stringify(ENGINE_IDENTITY),
    });
    const signature = signGuarantee(key, fromHex(hash, 32));
    await this.deps.queue.enqueue(
      ATTESTATION_QUEUE,
      VERIFY_ATTESTATION_V1,
      { report_hash: hash, package_hash: packageHash, attester_index: attesterIndex, signature: toHex(signature) },
      { jobId: attestationJobId(hash, attesterIndex) },
    );
    this.deps.logger.info({ packageHash, reportHash: hash, attesterIndex }, 'refined package');
  }

  private async refineItem(pkg: WorkPackage, index: number): Promise<WorkDigest> {
    const item = pkg.items[index]!;
    const base = {
      service_id: item.service,
      code_hash: item.code_hash,
      payload_hash: blake2b256(item.payload),
      accumulate_gas: item.accumulate_gas_limit,
    };
    const load = { imports: item.import_segments.length, extrinsic_count: item.extrinsic.length, extrinsic_size: item.extrinsic.reduce((n, x) => n + x.len, 0), exports: 0 };
    const codeHash = toHex(item.code_hash);
    const service = await this.deps.services.get(item.service);
    // A service that vanished or changed code is a deterministic outcome for every attester: bad_code.
    if (!service || service.codeHash !== codeHash) {
      return { ...base, result: { bad_code: null }, refine_load: { gas_used: 0n, ...load } };
    }
    let code: Uint8Array;
    try {
      code = await this.deps.blobs.getBytes(codeHash);
    } catch (err) {
      if (err instanceof DomainError && err.code === 'not_found') {
        return { ...base, result: { bad_code: null }, refine_load: { gas_used: 0n, ...load } };
      }
      throw err;
    }
    const preimages = new Map<string, Uint8Array>();
    for (const x of item.extrinsic) {
      const h = toHex(x.hash);
      if (!preimages.has(h) && (await this.deps.blobs.has(h))) preimages.set(h, await this.deps.blobs.getBytes(h));
    }
    const outcome = await this.deps.sandbox.refine({
      codeHash,
      code,
      serviceId: item.service,
      itemIndex: index,
      payload: item.payload,
      gasLimit: item.refine_gas_limit,
      preimages,
    });
    if (outcome.timedOut) {
      // A wall-clock kill depends on machine speed, not on the code: never sign a report built on it.
      throw new RefineTimeoutError(`item ${index} (service ${item.service}) hit the sandbox wall-clock limit`);
    }
    this.deps.metrics.gasUsed.inc({ phase: 'refine' }, Number(outcome.gasUsed));
    const kind = Object.keys(outcome.result)[0] ?? 'ok';
    if (kind !== 'ok') this.deps.metrics.sandboxTraps.inc({ phase: 'refine', result: kind });
    return { ...base, result: outcome.result, refine_load: { gas_used: outcome.gasUsed, ...load } };
  }
}

/** The sandbox's wall-clock backstop fired: not a deterministic result, so no report is made. */
class RefineTimeoutError extends Error {}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
