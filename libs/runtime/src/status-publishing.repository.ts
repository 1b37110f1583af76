import {
  WorkPackageRepository,
  type PackageRetryResult,
  type WorkPackageRecord,
  type WorkPackageStatus,
  type WorkPackageSummary,
  type WorkPackageTransitionFields,
} from '@jam/persistence';
import type { StatusEventBus } from '@jam/queue';

/**
 * The work-package repository every process uses: after a status change commits, it publishes a
 * `package-status.v1` event (docs/architecture.md section 6) so gateways can stream it. Publishing after the
 * commit means a subscriber never sees a status the database does not have yet.
 */
export class StatusPublishingWorkPackageRepository extends WorkPackageRepository {
  constructor(
    ds: ConstructorParameters<typeof WorkPackageRepository>[0],
    private readonly events: StatusEventBus,
  ) {
    super(ds);
  }

  override async insertIfAbsent(input: {
    hash: string;
    encoded: Uint8Array;
    serviceIds: number[];
    submittedBy: string;
  }): Promise<{ created: boolean; row: WorkPackageRecord }> {
    const result = await super.insertIfAbsent(input);
    if (result.created) this.events.publish({ package_hash: input.hash, status: result.row.status, report_hash: null, at: new Date().toISOString() });
    return result;
  }

  override async transition(
    hash: string,
    from: readonly WorkPackageStatus[],
    to: WorkPackageStatus,
    fields: WorkPackageTransitionFields = {},
  ): Promise<boolean> {
    const moved = await super.transition(hash, from, to, fields);
    if (moved) this.events.publish({ package_hash: hash, status: to, report_hash: fields.reportHash ?? null, at: new Date().toISOString() });
    return moved;
  }

  override async transitionAndRead(
    hash: string,
    from: readonly WorkPackageStatus[],
    to: WorkPackageStatus,
    fields: WorkPackageTransitionFields = {},
  ): Promise<{ moved: boolean; row: WorkPackageSummary | null }> {
    const result = await super.transitionAndRead(hash, from, to, fields);
    if (result.moved)
      this.events.publish({ package_hash: hash, status: to, report_hash: result.row?.reportHash ?? fields.reportHash ?? null, at: new Date().toISOString() });
    return result;
  }

  override async retryFailed(hash: string, maxRetries: number): Promise<PackageRetryResult> {
    const result = await super.retryFailed(hash, maxRetries);
    if (result.outcome === 'retried')
      this.events.publish({ package_hash: hash, status: result.row.status, report_hash: result.row.reportHash, at: new Date().toISOString() });
    return result;
  }
}
