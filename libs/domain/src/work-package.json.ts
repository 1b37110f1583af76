import { toHex } from './hex';
import { join, JsonReader, u64ToJson, type HexJson, type U64Json } from './json-reader';
import type { ExtrinsicSpec, ImportSpec, RefineContext, WorkItem, WorkPackage } from './work-types';

/**
 * The JSON form of work packages and their parts, exactly as in the JAM codec vectors
 * (`vectors/jam/codec/tiny/*.json`): snake_case keys, bytes as 0x-hex, u16/u32 as numbers,
 * u64 as numbers when safe and bigints beyond 2^53 (write them with `stringifyJamJson`).
 *
 * `xFromJson(v)` validates every field (types, hex lengths, integer ranges, no missing or
 * unknown keys) and throws DomainError('invalid_package', '<path>: <problem>', {path}).
 */

export interface RefineContextJson {
  anchor: HexJson;
  state_root: HexJson;
  beefy_root: HexJson;
  lookup_anchor: HexJson;
  lookup_anchor_slot: number;
  prerequisites: HexJson[];
}
export interface ImportSpecJson {
  tree_root: HexJson;
  index: number;
}
export interface ExtrinsicSpecJson {
  hash: HexJson;
  len: number;
}
export interface WorkItemJson {
  service: number;
  code_hash: HexJson;
  refine_gas_limit: U64Json;
  accumulate_gas_limit: U64Json;
  export_count: number;
  payload: HexJson;
  import_segments: ImportSpecJson[];
  extrinsic: ExtrinsicSpecJson[];
}
export interface WorkPackageJson {
  auth_code_host: number;
  auth_code_hash: HexJson;
  context: RefineContextJson;
  authorization: HexJson;
  authorizer_config: HexJson;
  items: WorkItemJson[];
}

const CONTEXT_KEYS = ['anchor', 'state_root', 'beefy_root', 'lookup_anchor', 'lookup_anchor_slot', 'prerequisites'] as const;
const IMPORT_KEYS = ['tree_root', 'index'] as const;
const EXTRINSIC_KEYS = ['hash', 'len'] as const;
const ITEM_KEYS = ['service', 'code_hash', 'refine_gas_limit', 'accumulate_gas_limit', 'export_count', 'payload', 'import_segments', 'extrinsic'] as const;
const PACKAGE_KEYS = ['auth_code_host', 'auth_code_hash', 'context', 'authorization', 'authorizer_config', 'items'] as const;

export function refineContextToJson(c: RefineContext): RefineContextJson {
  return {
    anchor: toHex(c.anchor),
    state_root: toHex(c.state_root),
    beefy_root: toHex(c.beefy_root),
    lookup_anchor: toHex(c.lookup_anchor),
    lookup_anchor_slot: c.lookup_anchor_slot,
    prerequisites: c.prerequisites.map(toHex),
  };
}

/** Reads a RefineContext with the reader's error code (shared with the report JSON form). */
export function readRefineContextJson(j: JsonReader, v: unknown, path: string): RefineContext {
  const o = j.object(v, path, CONTEXT_KEYS);
  return {
    anchor: j.hash(o.anchor, join(path, 'anchor')),
    state_root: j.hash(o.state_root, join(path, 'state_root')),
    beefy_root: j.hash(o.beefy_root, join(path, 'beefy_root')),
    lookup_anchor: j.hash(o.lookup_anchor, join(path, 'lookup_anchor')),
    lookup_anchor_slot: j.u32(o.lookup_anchor_slot, join(path, 'lookup_anchor_slot')),
    prerequisites: j.array(o.prerequisites, join(path, 'prerequisites'), (x, p) => j.hash(x, p)),
  };
}

export function importSpecToJson(s: ImportSpec): ImportSpecJson {
  return { tree_root: toHex(s.tree_root), index: s.index };
}

function readImportSpecJson(j: JsonReader, v: unknown, path: string): ImportSpec {
  const o = j.object(v, path, IMPORT_KEYS);
  return { tree_root: j.hash(o.tree_root, join(path, 'tree_root')), index: j.u16(o.index, join(path, 'index')) };
}

