import { Controller, HttpCode, Param, Query, Req, Res, UseGuards } from '@nestjs/common';
import type { Response } from 'express';
import {
  DomainError,
  GP_MAX_PACKAGE_SIZE,
  decodeWorkPackage,
  encodeWorkPackage,
  parseJamJson,
  stringifyJamJson,
  workPackageFromJson,
  workPackageToJson,
  type WorkPackage,
} from '@jam/domain';
import { MAX_JSON_PACKAGE_BYTES, ROUTES } from '@jam/http-contract';
import { BearerTokenGuard, type AuthedRequest } from './bearer-token.guard';
import { hashParam, readBody } from './request-params';
import { Endpoint } from './endpoint.decorator';
import { packageView } from './api-views';
import { PackageSubmissionService } from './package-submission.service';
import { EVENT_STREAM_RETRY_AFTER_SECONDS, PackageEventsService } from './package-events.service';

export { MAX_EVENT_STREAMS_PER_PRINCIPAL } from './package-events.service';
export { packageView } from './api-views';

/** `dry_run` values: exactly one of these strings, or absent. Anything else is refused, never guessed. */
const DRY_RUN_VALUES: Record<string, boolean> = { true: true, '1': true, false: false, '0': false };

/** Work packages: submission (GP JSON or GP binary), status, retry, status stream (docs/architecture.md section 5). */
@Controller()
@UseGuards(BearerTokenGuard)
export class PackagesController {
  constructor(
    private readonly submission: PackageSubmissionService,
    private readonly streams: PackageEventsService,
  ) {}

  /**
   * Accepts a WorkPackage as GP JSON (`application/json`) or GP binary
   * (`application/octet-stream`). `?dry_run=true`: 200 `{hash, package, problems}`, nothing
   * stored. Otherwise 422 `invalid_package` with the problems, 429 `quota_exceeded` past
   * `max_pending_packages` (or the caller's override set through /admin/quotas), else the row is written, refine jobs enqueued after the commit, and
   * 202 `{hash, status}`; the same package again answers its current status (idempotent).
   * Under `authz_enabled` every work item's service must be owned by or delegated to the caller
   * and every extrinsic readable by it; otherwise the problem reads exactly as for an unknown
   * service or preimage.
   */
  @Endpoint(ROUTES.submitPackage)
  async submit(@Req() req: AuthedRequest, @Res() res: Response, @Query('dry_run') dryRun: unknown): Promise<void> {
    // A repeated (`?dry_run=true&dry_run=true`, an array) or unknown value must not fall through to a real submission.
    if (dryRun !== undefined && (typeof dryRun !== 'string' || !(dryRun in DRY_RUN_VALUES))) {
      throw new DomainError('invalid_request', 'dry_run must be given once, as true, 1, false or 0', { param: 'dry_run' });
    }
    const isDryRun = dryRun !== undefined && DRY_RUN_VALUES[dryRun] === true;
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    let pkg: WorkPackage;
    let encoded: Uint8Array;
    if (type === 'application/octet-stream') {
      encoded = new Uint8Array(await readBody(req, GP_MAX_PACKAGE_SIZE));
      pkg = decodeWorkPackage(encoded);
    } else if (type === 'application/json') {
      const text = (await readBody(req, MAX_JSON_PACKAGE_BYTES)).toString('utf8');
      pkg = workPackageFromJson(parseJamJson(text));
      encoded = encodeWorkPackage(pkg);
    } else {
      throw new DomainError('invalid_request', 'Content-Type must be application/json (GP JSON) or application/octet-stream (GP binary)');
    }
    const checked = await this.submission.check(req, pkg);
    if (isDryRun) {
      // stringifyJamJson keeps u64 values above 2^53 as exact JSON numbers, as the JAM vectors write them.
      res
        .status(200)
        .type('application/json')
        .send(stringifyJamJson({ hash: checked.hash, package: workPackageToJson(pkg), problems: [...checked.problems, ...checked.dependencyProblems] }));
      return;
    }
    res.status(202).json(await this.submission.submit(req, pkg, encoded, checked));
  }

  @Endpoint(ROUTES.getPackage)
  async status(@Param('hash') rawHash: string, @Req() req: AuthedRequest) {
    return packageView(await this.submission.status(req, hashParam(rawHash)));
  }

  /**
   * Retries a failed package whose failure was not a deterministic guest outcome (wall clock,
   * executor, storage over the executor limits: RETRYABLE_FAILURE_CODES), at most
   * `max_package_retries` times; for the owner and delegates of its services (404 for anyone else,
   * as for every read). 202 with the package (`pending` or `attested`, `retries` counted); 409
   * `conflict` unless it is failed, 422 `not_retryable`, 409 `retry_limit_reached`. Every call is
   * written to the audit log (`package.retry`), refused ones too.
   */
  @Endpoint(ROUTES.retryPackage)
  @HttpCode(202)
  async retry(@Param('hash') rawHash: string, @Req() req: AuthedRequest) {
    return packageView(await this.submission.retry(req, hashParam(rawHash), `${req.method} ${req.path}`));
  }

  /**
   * Server-sent events (`text/event-stream`) of the package's status: the current status at once,
   * then each change as it commits (`event: status`, data = the package JSON of GET
   * /jam/packages/{hash}); the server ends the stream at a terminal status (accumulated, failed,
   * disputed). Every notification is checked against the database, which stays the truth; a
   * comment line every 15 s keeps proxies from closing an idle stream.
   */
  @Endpoint(ROUTES.packageEvents)
  async events(@Param('hash') rawHash: string, @Req() req: AuthedRequest, @Res() res: Response): Promise<void> {
    const hash = hashParam(rawHash);
    await this.submission.status(req, hash);
    try {
      this.streams.reserve(req.principal);
    } catch (err) {
      res.setHeader('Retry-After', String(EVENT_STREAM_RETRY_AFTER_SECONDS));
      throw err;
    }
    res.status(200).set({ 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', 'X-Accel-Buffering': 'no' });
    res.flushHeaders();
    let heartbeat: NodeJS.Timeout | undefined;
    const finish = this.streams.follow(req.principal, hash, {
      status: (row) => res.write(`event: status\ndata: ${JSON.stringify(packageView(row))}\n\n`),
      end: () => {
        clearInterval(heartbeat);
        res.end();
      },
    });
    heartbeat = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
    heartbeat.unref();
    req.on('close', finish);
    // The response's own close also frees the stream's slot (a socket reset, or a client gone before the listener above).
    res.on('close', finish);
    if (req.destroyed || res.destroyed) finish();
  }
}
