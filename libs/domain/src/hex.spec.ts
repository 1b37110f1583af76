import { DomainError } from './domain-error';
import { fromHex, toHex } from './hex';

describe('hex', () => {
  it('encodes lowercase with 0x and round-trips', () => {
    expect(toHex(new Uint8Array([0, 1, 0xab, 0xff]))).toBe('0x0001abff');
    expect(toHex(new Uint8Array())).toBe('0x');
    expect(Array.from(fromHex('0x0001ABff'))).toEqual([0, 1, 0xab, 0xff]);
    expect(fromHex('0x').length).toBe(0);
  });

  it.each(['0001', '0x123', '0xzz', '0x 1', 'x0'])('rejects %p', (s) => {
    expect(() => fromHex(s)).toThrow(expect.objectContaining({ code: 'invalid_hex' }));
  });

  it('enforces the expected length', () => {
    expect(fromHex('0x' + '00'.repeat(32), 32).length).toBe(32);
    expect(() => fromHex('0x' + '00'.repeat(31), 32)).toThrow(DomainError);
  });
});
