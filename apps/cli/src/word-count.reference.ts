/**
 * Reference semantics of the example `word-count` service (services/word-count), computed in
 * Node independently of the service so `jam demo` can check what the pipeline stored.
 *
 * - refine: the number of words in the payload, a word being a maximal run of bytes that are not
 *   ASCII whitespace (0x20, 0x09, 0x0a, 0x0b, 0x0c, 0x0d). Bytes >= 0x80 (UTF-8, NBSP) are word bytes.
 * - accumulate: storage key `words` = u64 little-endian running total of the word counts of `ok`
 *   items; key `items` = u64 little-endian count of `ok` items accumulated.
 */

/** Storage key `words`: the ASCII bytes of "words" (0x776f726473). */
export const WORDS_KEY = new TextEncoder().encode('words');
/** Storage key `items`: the ASCII bytes of "items" (0x6974656d73). */
export const ITEMS_KEY = new TextEncoder().encode('items');

/** True for the six ASCII whitespace bytes of the word-count service. */
export function isAsciiWhitespace(byte: number): boolean {
  return byte === 0x20 || (byte >= 0x09 && byte <= 0x0d);
}

/** Words in `payload`: maximal runs of non-ASCII-whitespace bytes. */
export function countWords(payload: Uint8Array): number {
  let words = 0;
  let inWord = false;
  for (const b of payload) {
    if (isAsciiWhitespace(b)) inWord = false;
    else if (!inWord) {
      inWord = true;
      words++;
    }
  }
  return words;
}

/** Expected `{words, items}` storage after accumulating `payloads` (all items `ok`) into an empty service. */
export function expectedWordCountState(payloads: readonly Uint8Array[]): { words: bigint; items: bigint } {
  let words = 0n;
  for (const p of payloads) words += BigInt(countWords(p));
  return { words, items: BigInt(payloads.length) };
}

/** Encodes a u64 little-endian (8 bytes). */
export function encodeU64Le(value: bigint): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, value, true);
  return out;
}

/** Decodes an 8-byte u64 little-endian; any other length throws a RangeError. */
export function decodeU64Le(bytes: Uint8Array): bigint {
  if (bytes.length !== 8) throw new RangeError(`expected 8 bytes of u64 little-endian, got ${bytes.length}`);
  return new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
}
