import { Controller, HttpCode, Param, Req, Res, UseGuards } from '@nestjs/common';
import type { Response } from 'express';
import { stringifyJamJson } from '@jam/domain';
import { MAX_SMALL_BODY_BYTES, ROUTES, attestationBodySchema } from '@jam/http-contract';
import { BearerTokenGuard, type AuthedRequest } from './bearer-token.guard';
import { hashParam, readBody } from './request-params';
import { parseJsonBody } from './json-body';
import { Endpoint } from './endpoint.decorator';
import { AttestationIntakeService } from './attestation-intake.service';

/** Work reports and their attestations (docs/architecture.md section 5); the rules are {@link AttestationIntakeService}'s. */
@Controller()
@UseGuards(BearerTokenGuard)
export class ReportsController {
  constructor(private readonly intake: AttestationIntakeService) {}

  /**
   * An attester's guarantee signature on a stored report: Ed25519 over `jam_guarantee ++ report
   * hash` by a registered attester. 202 `{report_hash, attester_index, status: 'queued'}`; 422
   * `unknown_attester` / `invalid_signature`; 404 unless the caller can see the report's package.
   */
  @Endpoint(ROUTES.submitAttestation)
  @HttpCode(202)
  async attest(@Param('reportHash') raw: string, @Req() req: AuthedRequest) {
    const reportHash = hashParam(raw, 'report_hash');
    const body = parseJsonBody(await readBody(req, MAX_SMALL_BODY_BYTES), attestationBodySchema);
    await this.intake.submit(req, reportHash, body.attester_index, body.signature);
    return { report_hash: reportHash, attester_index: body.attester_index, status: 'queued' };
  }

  /**
   * The package's WorkReport as GP JSON with its attestations and verdict; 404 until some
   * attester has produced a report, and for a package the caller may not see.
   */
  @Endpoint(ROUTES.getReport)
  async get(@Param('packageHash') raw: string, @Req() req: AuthedRequest, @Res() res: Response): Promise<void> {
    const body = await this.intake.report(req, hashParam(raw, 'package_hash'));
    // stringifyJamJson keeps u64 values above 2^53 exact.
    res.status(200).type('application/json').send(stringifyJamJson(body));
  }
}
