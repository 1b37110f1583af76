import { Inject, Injectable } from '@nestjs/common';
import { DomainError, decodeWorkReport, fromHex, toHex, workReportToJson } from '@jam/domain';
import { VERIFY_ATTESTATION_JOB } from '@jam/queue-contracts';
import { enqueue, type JobQueue } from '@jam/queue';
import { decideVerdict, verifyGuarantee } from '@jam/attest';
import { AttestationRepository, AttesterRepository, WorkReportRepository } from '@jam/persistence';
import { JamMetrics, type Logger } from '@jam/telemetry';
import { AccessPolicy, type Caller } from './access.policy';
import { GatewayLimits, JOB_QUEUE, LOGGER } from './gateway.providers';

/**
 * Work reports and their attestations (docs/architecture.md sections 5-6): external guarantee
 * signatures are checked here and handed to the attestation service as the same job a refine
 * worker sends; report reads show the chosen report, its signatures and the verdict.
 */
@Injectable()
export class AttestationIntakeService {
  constructor(
    private readonly workReports: WorkReportRepository,
    private readonly attesters: AttesterRepository,
    private readonly attestations: AttestationRepository,
    private readonly access: AccessPolicy,
    private readonly limits: GatewayLimits,
    private readonly metrics: JamMetrics,
    @Inject(JOB_QUEUE) private readonly queue: JobQueue,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /**
   * Checks an attester's Ed25519 signature over `jam_guarantee ++ report hash` (GP 0.7.2 section
   * 11.4, docs/architecture.md section 2) and enqueues it for the attestation service
   * (deduplicated per report and attester), which checks it again, counts it and applies the threshold.
   * @param signature 0x hex, 64 bytes
   * @throws DomainError `not_found` (404: no such report, or its package is not visible to the
   *   caller), `unknown_attester` (422), `invalid_signature` (422)
   */
  async submit(caller: Caller, reportHash: string, attesterIndex: number, signature: string): Promise<void> {
    const report = await this.workReports.get(reportHash);
    if (!report) throw new DomainError('not_found', `no report ${reportHash}`);
    const pkg = await this.access.workPackage(caller, report.packageHash).catch(() => {
      throw new DomainError('not_found', `no report ${reportHash}`);
    });
    const attester = (await this.attesters.list()).find((a) => a.index === attesterIndex);
    if (!attester) throw new DomainError('unknown_attester', `attester ${attesterIndex} is not registered`);
    if (!verifyGuarantee(fromHex(attester.publicKey, 32), fromHex(reportHash, 32), fromHex(signature, 64))) {
      this.metrics.attestations.inc({ outcome: 'invalid' });
      throw new DomainError('invalid_signature', `signature does not verify under attester ${attesterIndex}'s key over jam_guarantee ++ ${reportHash}`);
    }
    await enqueue(
      this.queue,
      VERIFY_ATTESTATION_JOB,
      { report_hash: reportHash, package_hash: report.packageHash, attester_index: attesterIndex, signature },
      { priority: pkg.queuePriority },
    );
    this.logger.info({ reportHash, attesterIndex, tokenHash: caller.tokenHash }, 'external attestation queued');
  }

  /**
   * The package's WorkReport as GP JSON with its attestations and verdict (the `reportInfoSchema`
   * shape). With conflicting reports, the attested one (or else the most-signed) is shown and
   * `verdict` is `disputed`.
   * @throws DomainError('not_found') until some attester has produced a report, and for a package
   *   the caller may not see
   */
  async report(caller: Caller, packageHash: string) {
    const row = await this.access.workPackage(caller, packageHash);
    const tallies = await this.attestations.reportHashesForPackage(packageHash);
    const stored = await this.workReports.listByPackage(packageHash);
    const chosenHash = row.reportHash ?? [...tallies].sort((a, b) => b.signers - a.signers)[0]?.reportHash ?? stored[0]?.reportHash;
    const report = stored.find((r) => r.reportHash === chosenHash);
    if (!report) throw new DomainError('not_found', `package ${packageHash} has no report yet (status ${row.status})`);
    const keys = new Map((await this.attesters.list()).map((a) => [a.index, a.publicKey]));
    const attestations = (await this.attestations.listByReport(report.reportHash)).map((a) => ({
      attester_index: a.attesterIndex,
      public_key: keys.get(a.attesterIndex) ?? null,
      signature: a.signature,
    }));
    const verdict = row.status === 'disputed' ? 'disputed' : decideVerdict(tallies, this.limits.attestationThreshold, this.limits.attesterCount).kind;
    return {
      package_hash: packageHash,
      report_hash: report.reportHash,
      report: workReportToJson(decodeWorkReport(report.encoded)),
      // The GP binary encoding E(report): with hash_format 2, report_hash = Blake2b-256 of these bytes (GP 0.7.2 eq. 11.26).
      encoded: toHex(report.encoded),
      hash_format: report.hashFormat,
      engine: JSON.parse(report.engine) as unknown,
      attestations,
      threshold: this.limits.attestationThreshold,
      verdict,
      conflicting_reports: tallies.length > 1 ? tallies.map((t) => ({ report_hash: t.reportHash, signers: t.signers })) : [],
      // beside the report, not part of it: nothing here is signed (docs/service-abi.md, "Guest logs and trap detail")
      guest_log: report.guestLog ?? [],
    };
  }
}
