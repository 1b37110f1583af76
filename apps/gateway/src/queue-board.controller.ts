import { ApiExcludeController } from '@nestjs/swagger';
import type { IncomingMessage } from 'node:http';
import { Controller, Get, Inject, Injectable, Req, Res, UseGuards } from '@nestjs/common';
import type { Request, Response } from 'express';
import type { Queue } from 'bullmq';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { DomainError } from '@jam/domain';
import { GATEWAY_DEPS, type GatewayDeps } from './gateway.deps';
import { AdminTokenGuard } from './admin-token.guard';
import type { AuthedRequest } from './bearer-token.guard';
import { ClientAddressPolicy } from './client-address';
import type { BearerResult } from './bearer-authenticator';
import type { TokenMatch } from './token-digest.verifier';
import { createBoardAuthenticator } from './board-authenticator';
import { ADMIN_ROUTE_PREFIX } from './admin.controller';

/**
 * Path of the queue board. WARNING: operators' bookmarks, firewall and ingress rules name it, and
 * the board's pages link their scripts and API calls under it.
 */
export const QUEUE_BOARD_PATH = `${ADMIN_ROUTE_PREFIX}/queues`;

/**
 * {@link AdminTokenGuard} for the queue board: the same admin IP allowlist (403), query-token
 * refusal (400), admin tokens and audit of every refusal; the token may also come as the
 * password of HTTP Basic, and a 401 challenges for both schemes so a browser asks for it.
 */
@Injectable()
export class QueueBoardGuard extends AdminTokenGuard {
  protected override authenticator(verify: (token: string) => TokenMatch | null): (req: IncomingMessage) => BearerResult {
    return createBoardAuthenticator(verify);
  }

  protected override missingCredentialMessage(): string {
    return 'the queue board needs an admin token: as the password of HTTP Basic (a browser asks for it) or as Authorization: Bearer <token>';
  }

  protected override challenge(reason: Exclude<BearerResult, { ok: true }>['reason']): string[] {
    // Bearer first, as on every admin route; browsers skip the scheme they lack and ask for Basic.
    return [super.challenge(reason) as string, 'Basic realm="jam-queue-board", charset="UTF-8"'];
  }
}

/** An Express app as a request handler; `next` is called when it has no answer. */
type BoardHandler = (req: Request, res: Response, next: (err?: unknown) => void) => void;

/** An Express app serving Bull Board for `queues` under {@link QUEUE_BOARD_PATH}, read-only. */
function boardApp(queues: readonly Queue[]): BoardHandler {
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(QUEUE_BOARD_PATH);
  createBullBoard({
    queues: queues.map((q) => new BullMQAdapter(q, { readOnlyMode: true, allowRetries: false })),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'JAM queues', hideDocsLink: true } },
  });
  const app = serverAdapter.getRouter() as BoardHandler & { disable(setting: string): unknown };
  app.disable('x-powered-by');
  return app;
}

/**
 * The operators' queue board (Bull Board) at `/admin/queues`: the BullMQ queues (refine-a<i>, refine-express-a<i>,
 * attestation, accumulate, janitor) with their counts, jobs and job data, read-only. Only GET
 * (and HEAD) reach the board, so none of Bull Board's actions (retry, clean, pause, add, remove)
 * can run, and its UI hides them (`readOnlyMode`). Authentication: {@link QueueBoardGuard}. Each
 * page load is audited (`queue_board.view`, like the admin API's audit rows); the page's scripts
 * and the API calls it polls are not (they are reads, charged to the admin rate limit and in the
 * request log).
 * With the in-process queue (embedded mode) there is no board: 404 `not_found` saying so.
 */
// Bull Board's own page and JSON API, not the JAM API: left out of the OpenAPI document (test/e2e/openapi.e2e-spec.ts names it)
@ApiExcludeController()
@Controller(QUEUE_BOARD_PATH.slice(1))
@UseGuards(QueueBoardGuard)
export class QueueBoardController {
  /** Built on the first request that passed the guard. */
  private board: BoardHandler | undefined;
  private readonly addresses: ClientAddressPolicy;

  constructor(@Inject(GATEWAY_DEPS) private readonly deps: GatewayDeps) {
    this.addresses = new ClientAddressPolicy(deps.trustedProxies, deps.adminIpAllowlist);
  }

  /** The board's page (HTML); audited. */
  @Get()
  async page(@Req() req: AuthedRequest, @Res() res: Response): Promise<void> {
    await this.auditView(req);
    return this.serve(req, res);
  }

  /**
   * The board's scripts and styles (`static/...`), its read API (`api/queues`,
   * `api/queues/<queue>/<job id>`, ...) and its in-page routes (`queue/<name>`, ...), which are
   * page loads and audited like the board's root.
   */
  @Get('*path')
  async part(@Req() req: AuthedRequest, @Res() res: Response): Promise<void> {
    const under = req.path.slice(QUEUE_BOARD_PATH.length);
    if (!under.startsWith('/api/') && !under.startsWith('/static/')) await this.auditView(req);
    return this.serve(req, res);
  }

  /**
   * Writes the `queue_board.view` audit row of a page load before a byte is sent (a failed audit
   * write fails the request, as for every admin action), with the fields the admin API's rows have.
   */
  private async auditView(req: AuthedRequest): Promise<void> {
    this.boardOrNotFound();
    await this.deps.auditLog.append({
      actorTokenHash: req.tokenDigest === null ? null : `0x${req.tokenDigest}`,
      action: 'queue_board.view',
      target: `${req.method} ${req.path}`,
      outcome: 'success',
      details: { principal: req.principal, client: this.addresses.clientAddress(req) },
    });
  }

  /** The board; 404 `not_found` with the reason when this gateway has none (in-process queue). */
  private boardOrNotFound(): BoardHandler {
    if (this.board === undefined && this.deps.openBoardQueues !== undefined) this.board = boardApp(this.deps.openBoardQueues());
    if (this.board === undefined) {
      throw new DomainError(
        'not_found',
        'there is no queue board: this gateway runs the in-process queue (embedded mode); the board shows the BullMQ queues of production mode (DATABASE_URL and REDIS_URL set)',
      );
    }
    return this.board;
  }

  /** Hands the request to the board's Express app with the path under the board; resolves when the answer is sent. */
  private serve(req: Request, res: Response): Promise<void> {
    const board = this.boardOrNotFound();
    return new Promise<void>((resolve, reject) => {
      res.setHeader('Cache-Control', 'no-store');
      res.setHeader('X-Frame-Options', 'DENY');
      res.setHeader('X-Content-Type-Options', 'nosniff');
      res.once('finish', () => resolve());
      res.once('close', () => resolve());
      req.url = req.originalUrl.slice(QUEUE_BOARD_PATH.length) || '/';
      if (!req.url.startsWith('/')) req.url = `/${req.url}`;
      board(req, res, (err?: unknown) => reject(err ?? new DomainError('not_found', `no page ${req.originalUrl.split('?')[0]} on the queue board`)));
    });
  }
}
