import { Controller, Get, HttpCode, Inject, Param, Post, Req, Res, UseGuards } from '@nestjs/common';
import { z } from 'zod';
import type { Response } from 'express';
import { DomainError, decodeWorkReport, fromHex, stringifyJamJson, toHex, workReportToJson } from '@jam/domain';
import { VERIFY_ATTESTATION_JOB } from '@jam/queue-contracts';
import { enqueue } from '@jam/queue';
import { decideVerdict, verifyGuarantee } from '@jam/attest';
import { GATEWAY_DEPS, type GatewayDeps } from './gateway.deps';
import { BearerTokenGuard, type AuthedRequest } from './bearer-token.guard';
import { AccessPolicy } from './access.policy';
import { hashParam, readBody } from './request-params';
import { parseJsonBody } from './json-body';

const attestationBodySchema = z
  .object({
    attester_index: z.number().int().min(0).max(1022),
    signature: z.string().regex(/^0x[0-9a-f]{128}$/, 'must be 0x + 128 lowercase hex digits (64-byte Ed25519 signature)'),
  })
  .strict();

/** Work reports and their attestations (docs/architecture.md section 5). */
@Controller('jam/reports')
@UseGuards(BearerTokenGuard)
export class ReportsController {
  constructor(
    @Inject(GATEWAY_DEPS) private readonly deps: GatewayDeps,
    private readonly access: AccessPolicy,
  ) {}

  /**
   * An attester's guarantee signature on a stored report (docs/architecture.md section 5): Ed25519 over
   * `jam_guarantee ++ report hash` by a registered attester. Checked here so the caller learns at
   * once (422 `unknown_attester` / `invalid_signature`), then handed to the attestation service
   * as the same job a refine worker sends (deduplicated per report and attester), which checks
   * it again, counts it and applies the threshold. 202 `{report_hash, attester_index, status:
   * 'queued'}`. The caller must be able to see the report's package (else 404, as for reads).
   */
  @Post(':reportHash/attestations')
  @HttpCode(202)
  async attest(@Param('reportHash') raw: string, @Req() req: AuthedRequest) {
    const reportHash = hashParam(raw, 'report_hash');
    const body = parseJsonBody(await readBody(req, 4096), attestationBodySchema);
    const report = await this.deps.workReports.get(reportHash);
    if (!report) throw new DomainError('not_found', `no report ${reportHash}`);
    const pkg = await this.access.workPackage(req, report.packageHash).catch(() => {
      throw new DomainError('not_found', `no report ${reportHash}`);
    });
    const attester = (await this.deps.attesters.list()).find((a) => a.index === body.attester_index);
    if (!attester) throw new DomainError('unknown_attester', `attester ${body.attester_index} is not registered`);
    if (!verifyGuarantee(fromHex(attester.publicKey, 32), fromHex(reportHash, 32), fromHex(body.signature, 64))) {
      this.deps.metrics.attestations.inc({ outcome: 'invalid' });
      throw new DomainError('invalid_signature', `signature does not verify under attester ${body.attester_index}'s key over jam_guarantee ++ ${reportHash}`);
    }
    await enqueue(
      this.deps.queue,
      VERIFY_ATTESTATION_JOB,
      { report_hash: reportHash, package_hash: report.packageHash, attester_index: body.attester_index, signature: body.signature },
      { priority: pkg.queuePriority },
    );
    this.deps.logger.info({ reportHash, attesterIndex: body.attester_index, tokenHash: req.tokenHash }, 'external attestation queued');
    return { report_hash: reportHash, attester_index: body.attester_index, status: 'queued' };
  }

  /**
   * The package's WorkReport as GP JSON with its attestations and verdict, and the guest's log
   * lines and trap detail per work item (`guest_log`, unsigned). With conflicting
   * reports, the attested one (or else the most-signed) is shown and `verdict` is `disputed`.
   * 404 until some attester has produced a report, and for a package the caller may not see
   * ({@link AccessPolicy}: submitter, or owner/delegate of one of its services).
   */
  @Get(':packageHash')
  async get(@Param('packageHash') raw: string, @Req() req: AuthedRequest, @Res() res: Response): Promise<void> {
    const packageHash = hashParam(raw, 'package_hash');
    const row = await this.access.workPackage(req, packageHash);
    const tallies = await this.deps.attestations.reportHashesForPackage(packageHash);
    const stored = await this.deps.workReports.listByPackage(packageHash);
    const chosenHash = row.reportHash ?? [...tallies].sort((a, b) => b.signers - a.signers)[0]?.reportHash ?? stored[0]?.reportHash;
    const report = stored.find((r) => r.reportHash === chosenHash);
    if (!report) throw new DomainError('not_found', `package ${packageHash} has no report yet (status ${row.status})`);
    const keys = new Map((await this.deps.attesters.list()).map((a) => [a.index, a.publicKey]));
    const attestations = (await this.deps.attestations.listByReport(report.reportHash)).map((a) => ({
      attester_index: a.attesterIndex,
      public_key: keys.get(a.attesterIndex) ?? null,
      signature: a.signature,
    }));
    const verdict = row.status === 'disputed' ? 'disputed' : decideVerdict(tallies, this.deps.attestationThreshold, this.deps.attesterCount).kind;
    const body = {
      package_hash: packageHash,
      report_hash: report.reportHash,
      report: workReportToJson(decodeWorkReport(report.encoded)),
      // The GP binary encoding E(report): with hash_format 2, report_hash = Blake2b-256 of these bytes (GP 0.7.2 eq. 11.26).
      encoded: toHex(report.encoded),
      hash_format: report.hashFormat,
      engine: JSON.parse(report.engine) as unknown,
      attestations,
      threshold: this.deps.attestationThreshold,
      verdict,
      conflicting_reports: tallies.length > 1 ? tallies.map((t) => ({ report_hash: t.reportHash, signers: t.signers })) : [],
      // beside the report, not part of it: nothing here is signed (docs/service-abi.md, "Guest logs and trap detail")
      guest_log: report.guestLog ?? [],
    };
    res.status(200).type('application/json').send(stringifyJamJson(body));
  }
}
