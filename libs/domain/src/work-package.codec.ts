import { decodeAll, encodeWith, type GpReader, type GpWriter } from './gp-codec';
import type { ExtrinsicSpec, ImportSpec, RefineContext, WorkItem, WorkPackage } from './work-types';

/**
 * GP 0.7.2 appendix C encodings of a work package and its parts (eq. C.27-C.29), checked
 * byte for byte against the official codec vectors (`vectors/jam/codec/tiny`). Layouts
 * (E_n = n-byte little-endian, E = compact natural, ↕ = compact length prefix):
 *
 * - RefineContext: anchor(32) ++ state_root(32) ++ beefy_root(32) ++ lookup_anchor(32)
 *   ++ E_4(lookup_anchor_slot) ++ ↕[prerequisite(32)]
 * - ImportSpec: tree_root(32) ++ E_2(index)
 * - ExtrinsicSpec: hash(32) ++ E_4(len)
 * - WorkItem: E_4(service) ++ code_hash(32) ++ E_8(refine_gas_limit) ++ E_8(accumulate_gas_limit)
 *   ++ E_2(export_count) ++ ↕payload ++ ↕[ImportSpec] ++ ↕[ExtrinsicSpec]
 * - WorkPackage: E_4(auth_code_host) ++ auth_code_hash(32) ++ RefineContext ++ ↕authorization
 *   ++ ↕authorizer_config ++ ↕[WorkItem]
 *
 * Every `decodeX` throws DomainError('invalid_encoding', '<path>: <problem>', {path}) on
 * truncated input, trailing bytes, non-canonical compact integers or over-long lengths.
 * Every `encodeX` throws the same code when a field does not fit its GP type (e.g. a hash
 * that is not 32 bytes, a u16 above 65535). The codec is structural: GP limits such as the
 * number of work items are checked by `validateWorkPackage`.
 */

const HASH = 32;
const IMPORT_SPEC_SIZE = HASH + 2;
const EXTRINSIC_SPEC_SIZE = HASH + 4;
/** Smallest WorkItem encoding: fixed fields plus three empty length prefixes. */
const MIN_WORK_ITEM_SIZE = 4 + HASH + 8 + 8 + 2 + 3;

export function writeRefineContext(w: GpWriter, c: RefineContext, path: string): void {
  w.fixed(c.anchor, HASH, `${path}.anchor`);
  w.fixed(c.state_root, HASH, `${path}.state_root`);
  w.fixed(c.beefy_root, HASH, `${path}.beefy_root`);
  w.fixed(c.lookup_anchor, HASH, `${path}.lookup_anchor`);
  w.u32(c.lookup_anchor_slot, `${path}.lookup_anchor_slot`);
  w.seq(c.prerequisites, `${path}.prerequisites`, (w2, h, p) => w2.fixed(h, HASH, p));
}

export function readRefineContext(r: GpReader, path: string): RefineContext {
  return {
    anchor: r.bytes(HASH, `${path}.anchor`),
    state_root: r.bytes(HASH, `${path}.state_root`),
    beefy_root: r.bytes(HASH, `${path}.beefy_root`),
    lookup_anchor: r.bytes(HASH, `${path}.lookup_anchor`),
    lookup_anchor_slot: r.u32(`${path}.lookup_anchor_slot`),
    prerequisites: r.seq(`${path}.prerequisites`, HASH, (r2, p) => r2.bytes(HASH, p)),
  };
}

function writeImportSpec(w: GpWriter, s: ImportSpec, path: string): void {
  w.fixed(s.tree_root, HASH, `${path}.tree_root`);
  w.u16(s.index, `${path}.index`);
}

function readImportSpec(r: GpReader, path: string): ImportSpec {
  return { tree_root: r.bytes(HASH, `${path}.tree_root`), index: r.u16(`${path}.index`) };
}

function writeExtrinsicSpec(w: GpWriter, s: ExtrinsicSpec, path: string): void {
  w.fixed(s.hash, HASH, `${path}.hash`);
  w.u32(s.len, `${path}.len`);
}

function readExtrinsicSpec(r: GpReader, path: string): ExtrinsicSpec {
  return { hash: r.bytes(HASH, `${path}.hash`), len: r.u32(`${path}.len`) };
}

