import { Readable } from 'node:stream';
import { DomainError, GP_MAX_PACKAGE_EXTRINSICS, GP_MAX_PACKAGE_SIZE, blake2b256, decodeWorkPackage, fromHex, toHex } from '@jam/domain';
import { SERVICE_LIST_MAX_LIMIT, type WorkPackageSummary } from '@jam/persistence';
import type { GatewayDeps } from '../gateway.deps';
import type { AccessPolicy } from '../access.policy';
import type { PreimageUploadService } from '../preimage-upload.service';
import type { Caller as Submitter } from '../access.policy';
import type { PackageSubmissionService } from '../package-submission.service';
import { CORE_COUNT, MAX_LOOKUP_ANCHOR_AGE, blockDescriptor, chainParameters, encodeServiceData, recentSlotOf, slotAt, toBase64 } from './jip2-chain';
import { RPC_ERROR, RpcError, invalidParam } from './jip2-errors';
import { blobParam, boolParam, hashParam, positional, u32Param } from './jip2-params';

/** Longest storage key a service can write (bytes; the `write` host call's cap, as GET /jam/services/{id}/storage/{key}). */
const MAX_STORAGE_KEY_BYTES = 256;

/** Most service ids `listServices` answers (JIP-2: a best-effort list). */
export const LIST_SERVICES_MAX = 10_000;

/** What a subscription watches: which notifications re-read it, and how to read its value. */
export interface WatchSpec {
  /** `block`: every new slot; `package`: status events of `packageHash`; `service`: every accumulation. */
  trigger: 'block' | 'package' | 'service';
  /** 0x hex package hash for `package` watches. */
  packageHash?: string;
  /** true: updates are Chain Subscription Updates (`{header_hash, slot, value}`); false: the value itself. */
  chainUpdate: boolean;
  /** Reads the current value (JSON), checking the caller's access on every read. */
  read(): Promise<unknown>;
}

/** JIP-2 method names this server answers (docs/jip2.md, "Methods"), without the unsubscribe forms. */
export const JIP2_METHODS = [
  'parameters',
  'bestBlock',
  'finalizedBlock',
  'listServices',
  'serviceData',
  'serviceValue',
  'servicePreimage',
  'serviceRequest',
  'workReport',
  'submitWorkPackage',
  'submitPreimage',
  'workPackageStatus',
] as const;

/** JIP-2 subscribe methods this server answers; each has its `unsubscribe...` form. */
export const JIP2_SUBSCRIPTIONS = [
  'subscribeBestBlock',
  'subscribeFinalizedBlock',
  'subscribeServiceData',
  'subscribeServiceValue',
  'subscribeServicePreimage',
  'subscribeServiceRequest',
  'subscribeWorkPackageStatus',
] as const;

export type Jip2Method = (typeof JIP2_METHODS)[number];
export type Jip2Subscription = (typeof JIP2_SUBSCRIPTIONS)[number];

/**
 * The JIP-2 methods over the gateway's own application logic: the same {@link AccessPolicy}
 * (another tenant's service, package, report or preimage answers exactly as a missing one), the
 * same submission ({@link PackageSubmissionService}) and upload ({@link PreimageUploadService}) paths with their
 * quotas, the same repositories. Blocks are timeslots ({@link blockDescriptor}); state queries
 * name one of the recent blocks and answer the latest committed state (docs/jip2.md, "Blocks").
 * Parameters and results are as JIP-2 (polkadot-fellows/JIPs JIP-2.md) defines them.
 */
export class Jip2Methods {
  constructor(
    private readonly deps: GatewayDeps,
    private readonly access: AccessPolicy,
    private readonly upload: PreimageUploadService,
    private readonly submission: PackageSubmissionService,
    private readonly now: () => number = Date.now,
    /** bytes of one decoded Blob parameter (the message cap bounds it anyway) */
    private readonly maxBlobBytes: number = GP_MAX_PACKAGE_SIZE,
  ) {}

  /** The current slot (the best and finalized block). */
  currentSlot(): number {
    return slotAt(this.now());
  }

