import { toHex } from './hex';
import { join, JsonReader, u64ToJson, type HexJson, type U64Json } from './json-reader';
import { readRefineContextJson, refineContextToJson, type RefineContextJson } from './work-package.json';
import { workExecResultKind } from './work-report.codec';
import {
  WORK_EXEC_RESULT_KINDS,
  type AvailabilitySpec,
  type RefineLoad,
  type SegmentRootLookupItem,
  type WorkDigest,
  type WorkExecResult,
  type WorkReport,
} from './work-types';

/**
 * The JSON form of work reports and their parts, exactly as in the JAM codec vectors
 * (`work_report.json`, `work_result_*.json`). A WorkExecResult is a one-key object:
 * `{"ok": "0x..."}` or `{"panic": null}` (likewise for the other error variants).
 * u64 values are numbers when safe, bigints beyond 2^53.
 *
 * `xFromJson(v)` validates every field and throws DomainError('invalid_json', '<path>: <problem>', {path}).
 */

export type WorkExecResultJson =
  { ok: HexJson } | { out_of_gas: null } | { panic: null } | { bad_exports: null } | { oversize: null } | { bad_code: null } | { code_oversize: null };
export interface RefineLoadJson {
  gas_used: U64Json;
  imports: number;
  extrinsic_count: number;
  extrinsic_size: number;
  exports: number;
}
export interface WorkDigestJson {
  service_id: number;
  code_hash: HexJson;
  payload_hash: HexJson;
  accumulate_gas: U64Json;
  result: WorkExecResultJson;
  refine_load: RefineLoadJson;
}
export interface AvailabilitySpecJson {
  hash: HexJson;
  length: number;
  erasure_root: HexJson;
  exports_root: HexJson;
  exports_count: number;
}
export interface SegmentRootLookupItemJson {
  work_package_hash: HexJson;
  segment_tree_root: HexJson;
}
export interface WorkReportJson {
  package_spec: AvailabilitySpecJson;
  context: RefineContextJson;
  core_index: number;
  authorizer_hash: HexJson;
  auth_gas_used: U64Json;
  auth_output: HexJson;
  segment_root_lookup: SegmentRootLookupItemJson[];
  results: WorkDigestJson[];
}

const LOAD_KEYS = ['gas_used', 'imports', 'extrinsic_count', 'extrinsic_size', 'exports'] as const;
const DIGEST_KEYS = ['service_id', 'code_hash', 'payload_hash', 'accumulate_gas', 'result', 'refine_load'] as const;
const SPEC_KEYS = ['hash', 'length', 'erasure_root', 'exports_root', 'exports_count'] as const;
const LOOKUP_KEYS = ['work_package_hash', 'segment_tree_root'] as const;
const REPORT_KEYS = ['package_spec', 'context', 'core_index', 'authorizer_hash', 'auth_gas_used', 'auth_output', 'segment_root_lookup', 'results'] as const;

export function workExecResultToJson(x: WorkExecResult): WorkExecResultJson {
  if ('ok' in x) return { ok: toHex(x.ok) };
  return { [workExecResultKind(x)]: null } as WorkExecResultJson;
}

function readWorkExecResultJson(j: JsonReader, v: unknown, path: string): WorkExecResult {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) j.fail(path, 'must be an object');
  const keys = Object.keys(v);
  const kind = keys[0];
  if (keys.length !== 1 || kind === undefined || !(WORK_EXEC_RESULT_KINDS as readonly string[]).includes(kind)) {
    j.fail(path, `must have exactly one key of ${WORK_EXEC_RESULT_KINDS.join(', ')}`);
  }
  const value = (v as Record<string, unknown>)[kind];
  if (kind === 'ok') return { ok: j.bytes(value, join(path, 'ok')) };
  if (value !== null) j.fail(join(path, kind), 'must be null');
  return { [kind]: null } as WorkExecResult;
}

export function refineLoadToJson(x: RefineLoad): RefineLoadJson {
  return {
    gas_used: u64ToJson(x.gas_used),
    imports: x.imports,
    extrinsic_count: x.extrinsic_count,
    extrinsic_size: x.extrinsic_size,
    exports: x.exports,
  };
}

function readRefineLoadJson(j: JsonReader, v: unknown, path: string): RefineLoad {
  const o = j.object(v, path, LOAD_KEYS);
  return {
    gas_used: j.u64(o.gas_used, join(path, 'gas_used')),
    imports: j.u16(o.imports, join(path, 'imports')),
    extrinsic_count: j.u16(o.extrinsic_count, join(path, 'extrinsic_count')),
    extrinsic_size: j.u32(o.extrinsic_size, join(path, 'extrinsic_size')),
    exports: j.u16(o.exports, join(path, 'exports')),
  };
}

