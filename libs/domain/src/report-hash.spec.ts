import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { GUARANTEE_CONTEXT, guaranteeMessage } from './guarantee-message';
import { blake2b256, initHashing } from './hashing';
import { toHex } from './hex';
import { reportHash, encodeEngineIdentity } from './report-hash';
import { encodeWorkReport } from './work-report.codec';
import type { EngineIdentity } from './work-types';
import { decodeWorkReport } from './work-report.codec';

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

  it('hashes the report encoding followed by the engine identity', () => {
    const report = decodeWorkReport(bin);
    const expected = blake2b256(new Uint8Array([...bin, ...encodeEngineIdentity(engine)]));
    expect(toHex(reportHash(report, engine))).toBe(toHex(expected));
    expect(toHex(encodeWorkReport(report))).toBe(toHex(bin));
    expect(toHex(reportHash(report, { ...engine, cost_table_version: 4 }))).not.toBe(toHex(expected));
    expect(toHex(reportHash(report, { ...engine, version: '1.2.1' }))).not.toBe(toHex(expected));
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