  /**
   * Runs one method.
   * @throws RpcError (-32602 bad parameters, 1 block unavailable, 2 work-report unavailable) or DomainError (mapped by toRpcError)
   */
  async call(method: Jip2Method, caller: Submitter, params: unknown): Promise<unknown> {
    switch (method) {
      case 'parameters':
        positional(params, []);
        return chainParameters(this.deps.attesterCount);
      case 'bestBlock':
      case 'finalizedBlock':
        positional(params, []);
        return blockDescriptor(this.currentSlot());
      case 'listServices': {
        const [header] = positional(params, ['header_hash']);
        this.stateBlock(header);
        return this.listServices(caller);
      }
      case 'serviceData': {
        const [header, id] = positional(params, ['header_hash', 'id']);
        this.stateBlock(header);
        return this.serviceData(caller, u32Param(id, 'id'));
      }
      case 'serviceValue': {
        const [header, id, key] = positional(params, ['header_hash', 'id', 'key']);
        this.stateBlock(header);
        return this.serviceValue(caller, u32Param(id, 'id'), blobParam(key, 'key', this.maxBlobBytes));
      }
      case 'servicePreimage': {
        const [header, id, hash] = positional(params, ['header_hash', 'id', 'hash']);
        this.stateBlock(header);
        return this.servicePreimage(caller, u32Param(id, 'id'), hashParam(hash, 'hash'));
      }
      case 'serviceRequest': {
        const [header, id, hash, len] = positional(params, ['header_hash', 'id', 'hash', 'len']);
        this.stateBlock(header);
        return this.serviceRequest(caller, u32Param(id, 'id'), hashParam(hash, 'hash'), u32Param(len, 'len'));
      }
      case 'workReport': {
        const [hash] = positional(params, ['hash']);
        return this.workReport(caller, hashParam(hash, 'hash'));
      }
      case 'workPackageStatus': {
        const [header, hash, anchor] = positional(params, ['header_hash', 'hash', 'anchor']);
        this.stateBlock(header);
        hashParam(anchor, 'anchor');
        return this.packageStatus(caller, toHex(hashParam(hash, 'hash')));
      }
      case 'submitPreimage': {
        const [requester, preimage] = positional(params, ['requester', 'preimage']);
        await this.access.service(caller, u32Param(requester, 'requester'));
        const bytes = blobParam(preimage, 'preimage', this.maxBlobBytes);
        await this.upload.put(caller, toHex(blake2b256(bytes)), bytes.length, Readable.from([bytes]));
        return null;
      }
      case 'submitWorkPackage': {
        const [core, pkg, extrinsics] = positional(params, ['core', 'package', 'extrinsics']);
        return this.submitWorkPackage(caller, u32Param(core, 'core'), pkg, extrinsics);
      }
      default: {
        const unknown: never = method;
        throw new Error(`unhandled method ${String(unknown)}`);
      }
    }
  }

  /**
   * What a `subscribe...` call watches, after checking its parameters (and, for a package, that
   * the caller may see it).
   * @throws RpcError -32602 for bad parameters; DomainError('not_found') for a package the caller cannot see
   */
  async watch(method: Jip2Subscription, caller: Submitter, params: unknown): Promise<WatchSpec> {
    switch (method) {
      case 'subscribeBestBlock':
      case 'subscribeFinalizedBlock':
        positional(params, []);
        return { trigger: 'block', chainUpdate: false, read: async () => blockDescriptor(this.currentSlot()) };
      case 'subscribeServiceData': {
        const [id, finalized] = positional(params, ['id', 'finalized']);
        const sid = u32Param(id, 'id');
        boolParam(finalized, 'finalized');
        return { trigger: 'service', chainUpdate: true, read: () => this.serviceData(caller, sid) };
      }
      case 'subscribeServiceValue': {
        const [id, key, finalized] = positional(params, ['id', 'key', 'finalized']);
        const sid = u32Param(id, 'id');
        const k = blobParam(key, 'key', this.maxBlobBytes);
        boolParam(finalized, 'finalized');
        return { trigger: 'service', chainUpdate: true, read: () => this.serviceValue(caller, sid, k) };
      }
      case 'subscribeServicePreimage': {
        const [id, hash, finalized] = positional(params, ['id', 'hash', 'finalized']);
        const sid = u32Param(id, 'id');
        const h = hashParam(hash, 'hash');
        boolParam(finalized, 'finalized');
        return { trigger: 'service', chainUpdate: true, read: () => this.servicePreimage(caller, sid, h) };
      }
      case 'subscribeServiceRequest': {
        const [id, hash, len, finalized] = positional(params, ['id', 'hash', 'len', 'finalized']);
        const sid = u32Param(id, 'id');
        const h = hashParam(hash, 'hash');
        const l = u32Param(len, 'len');
        boolParam(finalized, 'finalized');
        return { trigger: 'service', chainUpdate: true, read: () => this.serviceRequest(caller, sid, h, l) };
      }
      case 'subscribeWorkPackageStatus': {
        const [hash, anchor, finalized] = positional(params, ['hash', 'anchor', 'finalized']);
        const packageHash = toHex(hashParam(hash, 'hash'));
        hashParam(anchor, 'anchor');
        boolParam(finalized, 'finalized');
        await this.access.workPackage(caller, packageHash);
        return { trigger: 'package', packageHash, chainUpdate: true, read: () => this.packageStatus(caller, packageHash) };
      }
      default: {
        const unknown: never = method;
        throw new Error(`unhandled subscription ${String(unknown)}`);
      }
    }
  }

