import { DomainError } from './domain-error';
import { decodeAll, encodeWith, type GpReader, type GpWriter } from './gp-codec';
import { readRefineContext, writeRefineContext } from './work-package.codec';
import {
  WORK_EXEC_RESULT_KINDS,
  type AvailabilitySpec,
  type RefineLoad,
  type SegmentRootLookupItem,
  type WorkDigest,
  type WorkExecResult,
  type WorkExecResultKind,
  type WorkReport,
} from './work-types';

/**
 * GP 0.7.2 appendix C encodings of a work report and its parts (eq. C.23-C.26), checked byte
 * for byte against the official codec vectors. Layouts (E_n fixed little-endian, E compact,
 * ↕ compact length prefix):
 *
 * - WorkExecResult: E(discriminator 0..6) and, for `ok` (0) only, ↕output
 *   (0 ok, 1 out_of_gas, 2 panic, 3 bad_exports, 4 oversize, 5 bad_code, 6 code_oversize)
 * - RefineLoad: E(gas_used) ++ E(imports) ++ E(extrinsic_count) ++ E(extrinsic_size) ++ E(exports),
 *   all compact; decoded ranges u64, u16, u16, u32, u16 (the vectors' ASN types)
 * - WorkDigest: E_4(service_id) ++ code_hash(32) ++ payload_hash(32) ++ E_8(accumulate_gas)
 *   ++ WorkExecResult ++ RefineLoad
 * - AvailabilitySpec: hash(32) ++ E_4(length) ++ erasure_root(32) ++ exports_root(32) ++ E_2(exports_count)
 * - WorkReport: AvailabilitySpec ++ RefineContext ++ E(core_index) ++ authorizer_hash(32)
 *   ++ E(auth_gas_used) ++ ↕auth_output ++ ↕[work_package_hash(32) ++ segment_tree_root(32)]
 *   ++ ↕[WorkDigest]; core_index and auth_gas_used are compact.
 *
 * Decoders throw DomainError('invalid_encoding', '<path>: <problem>', {path}) on truncated
 * input, trailing bytes, non-canonical compact integers, unknown discriminators, values out of
 * range and over-long lengths; encoders throw the same code for values that do not fit.
 */

const HASH = 32;
/** Smallest WorkDigest encoding: fixed fields, a 1-byte result and five 1-byte compacts. */
const MIN_WORK_DIGEST_SIZE = 4 + HASH + HASH + 8 + 1 + 5;

function writeWorkExecResult(w: GpWriter, x: WorkExecResult, path: string): void {
  const kind = workExecResultKind(x, path);
  w.compact(WORK_EXEC_RESULT_KINDS.indexOf(kind), path);
  if ('ok' in x) w.blob(x.ok, `${path}.ok`);
}

function readWorkExecResult(r: GpReader, path: string): WorkExecResult {
  const d = r.compact(path);
  switch (d) {
    case 0n:
      return { ok: r.blob(`${path}.ok`) };
    case 1n:
      return { out_of_gas: null };
    case 2n:
      return { panic: null };
    case 3n:
      return { bad_exports: null };
    case 4n:
      return { oversize: null };
    case 5n:
      return { bad_code: null };
    case 6n:
      return { code_oversize: null };
    default:
      throw new DomainError('invalid_encoding', `${path}: unknown WorkExecResult discriminator ${d}`, { path });
  }
}

/**
 * The variant name of a WorkExecResult.
 * @throws DomainError('invalid_encoding') when `x` is not exactly one known variant.
 */
export function workExecResultKind(x: WorkExecResult, path = 'result'): WorkExecResultKind {
  const keys = Object.keys(x);
  const k = keys[0];
  if (keys.length !== 1 || !(WORK_EXEC_RESULT_KINDS as readonly string[]).includes(k ?? '')) {
    throw new DomainError('invalid_encoding', `cannot encode ${path}: not a WorkExecResult variant`, { path });
  }
  return k as WorkExecResultKind;
}

function writeRefineLoad(w: GpWriter, x: RefineLoad, path: string): void {
  w.compact(x.gas_used, `${path}.gas_used`);
  w.compact(x.imports, `${path}.imports`);
  w.compact(x.extrinsic_count, `${path}.extrinsic_count`);
  w.compact(x.extrinsic_size, `${path}.extrinsic_size`);
  w.compact(x.exports, `${path}.exports`);
}

function readRefineLoad(r: GpReader, path: string): RefineLoad {
  return {
    gas_used: r.compactU64(`${path}.gas_used`),
    imports: r.compactNumber(0xffff, `${path}.imports`),
    extrinsic_count: r.compactNumber(0xffff, `${path}.extrinsic_count`),
    extrinsic_size: r.compactNumber(0xffff_ffff, `${path}.extrinsic_size`),
    exports: r.compactNumber(0xffff, `${path}.exports`),
  };
}

function writeWorkDigest(w: GpWriter, x: WorkDigest, path: string): void {
  w.u32(x.service_id, `${path}.service_id`);
  w.fixed(x.code_hash, HASH, `${path}.code_hash`);
  w.fixed(x.payload_hash, HASH, `${path}.payload_hash`);
  w.u64(x.accumulate_gas, `${path}.accumulate_gas`);
  writeWorkExecResult(w, x.result, `${path}.result`);
  writeRefineLoad(w, x.refine_load, `${path}.refine_load`);
}

