/**
 * The data a PVM refine's `fetch` answers from (GP 0.7.2 appendix B, `fetch`, Ω_Y in the refine
 * invocation Ψ_R): protocol constants, the work package and its parts, this item's extrinsics and
 * imported segments. Built from the RefineJob the executor received; pure functions over bytes.
 */
import { decodeWorkPackage, encodeRefineContext, GpWriter, toHex, type WorkItem, type WorkPackage } from '@jam/domain';
import type { RefineJob } from '../../service.executor';
import { FULL_ACCUMULATE_CONFIG } from '../accumulate/accumulate-state';

/**
 * GP 0.7.2 `c`, the encoded protocol constants `fetch` selector 0 returns (134 bytes): the full
 * chain spec's, the same blob the accumulate `fetch` answers (`FULL_ACCUMULATE_CONFIG`,
 * accumulate/accumulate-state.ts, which lists the order and widths).
 */
export function encodedProtocolConstants(): Uint8Array {
  return FULL_ACCUMULATE_CONFIG.constantsBlob;
}

let constants: Uint8Array | undefined;

/**
 * GP 0.7.2 `S(w)`, a work item's summary (fetch selectors 11 and 12): E4(service) ++ code hash ++
 * E8(refine gas) ++ E8(accumulate gas) ++ E2(export count) ++ E2(|imports|) ++ E2(|extrinsics|)
 * ++ E4(|payload|) (62 bytes).
 */
export function workItemSummary(item: WorkItem): Uint8Array {
  const w = new GpWriter();
  w.u32(item.service, 'service');
  w.fixed(item.code_hash, 32, 'code_hash');
  w.u64(item.refine_gas_limit, 'refine_gas_limit');
  w.u64(item.accumulate_gas_limit, 'accumulate_gas_limit');
  w.u16(item.export_count, 'export_count');
  w.u16(item.import_segments.length, 'imports');
  w.u16(item.extrinsic.length, 'extrinsics');
  w.u32(item.payload.length, 'payload length');
  return w.finish();
}

/** `fetch` selectors of GP 0.7.2 appendix B (ω10). */
export const FETCH_SELECTOR = Object.freeze({
  constants: 0n,
  entropy: 1n,
  authorizerTrace: 2n,
  itemExtrinsic: 3n,
  ownExtrinsic: 4n,
  itemImport: 5n,
  ownImport: 6n,
  workPackage: 7n,
  authorizerConfig: 8n,
  authorization: 9n,
  refineContext: 10n,
  itemSummaries: 11n,
  itemSummary: 12n,
  itemPayload: 13n,
});

/** The refine-side data `fetch` reads, decoded lazily from the job (the package is decoded at most once per job). */
export class RefineFetchData {
  private pkg: WorkPackage | null | undefined;

  constructor(private readonly job: RefineJob) {}

  /** The job's work package, decoded; null when the job carries none (callers older than engine 0.2.0, unit tests). */
  private workPackage(): WorkPackage | null {
    if (this.pkg === undefined) this.pkg = this.job.workPackage === undefined ? null : decodeWorkPackage(this.job.workPackage);
    return this.pkg;
  }

  private ownExtrinsic(j: bigint): Uint8Array | null {
    const item = this.workPackage()?.items[this.job.itemIndex];
    const spec = item === undefined || j >= BigInt(item.extrinsic.length) ? undefined : item.extrinsic[Number(j)];
    return spec === undefined ? null : (this.job.preimages.get(toHex(spec.hash)) ?? null);
  }

  private ownImport(j: bigint): Uint8Array | null {
    const imports = this.job.imports ?? [];
    return j < BigInt(imports.length) ? imports[Number(j)]! : null;
  }

  private item(k: bigint): WorkItem | null {
    const items = this.workPackage()?.items ?? [];
    return k < BigInt(items.length) ? items[Number(k)]! : null;
  }

  /**
   * The value `v` of GP 0.7.2 `fetch` for selector `sel` with ω11 = `a`, ω12 = `b`, or null (NONE).
   * Extrinsics and imported segments of another work item (selectors 3 and 5 with ω11 ≠ this
   * item's index) are NONE: the executor gets only this item's (docs/service-abi.md, "PVM services").
   * The authorizer trace (2) is NONE: this product runs no is-authorized (auth_output is the engine identity).
   */
  value(sel: bigint, a: bigint, b: bigint): Uint8Array | null {
    const own = BigInt(this.job.itemIndex);
    const S = FETCH_SELECTOR;
    switch (sel) {
      case S.constants:
        return (constants ??= encodedProtocolConstants());
      case S.entropy:
        return new Uint8Array(32); // GP 0.7.2 Ψ_R: H_0, the zero hash
      case S.itemExtrinsic:
        return a === own ? this.ownExtrinsic(b) : null;
      case S.ownExtrinsic:
        return this.ownExtrinsic(a);
      case S.itemImport:
        return a === own ? this.ownImport(b) : null;
      case S.ownImport:
        return this.ownImport(a);
      case S.workPackage:
        return this.job.workPackage ?? null;
      case S.authorizerConfig:
        return this.workPackage()?.authorizer_config ?? null;
      case S.authorization:
        return this.workPackage()?.authorization ?? null;
      case S.refineContext: {
        const pkg = this.workPackage();
        return pkg === null ? null : encodeRefineContext(pkg.context);
      }
      case S.itemSummaries: {
        const pkg = this.workPackage();
        if (pkg === null) return null;
        const w = new GpWriter();
        w.compact(pkg.items.length, 'items');
        for (const it of pkg.items) w.bytes(workItemSummary(it));
        return w.finish();
      }
      case S.itemSummary: {
        const it = this.item(a);
        return it === null ? null : workItemSummary(it);
      }
      case S.itemPayload: {
        if (a === own) return this.job.payload;
        return this.item(a)?.payload ?? null;
      }
      default:
        return null;
    }
  }
}
