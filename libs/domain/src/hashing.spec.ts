import { blake2b256, createBlake2b256, initHashing } from './hashing';
import { toHex } from './hex';

describe('hashing', () => {
  beforeAll(() => initHashing());

  it('is idempotent', async () => {
    await Promise.all([initHashing(), initHashing()]);
    expect(toHex(blake2b256(new Uint8Array()))).toBe('0x0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8');
  });

  it('matches the Blake2b-256 vector for "abc"', () => {
    expect(toHex(blake2b256(new TextEncoder().encode('abc')))).toBe('0xbddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319');
  });

  it('streaming equals one-shot, and interleaved hashers stay independent', () => {
    const a = new Uint8Array(10_000).map((_, i) => i % 251);
    const b = new Uint8Array(777).map((_, i) => (i * 7) % 256);
    const ha = createBlake2b256();
    const hb = createBlake2b256();
    for (let i = 0; i < a.length; i += 1000) {
      ha.update(a.subarray(i, i + 1000));
      if (i < b.length) hb.update(b.subarray(i, i + 1000));
      blake2b256(new Uint8Array([1, 2, 3]));
    }
    expect(toHex(ha.digest())).toBe(toHex(blake2b256(a)));
    expect(toHex(hb.digest())).toBe(toHex(blake2b256(b)));
    expect(() => ha.digest()).toThrow(/finalised/);
  });
});