  /** Checks that `header` names a recent block. @throws RpcError 1 (data = the header hash) otherwise */
  private stateBlock(header: unknown): number {
    const hash = hashParam(header, 'header_hash');
    const slot = recentSlotOf(hash, this.currentSlot());
    if (slot === undefined) {
      throw new RpcError(
        RPC_ERROR.blockUnavailable,
        'block unavailable: not one of the recent_block_count latest blocks (this server keeps no older state)',
        toBase64(hash),
      );
    }
    return slot;
  }

  private async listServices(caller: Submitter): Promise<number[]> {
    const member = this.access.restricted(caller) ? caller.principal : undefined;
    const ids: number[] = [];
    let afterId: number | undefined;
    while (ids.length < LIST_SERVICES_MAX) {
      const limit = Math.min(SERVICE_LIST_MAX_LIMIT, LIST_SERVICES_MAX - ids.length);
      const page = await this.deps.services.list({ afterId, limit, member });
      ids.push(...page.map((s) => s.id));
      if (page.length < limit) break;
      afterId = page[page.length - 1]!.id;
    }
    return ids;
  }

  /** Null for a service that is missing or not the caller's (AccessPolicy), else its GP service data as a Blob. */
  private async serviceData(caller: Submitter, id: number): Promise<string | null> {
    const s = await this.visibleService(caller, id);
    if (!s) return null;
    const fp = await this.deps.serviceStorage.footprint(id);
    // GP a_o counts 34 bytes of overhead per storage item on top of key and value (GP 0.7.2 eq. 9.8).
    const octets = BigInt(fp.bytes) + 34n * BigInt(fp.items);
    return toBase64(
      encodeServiceData({
        codeHash: fromHex(s.codeHash, 32),
        minItemGas: s.minItemGas,
        minMemoGas: s.minMemoGas,
        octets,
        items: fp.items,
        creationSlot: slotAt(s.createdAt.getTime()),
      }),
    );
  }

  private async serviceValue(caller: Submitter, id: number, key: Uint8Array): Promise<string | null> {
    if (key.length > MAX_STORAGE_KEY_BYTES || !(await this.visibleService(caller, id))) return null;
    const value = await this.deps.serviceStorage.getStorage(id, key);
    return value === null ? null : toBase64(value);
  }

  /** The preimage when the service is the caller's and the preimage is stored and readable by the caller (docs/jip2.md). */
  private async servicePreimage(caller: Submitter, id: number, hash: Uint8Array): Promise<string | null> {
    const hex = toHex(hash);
    if (!(await this.visibleService(caller, id)) || !(await this.access.canReadPreimage(caller, hex))) return null;
    try {
      return toBase64(await this.deps.blobs.getBytes(hex));
    } catch (err) {
      if (err instanceof DomainError && err.code === 'not_found') return null;
      throw err;
    }
  }

  /** `[slot stored]` when the preimage of that hash and length is stored and readable as for servicePreimage; else null (no requests here). */
  private async serviceRequest(caller: Submitter, id: number, hash: Uint8Array, len: number): Promise<number[] | null> {
    const hex = toHex(hash);
    if (!(await this.visibleService(caller, id)) || !(await this.access.canReadPreimage(caller, hex))) return null;
    const row = await this.deps.preimages.get(hex);
    if (!row || Number(row.length) !== len) return null;
    return [slotAt(row.createdAt.getTime())];
  }

