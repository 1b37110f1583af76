import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { GUARANTEE_CONTEXT, guaranteeMessage } from './guarantee-message';
import { blake2b256, initHashing } from './hashing';
import { toHex } from './hex';
import { decodeEngineAuthOutput, encodeEngineIdentity, engineAuthOutput, legacyReportHash, reportHash } from './report-hash';
import { decodeWorkReport, encodeWorkReport } from './work-report.codec';
import type { EngineIdentity } from './work-types';

const bin = new Uint8Array(readFileSync(path.resolve(__dirname, '../../../test/fixtures/jam-vectors/codec/tiny/work_report.bin')));
const engine: EngineIdentity = { name: 'jam-wasm', version: '1.2.0', cost_table_version: 3 };

describe('report hash and guarantee message', () => {
  beforeAll(() => initHashing());

  it('encodes the engine identity as ↕name ++ ↕version ++ E_4(cost_table_version)', () => {
    expect(toHex(encodeEngineIdentity(engine))).toBe('0x086a616d2d7761736d05312e322e3003000000');
    expect(() => encodeEngineIdentity({ ...engine, name: '' })).toThrow(expect.objectContaining({ code: 'invalid_encoding' }));
    expect(() => encodeEngineIdentity({ ...engine, version: '\uD800' })).toThrow(/engine\.version/);
    expect(() => encodeEngineIdentity({ ...engine, cost_table_version: -1 })).toThrow(/cost_table_version/);
  });

  it('is exactly Blake2b-256(E(report)) on the codec vector (GP 0.7.2 eq. 11.26)', () => {
    const report = decodeWorkReport(bin);
    expect(toHex(encodeWorkReport(report))).toBe(toHex(bin));
    expect(toHex(reportHash(report))).toBe(toHex(blake2b256(bin)));
  });

  it('binds the engine identity through auth_output: 0x01 ++ identity ++ authorizer trace, and reports of other engines differ', () => {
    expect(toHex(engineAuthOutput(engine))).toBe('0x01086a616d2d7761736d05312e322e3003000000');
    const trace = new Uint8Array([0xaa, 0xbb]);
    expect(decodeEngineAuthOutput(engineAuthOutput(engine, trace))).toEqual({ engine, authorizerTrace: trace });
    expect(() => decodeEngineAuthOutput(new Uint8Array(0))).toThrow(expect.objectContaining({ code: 'invalid_encoding' }));
    expect(() => decodeEngineAuthOutput(new Uint8Array([1, 9, 0x61]))).toThrow(/exceeds the 1 bytes left/);
    const report = decodeWorkReport(bin);
    const withEngine = (e: EngineIdentity) => toHex(reportHash({ ...report, auth_output: engineAuthOutput(e) }));
    const base = withEngine(engine);
    expect(base).toBe(toHex(blake2b256(encodeWorkReport({ ...report, auth_output: engineAuthOutput(engine) }))));
    expect(withEngine({ ...engine, cost_table_version: 4 })).not.toBe(base);
    expect(withEngine({ ...engine, version: '1.2.1' })).not.toBe(base);
    expect(withEngine({ ...engine, name: 'jam-wasm2' })).not.toBe(base);
  });

  it('keeps the legacy (hash format 1) rule for stored rows: report encoding followed by the engine identity', () => {
    const report = decodeWorkReport(bin);
    const expected = blake2b256(new Uint8Array([...bin, ...encodeEngineIdentity(engine)]));
    expect(toHex(legacyReportHash(report, engine))).toBe(toHex(expected));
    expect(toHex(legacyReportHash(report, engine))).not.toBe(toHex(reportHash(report)));
  });

  it('builds jam_guarantee ++ report hash', () => {
    expect(new TextDecoder().decode(GUARANTEE_CONTEXT)).toBe('jam_guarantee');
    const h = new Uint8Array(32).fill(7);
    const m = guaranteeMessage(h);
    expect(m.length).toBe(45);
    expect(toHex(m)).toBe('0x6a616d5f67756172616e746565' + '07'.repeat(32));
    expect(() => guaranteeMessage(new Uint8Array(31))).toThrow(expect.objectContaining({ code: 'invalid_encoding' }));
  });
});
