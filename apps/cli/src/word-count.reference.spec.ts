import { countWords, decodeU64Le, encodeU64Le, expectedWordCountState, ITEMS_KEY, WORDS_KEY } from './word-count.reference';
import { demoPayloads } from './commands/demo.command';
import { generateText } from './demo/demo-texts';

const words = (s: string): number => countWords(new TextEncoder().encode(s));

describe('word-count reference', () => {
  it.each([
    ['', 0],
    ['   \t\n', 0],
    ['one', 1],
    ['  two words  ', 2],
    ['a\tb\nc\x0bd\x0ce\rf g', 7],
    ['run\r\n\r\nof\t \t whitespace', 3],
    ['no\u00a0break space', 2],
    ['naïve café 日本語 🚀', 4],
    ['\x1f\x00 \x7f', 2],
    ['x\x85y', 1],
  ])('%j has %i words', (text, n) => {
    expect(words(text)).toBe(n);
  });

  it('counts a byte 0x80.. as a word byte, whatever the UTF-8 around it', () => {
    expect(countWords(new Uint8Array([0xff, 0x20, 0x80, 0x09]))).toBe(2);
  });

  it('sums words and items for the expected storage', () => {
    const enc = new TextEncoder();
    expect(expectedWordCountState([enc.encode('a b c'), enc.encode(''), enc.encode('d')])).toEqual({ words: 4n, items: 3n });
  });

  it('uses the ASCII keys and u64 little-endian values of the service', () => {
    expect(Buffer.from(WORDS_KEY).toString('hex')).toBe('776f726473');
    expect(Buffer.from(ITEMS_KEY).toString('hex')).toBe('6974656d73');
    expect(Buffer.from(encodeU64Le(258n)).toString('hex')).toBe('0201000000000000');
    expect(decodeU64Le(encodeU64Le(2n ** 64n - 1n))).toBe(2n ** 64n - 1n);
    expect(() => decodeU64Le(new Uint8Array(4))).toThrow(RangeError);
  });

  it('agrees with a regex split on the demo texts', () => {
    const split = (b: Uint8Array): number =>
      Buffer.from(b)
        .toString('latin1')
        .split(/[ \t\n\v\f\r]+/)
        .filter(Boolean).length;
    const payloads = demoPayloads('nonce-1').flat();
    expect(payloads.length).toBe(6);
    for (const p of payloads) expect(countWords(p)).toBe(split(p));
    expect(generateText(1, 4096)).toBe(generateText(1, 4096));
    expect(Buffer.byteLength(generateText(2, 3072))).toBeGreaterThanOrEqual(3072);
  });
});