  private async workReport(caller: Submitter, hash: Uint8Array): Promise<string> {
    const hex = toHex(hash);
    const report = await this.deps.workReports.get(hex);
    const visible =
      report !== null &&
      (await this.access.workPackage(caller, report.packageHash).then(
        () => true,
        (err: unknown) => {
          if (err instanceof DomainError && err.code === 'not_found') return false;
          throw err;
        },
      ));
    if (!report || !visible) throw new RpcError(RPC_ERROR.workReportUnavailable, `work-report unavailable: no report ${hex}`, toBase64(hash));
    return toBase64(report.encoded);
  }

  /** The JIP-2 status of a package the caller may see (docs/jip2.md, "Statuses"). @throws DomainError('not_found') */
  private async packageStatus(caller: Submitter, packageHash: string): Promise<unknown> {
    return this.statusOf(await this.access.workPackage(caller, packageHash));
  }

  private async statusOf(row: WorkPackageSummary): Promise<unknown> {
    switch (row.status) {
      case 'pending':
      case 'refining':
      case 'attesting':
        return { Reportable: { remaining_blocks: MAX_LOOKUP_ANCHOR_AGE } };
      case 'attested':
      case 'accumulating':
      case 'accumulated': {
        const report = row.reportHash === null ? null : await this.deps.workReports.get(row.reportHash);
        const block = blockDescriptor(slotAt((report?.createdAt ?? row.updatedAt).getTime()));
        return { Ready: { reported_in: block, core: 0, report_hash: toBase64(fromHex(row.reportHash ?? `0x${'0'.repeat(64)}`, 32)), ready_in: block } };
      }
      case 'failed':
      case 'disputed':
        return { Failed: `${row.status}: ${row.errorCode ?? 'unknown'}${row.errorMessage ? `: ${row.errorMessage}` : ''}` };
      default: {
        const unknown: never = row.status;
        throw new Error(`unmapped package status ${String(unknown)}`);
      }
    }
  }

  private async submitWorkPackage(caller: Submitter, core: number, pkgParam: unknown, extrinsicsParam: unknown): Promise<null> {
    if (core >= CORE_COUNT) throw invalidParam('core', `this system has ${CORE_COUNT} core (index 0)`);
    if (typeof pkgParam === 'string' && (pkgParam.length / 4) * 3 > GP_MAX_PACKAGE_SIZE + 2) {
      throw new DomainError('payload_too_large', `work package exceeds ${GP_MAX_PACKAGE_SIZE} bytes`, { max_bytes: GP_MAX_PACKAGE_SIZE });
    }
    const encoded = blobParam(pkgParam, 'package', GP_MAX_PACKAGE_SIZE);
    if (!Array.isArray(extrinsicsParam) || extrinsicsParam.length > GP_MAX_PACKAGE_EXTRINSICS) {
      throw invalidParam('extrinsics', `must be an Array of at most ${GP_MAX_PACKAGE_EXTRINSICS} Blobs`);
    }
    const pkg = decodeWorkPackage(encoded);
    const wanted = new Set(pkg.items.flatMap((item) => item.extrinsic.map((x) => toHex(x.hash))));
    const extrinsics = extrinsicsParam.map((x, i) => {
      const bytes = blobParam(x, `extrinsics[${i}]`, this.maxBlobBytes);
      const hash = toHex(blake2b256(bytes));
      if (!wanted.has(hash)) throw invalidParam(`extrinsics[${i}]`, `hashes to ${hash}, which no work item of the package names`);
      return { hash, bytes };
    });
    // Extrinsics are preimages here (docs/jip2.md): stored through the upload path, with its quotas, before the package that names them.
    for (const x of extrinsics) await this.upload.put(caller, x.hash, x.bytes.length, Readable.from([x.bytes]));
    await this.submission.submit(caller, pkg, encoded, await this.submission.check(caller, pkg));
    return null;
  }

  private async visibleService(caller: Submitter, id: number) {
    const s = await this.deps.services.get(id);
    return s && this.access.usesService(caller, s) ? s : null;
  }
}
