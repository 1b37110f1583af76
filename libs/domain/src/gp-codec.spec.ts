import { DomainError } from './domain-error';
import { GpReader, GpWriter } from './gp-codec';
import { toHex } from './hex';

function enc(x: bigint | number): string {
  const w = new GpWriter();
  w.compact(x, 'x');
  return toHex(w.finish());
}

function dec(bytes: number[]): bigint {
  const r = new GpReader(new Uint8Array(bytes));
  const v = r.compact('x');
  r.end('x');
  return v;
}

describe('GP compact natural encoding (appendix C eq. C.1)', () => {
  it.each<[bigint, string]>([
    [0n, '0x00'],
    [1n, '0x01'],
    [127n, '0x7f'],
    [128n, '0x8080'],
    [16383n, '0xbfff'],
    [16384n, '0xc00040'],
    [(1n << 56n) - 1n, '0xfeffffffffffffff'],
    [1n << 56n, '0xff0000000000000001'],
    [(1n << 64n) - 1n, '0xffffffffffffffffff'],
  ])('%p <-> %s', (v, hex) => {
    expect(enc(v)).toBe(hex);
    const bytes = Array.from(Buffer.from(hex.slice(2), 'hex'));
    expect(dec(bytes)).toBe(v);
  });

  it('round-trips values around every width boundary', () => {
    for (let l = 1; l <= 9; l++) {
      for (const v of [(1n << BigInt(7 * l)) - 1n, 1n << BigInt(7 * l)]) {
        if (v >= 1n << 64n) continue;
        const w = new GpWriter();
        w.compact(v, 'x');
        expect(dec(Array.from(w.finish()))).toBe(v);
      }
    }
  });

  it.each([
    [[0x80, 0x05]], // 5 in two bytes
    [[0xc0, 0x10, 0x00]], // 16 in three bytes
    [[0xff, 1, 0, 0, 0, 0, 0, 0, 0]], // 1 in nine bytes
  ])('rejects non-canonical %p', (bytes) => {
    expect(() => dec(bytes)).toThrow(expect.objectContaining({ code: 'invalid_encoding', message: 'x: non-canonical compact integer' }));
  });

  it('refuses to encode values outside u64 or out of a fixed width', () => {
    const w = new GpWriter();
    expect(() => w.compact(1n << 64n, 'gas')).toThrow(DomainError);
    expect(() => w.compact(-1, 'n')).toThrow(DomainError);
    expect(() => w.u16(65536, 'items[0].export_count')).toThrow(/items\[0\]\.export_count/);
    expect(() => w.fixed(new Uint8Array(31), 32, 'code_hash')).toThrow(/code_hash: must be 32 bytes/);
  });
});