function readWorkDigest(r: GpReader, path: string): WorkDigest {
  return {
    service_id: r.u32(`${path}.service_id`),
    code_hash: r.bytes(HASH, `${path}.code_hash`),
    payload_hash: r.bytes(HASH, `${path}.payload_hash`),
    accumulate_gas: r.u64(`${path}.accumulate_gas`),
    result: readWorkExecResult(r, `${path}.result`),
    refine_load: readRefineLoad(r, `${path}.refine_load`),
  };
}

function writeAvailabilitySpec(w: GpWriter, x: AvailabilitySpec, path: string): void {
  w.fixed(x.hash, HASH, `${path}.hash`);
  w.u32(x.length, `${path}.length`);
  w.fixed(x.erasure_root, HASH, `${path}.erasure_root`);
  w.fixed(x.exports_root, HASH, `${path}.exports_root`);
  w.u16(x.exports_count, `${path}.exports_count`);
}

function readAvailabilitySpec(r: GpReader, path: string): AvailabilitySpec {
  return {
    hash: r.bytes(HASH, `${path}.hash`),
    length: r.u32(`${path}.length`),
    erasure_root: r.bytes(HASH, `${path}.erasure_root`),
    exports_root: r.bytes(HASH, `${path}.exports_root`),
    exports_count: r.u16(`${path}.exports_count`),
  };
}

function writeSegmentRootLookupItem(w: GpWriter, x: SegmentRootLookupItem, path: string): void {
  w.fixed(x.work_package_hash, HASH, `${path}.work_package_hash`);
  w.fixed(x.segment_tree_root, HASH, `${path}.segment_tree_root`);
}

function readSegmentRootLookupItem(r: GpReader, path: string): SegmentRootLookupItem {
  return { work_package_hash: r.bytes(HASH, `${path}.work_package_hash`), segment_tree_root: r.bytes(HASH, `${path}.segment_tree_root`) };
}

function writeWorkReport(w: GpWriter, x: WorkReport, path: string): void {
  writeAvailabilitySpec(w, x.package_spec, `${path}.package_spec`);
  writeRefineContext(w, x.context, `${path}.context`);
  w.compact(checkU16(x.core_index, `${path}.core_index`), `${path}.core_index`);
  w.fixed(x.authorizer_hash, HASH, `${path}.authorizer_hash`);
  w.compact(x.auth_gas_used, `${path}.auth_gas_used`);
  w.blob(x.auth_output, `${path}.auth_output`);
  w.seq(x.segment_root_lookup, `${path}.segment_root_lookup`, writeSegmentRootLookupItem);
  w.seq(x.results, `${path}.results`, writeWorkDigest);
}

function readWorkReport(r: GpReader, path: string): WorkReport {
  return {
    package_spec: readAvailabilitySpec(r, `${path}.package_spec`),
    context: readRefineContext(r, `${path}.context`),
    core_index: r.compactNumber(0xffff, `${path}.core_index`),
    authorizer_hash: r.bytes(HASH, `${path}.authorizer_hash`),
    auth_gas_used: r.compactU64(`${path}.auth_gas_used`),
    auth_output: r.blob(`${path}.auth_output`),
    segment_root_lookup: r.seq(`${path}.segment_root_lookup`, 2 * HASH, readSegmentRootLookupItem),
    results: r.seq(`${path}.results`, MIN_WORK_DIGEST_SIZE, readWorkDigest),
  };
}

function checkU16(x: number, path: string): number {
  if (!Number.isSafeInteger(x) || x < 0 || x > 0xffff) {
    throw new DomainError('invalid_encoding', `cannot encode ${path}: ${String(x)} is not a u16`, { path });
  }
  return x;
}

/** GP encoding of a WorkExecResult. */
export const encodeWorkExecResult = (x: WorkExecResult): Uint8Array => encodeWith(x, 'result', writeWorkExecResult);
/** @throws DomainError('invalid_encoding') */
export const decodeWorkExecResult = (bytes: Uint8Array): WorkExecResult => decodeAll(bytes, 'result', readWorkExecResult);
/** GP encoding of a RefineLoad (all compact). */
export const encodeRefineLoad = (x: RefineLoad): Uint8Array => encodeWith(x, 'refine_load', writeRefineLoad);
/** @throws DomainError('invalid_encoding') */
export const decodeRefineLoad = (bytes: Uint8Array): RefineLoad => decodeAll(bytes, 'refine_load', readRefineLoad);
/** GP encoding of a WorkDigest (the vectors' WorkResult). */
export const encodeWorkDigest = (x: WorkDigest): Uint8Array => encodeWith(x, 'digest', writeWorkDigest);
/** @throws DomainError('invalid_encoding') */
export const decodeWorkDigest = (bytes: Uint8Array): WorkDigest => decodeAll(bytes, 'digest', readWorkDigest);
/** GP encoding of an AvailabilitySpec (134 bytes). */
export const encodeAvailabilitySpec = (x: AvailabilitySpec): Uint8Array => encodeWith(x, 'package_spec', writeAvailabilitySpec);
/** @throws DomainError('invalid_encoding') */
export const decodeAvailabilitySpec = (bytes: Uint8Array): AvailabilitySpec => decodeAll(bytes, 'package_spec', readAvailabilitySpec);
/** GP encoding of a WorkReport. */
export const encodeWorkReport = (x: WorkReport): Uint8Array => encodeWith(x, 'report', writeWorkReport);
/** @throws DomainError('invalid_encoding') */
export const decodeWorkReport = (bytes: Uint8Array): WorkReport => decodeAll(bytes, 'report', readWorkReport);
