import { Controller, Get, HttpCode, Inject, Param, Post, Query, Req, Res, UseGuards } from '@nestjs/common';
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
  isTerminalPackageStatus,
  type WorkPackage,
} from '@jam/domain';
import type { WorkPackageSummary } from '@jam/persistence';
import { GATEWAY_DEPS, type GatewayDeps } from './gateway.deps';
import { BearerTokenGuard, type AuthedRequest } from './bearer-token.guard';
import { hashParam, readBody } from './request-params';
import { AccessPolicy } from './access.policy';
import { retryFailedPackage } from './package-retry';
import { submitWorkPackage } from './submit-work-package';

/**
 * Concurrent status streams (GET /jam/packages/{hash}/events) one principal may hold open on one
 * gateway process. A stream of an unfinished package stays open indefinitely and every status
 * change costs each open stream a database read, so without a cap the per-minute rate limit
 * alone lets one token pile up streams without bound (connections, memory, DB reads).
 */
export const MAX_EVENT_STREAMS_PER_PRINCIPAL = 32;

/** `dry_run` values: exactly one of these strings, or absent. Anything else is refused, never guessed. */
const DRY_RUN_VALUES: Record<string, boolean> = { true: true, '1': true, false: false, '0': false };

/** JSON bodies carry bytes as hex: twice the binary cap plus room for the field names. */
const MAX_JSON_PACKAGE_BYTES = 2 * GP_MAX_PACKAGE_SIZE + 64 * 1024;

/** Package JSON as served by the API. */
export function packageView(p: WorkPackageSummary) {
  return {
    hash: p.hash,
    status: p.status,
    service_ids: p.serviceIds,
    report_hash: p.reportHash ?? null,
    error: p.errorCode ? { code: p.errorCode, message: p.errorMessage ?? '' } : null,
    created_at: p.createdAt,
    updated_at: p.updatedAt,
    accumulated_at: p.accumulatedAt ?? null,
    retries: p.retries,
  };
}

/** Work packages: submission (GP JSON or GP binary), status (docs/architecture.md section 5). */
@Controller('jam/packages')
@UseGuards(BearerTokenGuard)
export class PackagesController {
  /** Open status streams per principal on this process (see MAX_EVENT_STREAMS_PER_PRINCIPAL). */
  private readonly openStreams = new Map<string, number>();

  constructor(
    @Inject(GATEWAY_DEPS) private readonly deps: GatewayDeps,
    private readonly access: AccessPolicy,
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
  @Post()
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
    const outcome = await submitWorkPackage(this.deps, this.access, req, pkg, encoded, { dryRun: isDryRun });
    if (outcome.kind === 'dry_run') {
      // stringifyJamJson keeps u64 values above 2^53 as exact JSON numbers, as the JAM vectors write them.
      res
        .status(200)
        .type('application/json')
        .send(stringifyJamJson({ hash: outcome.hash, package: workPackageToJson(pkg), problems: outcome.problems }));
      return;
    }
    res.status(202).json({ hash: outcome.hash, status: outcome.status });
  }

  @Get(':hash')
  async status(@Param('hash') rawHash: string, @Req() req: AuthedRequest) {
    return packageView(await this.access.workPackage(req, hashParam(rawHash)));
  }

  /**
   * Retries a failed package whose failure was not a deterministic guest outcome (wall clock,
   * executor, storage over the executor limits: RETRYABLE_FAILURE_CODES), at most
   * `max_package_retries` times; for the owner and delegates of its services (404 for anyone else,
   * as for every read). 202 with the package (`pending` or `attested`, `retries` counted); 409
   * `conflict` unless it is failed, 422 `not_retryable`, 409 `retry_limit_reached`. Every call is
   * written to the audit log (`package.retry`), refused ones too.
   */
  @Post(':hash/retry')
  @HttpCode(202)
  async retry(@Param('hash') rawHash: string, @Req() req: AuthedRequest) {
    const hash = hashParam(rawHash);
    await this.access.workPackage(req, hash);
    const audit = (outcome: string, details: Record<string, string | number | null>) =>
      this.deps.auditLog.append({
        actorTokenHash: req.tokenDigest === null ? null : `0x${req.tokenDigest}`,
        action: 'package.retry',
        target: `${req.method} ${req.path}`,
        outcome,
        details: { principal: req.principal, ...details },
      });
    let row: WorkPackageSummary;
    try {
      row = await retryFailedPackage(this.deps, hash);
    } catch (err) {
      await audit('failure', { error: err instanceof DomainError ? err.code : 'internal' });
      throw err;
    }
    await audit('success', { status: row.status, retries: row.retries });
    return packageView(row);
  }

  /**
   * Server-sent events (`text/event-stream`) of the package's status: the current status at once,
   * then each change as it commits (`event: status`, data = the package JSON of GET
   * /jam/packages/{hash}); the server ends the stream at a terminal status (accumulated, failed,
   * disputed). Every notification is checked against the database, which stays the truth; a
   * comment line every 15 s keeps proxies from closing an idle stream.
   */
  @Get(':hash/events')
  async events(@Param('hash') rawHash: string, @Req() req: AuthedRequest, @Res() res: Response): Promise<void> {
    const hash = hashParam(rawHash);
    await this.access.workPackage(req, hash);
    const open = this.openStreams.get(req.principal) ?? 0;
    if (open >= MAX_EVENT_STREAMS_PER_PRINCIPAL) {
      this.deps.metrics.rateLimited.inc({ scope: 'event_streams' });
      res.setHeader('Retry-After', '5');
      throw new DomainError('rate_limited', `at most ${MAX_EVENT_STREAMS_PER_PRINCIPAL} status streams may be open at once; close one first`, {
        scope: 'event_streams',
        limit: MAX_EVENT_STREAMS_PER_PRINCIPAL,
      });
    }
    this.openStreams.set(req.principal, open + 1);
    res.status(200).set({ 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', 'X-Accel-Buffering': 'no' });
    res.flushHeaders();
    let last: string | undefined;
    let ended = false;
    let checking = Promise.resolve();
    const finish = () => {
      if (ended) return;
      ended = true;
      const left = (this.openStreams.get(req.principal) ?? 1) - 1;
      if (left > 0) this.openStreams.set(req.principal, left);
      else this.openStreams.delete(req.principal);
      off();
      clearInterval(heartbeat);
      res.end();
    };
    const check = () => {
      checking = checking
        .then(async () => {
          if (ended) return;
          const row = await this.deps.workPackages.get(hash);
          if (!row || row.status === last) return;
          last = row.status;
          res.write(`event: status\ndata: ${JSON.stringify(packageView(row))}\n\n`);
          if (isTerminalPackageStatus(row.status)) finish();
        })
        .catch((err: unknown) => {
          this.deps.logger.warn({ err, hash }, 'status stream failed');
          finish();
        });
    };
    // Subscribe before the first read so no change between the two is missed.
    const off = this.deps.events.subscribe((e) => {
      if (e.package_hash === hash) check();
    });
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
    heartbeat.unref();
    req.on('close', finish);
    // The response's own close also frees the stream's slot (a socket reset, or a client gone before the listener above).
    res.on('close', finish);
    if (req.destroyed || res.destroyed) finish();
    check();
  }
}
