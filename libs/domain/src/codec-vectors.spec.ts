import { readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { DomainError } from './domain-error';
import { initHashing } from './hashing';
import { toHex } from './hex';
import { parseJamJson } from './jam-json';
import { packageHash } from './package-hash';
import { decodeRefineContext, decodeWorkItem, decodeWorkPackage, encodeRefineContext, encodeWorkItem, encodeWorkPackage } from './work-package.codec';
import { refineContextFromJson, refineContextToJson, workItemFromJson, workItemToJson, workPackageFromJson, workPackageToJson } from './work-package.json';
import { decodeWorkDigest, decodeWorkReport, encodeWorkDigest, encodeWorkReport } from './work-report.codec';
import { workDigestFromJson, workDigestToJson, workReportFromJson, workReportToJson } from './work-report.json';

const VECTORS = path.resolve(__dirname, '../../../test/fixtures/jam-vectors/codec/tiny');

interface Codec {
  decode(b: Uint8Array): unknown;
  encode(x: never): Uint8Array;
  toJson(x: never): unknown;
  fromJson(v: unknown): unknown;
}

const codecs: Record<string, Codec> = {
  refine_context: { decode: decodeRefineContext, encode: encodeRefineContext, toJson: refineContextToJson, fromJson: refineContextFromJson },
  work_item: { decode: decodeWorkItem, encode: encodeWorkItem, toJson: workItemToJson, fromJson: workItemFromJson },
  work_package: { decode: decodeWorkPackage, encode: encodeWorkPackage, toJson: workPackageToJson, fromJson: workPackageFromJson },
  work_result: { decode: decodeWorkDigest, encode: encodeWorkDigest, toJson: workDigestToJson, fromJson: workDigestFromJson },
  work_report: { decode: decodeWorkReport, encode: encodeWorkReport, toJson: workReportToJson, fromJson: workReportFromJson },
};

const names = readdirSync(VECTORS)
  .filter((f) => f.endsWith('.bin'))
  .map((f) => f.slice(0, -4));

function codecFor(name: string): Codec {
  const c = codecs[name.replace(/_\d+$/, '')];
  if (c === undefined) throw new Error(`no codec for vector ${name}`);
  return c;
}

function load(name: string): { bin: Uint8Array; json: unknown } {
  return {
    bin: new Uint8Array(readFileSync(path.join(VECTORS, `${name}.bin`))),
    json: parseJamJson(readFileSync(path.join(VECTORS, `${name}.json`), 'utf8')),
  };
}

describe('GP codec against the official tiny vectors', () => {
  beforeAll(() => initHashing());

  it('finds every vector pair', () => {
    expect(names.sort()).toEqual(['refine_context', 'work_item', 'work_package', 'work_report', 'work_result_0', 'work_result_1']);
  });

  describe.each(names)('%s', (name) => {
    const c = codecFor(name);
    const { bin, json } = load(name);

    it('decodes, re-encodes byte for byte and matches the JSON', () => {
      const value = c.decode(bin);
      expect(toHex(c.encode(value as never))).toBe(toHex(bin));
      expect(c.toJson(value as never)).toEqual(json);
    });

    it('fromJson then encode gives the .bin', () => {
      expect(toHex(c.encode(c.fromJson(json) as never))).toBe(toHex(bin));
    });

    it('rejects every truncation with invalid_encoding', () => {
      for (let n = 0; n < bin.length; n++) {
        expect(() => c.decode(bin.subarray(0, n))).toThrow(expect.objectContaining({ code: 'invalid_encoding' }));
      }
    });

    it('rejects trailing bytes', () => {
      const longer = new Uint8Array(bin.length + 1);
      longer.set(bin);
      expect(() => c.decode(longer)).toThrow(expect.objectContaining({ code: 'invalid_encoding', message: expect.stringMatching(/trailing/) }));
    });
  });

  it('hashes the package vector to the known package hash', () => {
    const { bin, json } = load('work_package');
    expect(toHex(packageHash(decodeWorkPackage(bin)))).toBe('0xef4afe1c68afc76d148d91c3b3627decf0d8f361c6aae1e42e0ca0b5bd7a2033');
    expect(toHex(packageHash(workPackageFromJson(json)))).toBe('0xef4afe1c68afc76d148d91c3b3627decf0d8f361c6aae1e42e0ca0b5bd7a2033');
  });

  it('names the field path of a bad length prefix', () => {
    const { bin } = load('work_item');
    const bad = bin.slice(0, 100);
    bad[54] = 0x7f; // payload length prefix (after 4+32+8+8+2 bytes): 127, more than the 45 bytes left
    expect(() => decodeWorkItem(bad)).toThrow(/item\.payload: length 127 exceeds the 45 bytes left/);
  });

  it('rejects garbage and unknown result discriminators', () => {
    expect(() => decodeWorkPackage(new Uint8Array(300).fill(0xff))).toThrow(DomainError);
    const { bin } = load('work_result_1');
    const bad = bin.slice();
    bad[76] = 7; // result discriminator after service(4)+hashes(64)+gas(8)
    expect(() => decodeWorkDigest(bad)).toThrow(/digest\.result: unknown WorkExecResult discriminator 7/);
  });

  it('rejects a forged sequence count without allocating', () => {
    const { bin } = load('refine_context');
    const bad = bin.slice();
    bad[132] = 0xbf; // prerequisites count prefix with one continuation byte
    const forged = new Uint8Array([...bad, 0xff]);
    expect(() => decodeRefineContext(forged)).toThrow(/context\.prerequisites: count \d+ exceeds/);
  });
});
