import { execFileSync } from 'node:child_process';
import * as path from 'node:path';

/** A GP 0.7.2 work report as typeberry decoded it: numbers as decimal strings, bytes as `0x` hex. */
export interface TypeberryReport {
  /** typeberry's protocol version (`CURRENT_VERSION`), `0.7.2` for @typeberry/lib 0.5.11 */
  gp_version: string;
  /** typeberry re-encoded what it decoded to exactly the input bytes */
  reencoded_equal: boolean;
  /** typeberry's Blake2b-256 of the input bytes */
  blake2b256: string;
  package_spec: { hash: string; length: string; erasure_root: string; exports_root: string; exports_count: string };
  context: { anchor: string; state_root: string; beefy_root: string; lookup_anchor: string; lookup_anchor_slot: string; prerequisites: string[] };
  core_index: string;
  authorizer_hash: string;
  auth_gas_used: string;
  auth_output: string;
  segment_root_lookup: { work_package_hash: string; segment_tree_root: string }[];
  results: {
    service_id: string;
    code_hash: string;
    payload_hash: string;
    accumulate_gas: string;
    /** GP 0.7.2 WorkExecResult: 0 ok, 1 out_of_gas, 2 panic, 3 bad_exports, 4 oversize, 5 bad_code, 6 code_oversize */
    result_kind: string;
    /** the output when `result_kind` is 0, else null */
    ok: string | null;
    gas_used: string;
    imports: string;
    extrinsic_count: string;
    extrinsic_size: string;
    exports: string;
  }[];
}

/**
 * Decodes E(report) (`0x` hex, as `GET /jam/reports/{hash}` serves it in `encoded`) with typeberry's
 * codec, a second GP implementation, in a child Node process (test/support/typeberry-decode.cjs:
 * the library is ESM, which Jest's module registry cannot load).
 *
 * @throws Error with typeberry's message when it cannot decode the bytes (truncated, trailing
 *   bytes, a field out of range).
 */
export function decodeReportWithTypeberry(encodedHex: string): TypeberryReport {
  const script = path.join(__dirname, 'typeberry-decode.cjs');
  const out = execFileSync(process.execPath, [script], { input: encodedHex, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
  return JSON.parse(out) as TypeberryReport;
}