function writeWorkItem(w: GpWriter, it: WorkItem, path: string): void {
  w.u32(it.service, `${path}.service`);
  w.fixed(it.code_hash, HASH, `${path}.code_hash`);
  w.u64(it.refine_gas_limit, `${path}.refine_gas_limit`);
  w.u64(it.accumulate_gas_limit, `${path}.accumulate_gas_limit`);
  w.u16(it.export_count, `${path}.export_count`);
  w.blob(it.payload, `${path}.payload`);
  w.seq(it.import_segments, `${path}.import_segments`, writeImportSpec);
  w.seq(it.extrinsic, `${path}.extrinsic`, writeExtrinsicSpec);
}

function readWorkItem(r: GpReader, path: string): WorkItem {
  return {
    service: r.u32(`${path}.service`),
    code_hash: r.bytes(HASH, `${path}.code_hash`),
    refine_gas_limit: r.u64(`${path}.refine_gas_limit`),
    accumulate_gas_limit: r.u64(`${path}.accumulate_gas_limit`),
    export_count: r.u16(`${path}.export_count`),
    payload: r.blob(`${path}.payload`),
    import_segments: r.seq(`${path}.import_segments`, IMPORT_SPEC_SIZE, readImportSpec),
    extrinsic: r.seq(`${path}.extrinsic`, EXTRINSIC_SPEC_SIZE, readExtrinsicSpec),
  };
}

function writeWorkPackage(w: GpWriter, p: WorkPackage, path: string): void {
  w.u32(p.auth_code_host, `${path}.auth_code_host`);
  w.fixed(p.auth_code_hash, HASH, `${path}.auth_code_hash`);
  writeRefineContext(w, p.context, `${path}.context`);
  w.blob(p.authorization, `${path}.authorization`);
  w.blob(p.authorizer_config, `${path}.authorizer_config`);
  w.seq(p.items, `${path}.items`, writeWorkItem);
}

function readWorkPackage(r: GpReader, path: string): WorkPackage {
  return {
    auth_code_host: r.u32(`${path}.auth_code_host`),
    auth_code_hash: r.bytes(HASH, `${path}.auth_code_hash`),
    context: readRefineContext(r, `${path}.context`),
    authorization: r.blob(`${path}.authorization`),
    authorizer_config: r.blob(`${path}.authorizer_config`),
    items: r.seq(`${path}.items`, MIN_WORK_ITEM_SIZE, readWorkItem),
  };
}

/** GP encoding of a RefineContext (133 bytes + 32 per prerequisite). */
export const encodeRefineContext = (x: RefineContext): Uint8Array => encodeWith(x, 'context', writeRefineContext);
/** @throws DomainError('invalid_encoding') */
export const decodeRefineContext = (bytes: Uint8Array): RefineContext => decodeAll(bytes, 'context', readRefineContext);
/** GP encoding of an ImportSpec (34 bytes). */
export const encodeImportSpec = (x: ImportSpec): Uint8Array => encodeWith(x, 'import_spec', writeImportSpec);
/** @throws DomainError('invalid_encoding') */
export const decodeImportSpec = (bytes: Uint8Array): ImportSpec => decodeAll(bytes, 'import_spec', readImportSpec);
/** GP encoding of an ExtrinsicSpec (36 bytes). */
export const encodeExtrinsicSpec = (x: ExtrinsicSpec): Uint8Array => encodeWith(x, 'extrinsic_spec', writeExtrinsicSpec);
/** @throws DomainError('invalid_encoding') */
export const decodeExtrinsicSpec = (bytes: Uint8Array): ExtrinsicSpec => decodeAll(bytes, 'extrinsic_spec', readExtrinsicSpec);
/** GP encoding of a WorkItem. */
export const encodeWorkItem = (x: WorkItem): Uint8Array => encodeWith(x, 'item', writeWorkItem);
/** @throws DomainError('invalid_encoding') */
export const decodeWorkItem = (bytes: Uint8Array): WorkItem => decodeAll(bytes, 'item', readWorkItem);
/** GP encoding of a WorkPackage; its Blake2b-256 is the package hash. */
export const encodeWorkPackage = (x: WorkPackage): Uint8Array => encodeWith(x, 'package', writeWorkPackage);
/** @throws DomainError('invalid_encoding') */
export const decodeWorkPackage = (bytes: Uint8Array): WorkPackage => decodeAll(bytes, 'package', readWorkPackage);
