import { Inject, Injectable } from '@nestjs/common';
import { DomainError, fromHex, type PackageStatus } from '@jam/domain';
import type { BlobStore } from '@jam/blob-store';
import {
  PreimageRepository,
  ServiceRepository,
  ServiceStorageRepository,
  WorkPackageRepository,
  type ServiceRecord,
  type WorkPackageSummary,
} from '@jam/persistence';
import { JamMetrics, type Logger } from '@jam/telemetry';
import { AccessPolicy, type Caller } from './access.policy';
import { CodeCheckLimiter } from './code-check.limiter';
import { BLOB_STORE, LOGGER, SERVICE_CODE_CHECK, type ServiceCodeCheck } from './gateway.providers';

/** What `POST /jam/services` registers (the parsed body). Gas in gas units. */
export interface ServiceRegistration {
  codeHash: string;
  delegates: string[];
  minItemGas: bigint;
  minMemoGas: bigint;
}

/**
 * Services: registration (the code check runs in a sandbox executor, never on this event loop),
 * listing, storage reads and package lists (docs/architecture.md section 5). Under `authz_enabled`
 * a principal lists and reads only services it owns or is a delegate of ({@link AccessPolicy}).
 */
@Injectable()
export class ServiceRegistrationService {
  constructor(
    private readonly services: ServiceRepository,
    private readonly serviceStorage: ServiceStorageRepository,
    private readonly preimages: PreimageRepository,
    private readonly workPackages: WorkPackageRepository,
    private readonly access: AccessPolicy,
    private readonly codeChecks: CodeCheckLimiter,
    private readonly metrics: JamMetrics,
    @Inject(BLOB_STORE) private readonly blobs: BlobStore,
    @Inject(SERVICE_CODE_CHECK) private readonly checkServiceCode: ServiceCodeCheck,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** Seconds a caller refused a code check is told to wait (`Retry-After`). */
  get retryAfterSeconds(): number {
    return this.codeChecks.limits.retryAfterSeconds;
  }

  /**
   * Registers a service owned by the caller whose code is a stored preimage the caller may read
   * and that passes the registration check; takes a reference on the code preimage.
   * @throws DomainError `unknown_preimage` (422), `invalid_code` (422, with the reason),
   *   `rate_limited` (429, `details.scope` `code_checks` / `code_check_queue`)
   */
  async register(caller: Caller, r: ServiceRegistration): Promise<ServiceRecord> {
    if (!(await this.access.canReadPreimage(caller, r.codeHash)))
      throw new DomainError('unknown_preimage', `code ${r.codeHash} is not a stored preimage; upload it with PUT /jam/preimages/${r.codeHash}`);
    try {
      await this.codeChecks.run(caller.principal, async () => this.checkServiceCode(r.codeHash, await this.blobs.getBytes(r.codeHash)));
    } catch (err) {
      if (err instanceof DomainError && err.code === 'rate_limited') this.metrics.rateLimited.inc({ scope: String(err.details?.['scope']) });
      throw err;
    }
    const service = await this.services.create({
      codeHash: r.codeHash,
      owner: caller.principal,
      delegates: r.delegates,
      minItemGas: r.minItemGas,
      minMemoGas: r.minMemoGas,
    });
    await this.preimages.incrementRefcount(r.codeHash);
    this.logger.info({ serviceId: service.id, codeHash: r.codeHash, tokenHash: caller.tokenHash }, 'service registered');
    return service;
  }

  /** One page of the services the caller may use, by id; `limit + 1` rows are read to know whether more follow. */
  async list(caller: Caller, afterId: number | undefined, limit: number): Promise<{ items: ServiceRecord[]; nextCursor: string | null }> {
    const member = this.access.restricted(caller) ? caller.principal : undefined;
    const items = await this.services.list({ afterId, limit: limit + 1, member });
    const page = items.slice(0, limit);
    return { items: page, nextCursor: items.length > limit ? String(page[page.length - 1]!.id) : null };
  }

  /** @throws DomainError('not_found') when the service is missing or not the caller's. */
  async get(caller: Caller, id: number): Promise<ServiceRecord> {
    return this.access.service(caller, id);
  }

  /** One storage value. @throws DomainError('not_found') for an unknown service or an absent key. */
  async storage(caller: Caller, id: number, keyHex: string): Promise<Uint8Array> {
    await this.access.service(caller, id);
    const value = await this.serviceStorage.getStorage(id, fromHex(keyHex));
    if (value === null) throw new DomainError('not_found', `service ${id} has no value at key ${keyHex}`);
    return value;
  }

  /**
   * Packages that touch a service the caller may use (from {@link get}), newest first, keyset-paged.
   * @param query `limit` rows at most (1..500); `cursor` as a previous page gave it
   */
  async packages(
    service: ServiceRecord,
    query: { status: PackageStatus | undefined; cursor: string | undefined; limit: number },
  ): Promise<{ items: WorkPackageSummary[]; nextCursor: string | null }> {
    return this.workPackages.listByService(service.id, query);
  }
}
