import { blake2b256, initHashing } from './hashing';
import { toHex } from './hex';
import { constantDepthMerkleRoot, segmentAddress, segmentsRoot } from './segments-root';

const cat = (...parts: (Uint8Array | string)[]): Uint8Array =>
  new Uint8Array(Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'ascii') : Buffer.from(p)))));
const H = (...parts: (Uint8Array | string)[]) => blake2b256(cat(...parts));
const ZERO = new Uint8Array(32);
const seg = (n: number) => new Uint8Array(4104).fill(n);

describe('segments root: GP 0.7.2 appendix E eq. E.4 constant-depth Merkle root', () => {
  beforeAll(() => initHashing());

  it('matches the tree written out by hand for 0, 1, 2, 3 and 5 leaves', () => {
    const [a, b, c, d, e] = [seg(1), seg(2), seg(3), seg(4), seg(5)];
    const leaf = (x: Uint8Array) => H('leaf', x);
    expect(toHex(segmentsRoot([]))).toBe(toHex(ZERO));
    expect(toHex(segmentsRoot([a]))).toBe(toHex(leaf(a)));
    expect(toHex(segmentsRoot([a, b]))).toBe(toHex(H('node', leaf(a), leaf(b))));
    // 3 leaves pad to 4 with the zero hash
    expect(toHex(segmentsRoot([a, b, c]))).toBe(toHex(H('node', H('node', leaf(a), leaf(b)), H('node', leaf(c), ZERO))));
    // 5 leaves pad to 8
    const left = H('node', H('node', leaf(a), leaf(b)), H('node', leaf(c), leaf(d)));
    const right = H('node', H('node', leaf(e), ZERO), H('node', ZERO, ZERO));
    expect(toHex(segmentsRoot([a, b, c, d, e]))).toBe(toHex(H('node', left, right)));
    // order matters
    expect(toHex(segmentsRoot([b, a]))).not.toBe(toHex(segmentsRoot([a, b])));
    expect(toHex(constantDepthMerkleRoot([new Uint8Array([7])]))).toBe(toHex(H('leaf', new Uint8Array([7]))));
  });

  it('refuses segments that are not W_G = 4104 bytes', () => {
    expect(() => segmentsRoot([new Uint8Array(4103)])).toThrow(expect.objectContaining({ code: 'invalid_encoding' }));
  });

  it('reads an ImportSpec: bit 15 of the index marks the package-hash form', () => {
    const root = new Uint8Array(32).fill(0xab);
    expect(segmentAddress({ tree_root: root, index: 3 })).toEqual({ root: toHex(root), kind: 'segments_root', index: 3 });
    expect(segmentAddress({ tree_root: root, index: 0x8000 + 3 })).toEqual({ root: toHex(root), kind: 'package_hash', index: 3 });
  });
});