export function workDigestToJson(x: WorkDigest): WorkDigestJson {
  return {
    service_id: x.service_id,
    code_hash: toHex(x.code_hash),
    payload_hash: toHex(x.payload_hash),
    accumulate_gas: u64ToJson(x.accumulate_gas),
    result: workExecResultToJson(x.result),
    refine_load: refineLoadToJson(x.refine_load),
  };
}

function readWorkDigestJson(j: JsonReader, v: unknown, path: string): WorkDigest {
  const o = j.object(v, path, DIGEST_KEYS);
  return {
    service_id: j.u32(o.service_id, join(path, 'service_id')),
    code_hash: j.hash(o.code_hash, join(path, 'code_hash')),
    payload_hash: j.hash(o.payload_hash, join(path, 'payload_hash')),
    accumulate_gas: j.u64(o.accumulate_gas, join(path, 'accumulate_gas')),
    result: readWorkExecResultJson(j, o.result, join(path, 'result')),
    refine_load: readRefineLoadJson(j, o.refine_load, join(path, 'refine_load')),
  };
}

export function availabilitySpecToJson(x: AvailabilitySpec): AvailabilitySpecJson {
  return {
    hash: toHex(x.hash),
    length: x.length,
    erasure_root: toHex(x.erasure_root),
    exports_root: toHex(x.exports_root),
    exports_count: x.exports_count,
  };
}

function readAvailabilitySpecJson(j: JsonReader, v: unknown, path: string): AvailabilitySpec {
  const o = j.object(v, path, SPEC_KEYS);
  return {
    hash: j.hash(o.hash, join(path, 'hash')),
    length: j.u32(o.length, join(path, 'length')),
    erasure_root: j.hash(o.erasure_root, join(path, 'erasure_root')),
    exports_root: j.hash(o.exports_root, join(path, 'exports_root')),
    exports_count: j.u16(o.exports_count, join(path, 'exports_count')),
  };
}

function segmentRootLookupItemToJson(x: SegmentRootLookupItem): SegmentRootLookupItemJson {
  return { work_package_hash: toHex(x.work_package_hash), segment_tree_root: toHex(x.segment_tree_root) };
}

function readSegmentRootLookupItemJson(j: JsonReader, v: unknown, path: string): SegmentRootLookupItem {
  const o = j.object(v, path, LOOKUP_KEYS);
  return {
    work_package_hash: j.hash(o.work_package_hash, join(path, 'work_package_hash')),
    segment_tree_root: j.hash(o.segment_tree_root, join(path, 'segment_tree_root')),
  };
}

export function workReportToJson(x: WorkReport): WorkReportJson {
  return {
    package_spec: availabilitySpecToJson(x.package_spec),
    context: refineContextToJson(x.context),
    core_index: x.core_index,
    authorizer_hash: toHex(x.authorizer_hash),
    auth_gas_used: u64ToJson(x.auth_gas_used),
    auth_output: toHex(x.auth_output),
    segment_root_lookup: x.segment_root_lookup.map(segmentRootLookupItemToJson),
    results: x.results.map(workDigestToJson),
  };
}

function readWorkReportJson(j: JsonReader, v: unknown, path: string): WorkReport {
  const o = j.object(v, path, REPORT_KEYS);
  return {
    package_spec: readAvailabilitySpecJson(j, o.package_spec, join(path, 'package_spec')),
    context: readRefineContextJson(j, o.context, join(path, 'context')),
    core_index: j.u16(o.core_index, join(path, 'core_index')),
    authorizer_hash: j.hash(o.authorizer_hash, join(path, 'authorizer_hash')),
    auth_gas_used: j.u64(o.auth_gas_used, join(path, 'auth_gas_used')),
    auth_output: j.bytes(o.auth_output, join(path, 'auth_output')),
    segment_root_lookup: j.array(o.segment_root_lookup, join(path, 'segment_root_lookup'), (x, p) => readSegmentRootLookupItemJson(j, x, p)),
    results: j.array(o.results, join(path, 'results'), (x, p) => readWorkDigestJson(j, x, p)),
  };
}

const rep = new JsonReader('invalid_json');

/** @throws DomainError('invalid_json') with the field path. */
export const workExecResultFromJson = (v: unknown): WorkExecResult => readWorkExecResultJson(rep, v, '');
/** @throws DomainError('invalid_json') with the field path. */
export const refineLoadFromJson = (v: unknown): RefineLoad => readRefineLoadJson(rep, v, '');
/** @throws DomainError('invalid_json') with the field path. */
export const workDigestFromJson = (v: unknown): WorkDigest => readWorkDigestJson(rep, v, '');
/** @throws DomainError('invalid_json') with the field path. */
export const availabilitySpecFromJson = (v: unknown): AvailabilitySpec => readAvailabilitySpecJson(rep, v, '');
/** @throws DomainError('invalid_json') with the field path, e.g. `results[0].refine_load.imports`. */
export const workReportFromJson = (v: unknown): WorkReport => readWorkReportJson(rep, v, '');
