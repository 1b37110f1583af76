import { Controller, Get, Inject, Param, Req, Res, UseGuards } from '@nestjs/common';
import type { Response } from 'express';
import { DomainError, decodeWorkReport, stringifyJamJson, workReportToJson } from '@jam/domain';
import { decideVerdict } from '@jam/attest';
import { GATEWAY_DEPS, type GatewayDeps } from './gateway.deps';
import { BearerTokenGuard, type AuthedRequest } from './bearer-token.guard';
import { AccessPolicy } from './access.policy';
import { hashParam } from './request-params';

/** Work reports and their attestations (DESIGN.md section 5). */
@Controller('jam/reports')
@UseGuards(BearerTokenGuard)
export class ReportsController {
  constructor(
    @Inject(GATEWAY_DEPS) private readonly deps: GatewayDeps,
    private readonly access: AccessPolicy,
  ) {}

  /**
   * The package's WorkReport as GP JSON with its attestations and verdict. With conflicting
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
      engine: JSON.parse(report.engine) as unknown,
      attestations,
      threshold: this.deps.attestationThreshold,
      verdict,
      conflicting_reports: tallies.length > 1 ? tallies.map((t) => ({ report_hash: t.reportHash, signers: t.signers })) : [],
    };
    res.status(200).type('application/json').send(stringifyJamJson(body));
  }
}
