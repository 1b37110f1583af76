import { Inject, Injectable } from '@nestjs/common';
import { DomainError, isTerminalPackageStatus } from '@jam/domain';
import type { StatusEventBus } from '@jam/queue';
import { WorkPackageRepository, type WorkPackageSummary } from '@jam/persistence';
import { JamMetrics, type Logger } from '@jam/telemetry';
import { LOGGER, STATUS_EVENTS } from './gateway.providers';

/**
 * Concurrent status streams (GET /jam/packages/{hash}/events) one principal may hold open on one
 * gateway process. A stream of an unfinished package stays open indefinitely and every status
 * change costs each open stream a database read, so without a cap the per-minute rate limit
 * alone lets one token pile up streams without bound (connections, memory, DB reads).
 */
export const MAX_EVENT_STREAMS_PER_PRINCIPAL = 32;

/** Seconds a client refused a stream is told to wait (`Retry-After`). */
export const EVENT_STREAM_RETRY_AFTER_SECONDS = 5;

/** Where a status stream writes: each changed package row, and the end of the stream. */
export interface StatusStreamSink {
  status(pkg: WorkPackageSummary): void;
  end(): void;
}

/**
 * Package status streams (docs/architecture.md section 6, "Status events"): each notification of
 * the status bus prompts a re-read of the row, which stays the truth; a stream ends at a terminal
 * status. Holds the per-principal stream count of this process.
 */
@Injectable()
export class PackageEventsService {
  /** Open status streams per principal on this process (see MAX_EVENT_STREAMS_PER_PRINCIPAL). */
  private readonly openStreams = new Map<string, number>();

  constructor(
    private readonly workPackages: WorkPackageRepository,
    private readonly metrics: JamMetrics,
    @Inject(STATUS_EVENTS) private readonly events: StatusEventBus,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /**
   * Takes a stream slot for `principal`.
   * @throws DomainError('rate_limited', details.scope `event_streams`) past MAX_EVENT_STREAMS_PER_PRINCIPAL
   */
  reserve(principal: string): void {
    const open = this.openStreams.get(principal) ?? 0;
    if (open >= MAX_EVENT_STREAMS_PER_PRINCIPAL) {
      this.metrics.rateLimited.inc({ scope: 'event_streams' });
      throw new DomainError('rate_limited', `at most ${MAX_EVENT_STREAMS_PER_PRINCIPAL} status streams may be open at once; close one first`, {
        scope: 'event_streams',
        limit: MAX_EVENT_STREAMS_PER_PRINCIPAL,
      });
    }
    this.openStreams.set(principal, open + 1);
  }

  /**
   * Follows `hash` on a slot taken with {@link reserve}: writes the current status at once, then
   * each change as it commits, and ends at a terminal status.
   * @returns `finish`: ends the stream and frees the slot (idempotent; call it when the client goes)
   */
  follow(principal: string, hash: string, sink: StatusStreamSink): () => void {
    let last: string | undefined;
    let ended = false;
    let checking = Promise.resolve();
    const finish = () => {
      if (ended) return;
      ended = true;
      const left = (this.openStreams.get(principal) ?? 1) - 1;
      if (left > 0) this.openStreams.set(principal, left);
      else this.openStreams.delete(principal);
      off();
      sink.end();
    };
    const check = () => {
      checking = checking
        .then(async () => {
          if (ended) return;
          const row = await this.workPackages.get(hash);
          if (!row || row.status === last) return;
          last = row.status;
          sink.status(row);
          if (isTerminalPackageStatus(row.status)) finish();
        })
        .catch((err: unknown) => {
          this.logger.warn({ err, hash }, 'status stream failed');
          finish();
        });
    };
    // Subscribe before the first read so no change between the two is missed.
    const off = this.events.subscribe((e) => {
      if (e.package_hash === hash) check();
    });
    check();
    return finish;
  }
}