export function extrinsicSpecToJson(s: ExtrinsicSpec): ExtrinsicSpecJson {
  return { hash: toHex(s.hash), len: s.len };
}

function readExtrinsicSpecJson(j: JsonReader, v: unknown, path: string): ExtrinsicSpec {
  const o = j.object(v, path, EXTRINSIC_KEYS);
  return { hash: j.hash(o.hash, join(path, 'hash')), len: j.u32(o.len, join(path, 'len')) };
}

export function workItemToJson(it: WorkItem): WorkItemJson {
  return {
    service: it.service,
    code_hash: toHex(it.code_hash),
    refine_gas_limit: u64ToJson(it.refine_gas_limit),
    accumulate_gas_limit: u64ToJson(it.accumulate_gas_limit),
    export_count: it.export_count,
    payload: toHex(it.payload),
    import_segments: it.import_segments.map(importSpecToJson),
    extrinsic: it.extrinsic.map(extrinsicSpecToJson),
  };
}

function readWorkItemJson(j: JsonReader, v: unknown, path: string): WorkItem {
  const o = j.object(v, path, ITEM_KEYS);
  return {
    service: j.u32(o.service, join(path, 'service')),
    code_hash: j.hash(o.code_hash, join(path, 'code_hash')),
    refine_gas_limit: j.u64(o.refine_gas_limit, join(path, 'refine_gas_limit')),
    accumulate_gas_limit: j.u64(o.accumulate_gas_limit, join(path, 'accumulate_gas_limit')),
    export_count: j.u16(o.export_count, join(path, 'export_count')),
    payload: j.bytes(o.payload, join(path, 'payload')),
    import_segments: j.array(o.import_segments, join(path, 'import_segments'), (x, p) => readImportSpecJson(j, x, p)),
    extrinsic: j.array(o.extrinsic, join(path, 'extrinsic'), (x, p) => readExtrinsicSpecJson(j, x, p)),
  };
}

export function workPackageToJson(p: WorkPackage): WorkPackageJson {
  return {
    auth_code_host: p.auth_code_host,
    auth_code_hash: toHex(p.auth_code_hash),
    context: refineContextToJson(p.context),
    authorization: toHex(p.authorization),
    authorizer_config: toHex(p.authorizer_config),
    items: p.items.map(workItemToJson),
  };
}

function readWorkPackageJson(j: JsonReader, v: unknown, path: string): WorkPackage {
  const o = j.object(v, path, PACKAGE_KEYS);
  return {
    auth_code_host: j.u32(o.auth_code_host, join(path, 'auth_code_host')),
    auth_code_hash: j.hash(o.auth_code_hash, join(path, 'auth_code_hash')),
    context: readRefineContextJson(j, o.context, join(path, 'context')),
    authorization: j.bytes(o.authorization, join(path, 'authorization')),
    authorizer_config: j.bytes(o.authorizer_config, join(path, 'authorizer_config')),
    items: j.array(o.items, join(path, 'items'), (x, p) => readWorkItemJson(j, x, p)),
  };
}

const pkg = new JsonReader('invalid_package');

/** @throws DomainError('invalid_package') with the field path. */
export const refineContextFromJson = (v: unknown): RefineContext => readRefineContextJson(pkg, v, '');
/** @throws DomainError('invalid_package') with the field path. */
export const importSpecFromJson = (v: unknown): ImportSpec => readImportSpecJson(pkg, v, '');
/** @throws DomainError('invalid_package') with the field path. */
export const extrinsicSpecFromJson = (v: unknown): ExtrinsicSpec => readExtrinsicSpecJson(pkg, v, '');
/** @throws DomainError('invalid_package') with the field path. */
export const workItemFromJson = (v: unknown): WorkItem => readWorkItemJson(pkg, v, '');
/** @throws DomainError('invalid_package') with the field path, e.g. `items[1].refine_gas_limit`. */
export const workPackageFromJson = (v: unknown): WorkPackage => readWorkPackageJson(pkg, v, '');
