// word-count: the demo service (docs/service-abi.md, "Example services").
// refine: number of words in the payload (maximal runs of bytes that are not ASCII whitespace
// 0x20, 0x09-0x0d), as a u64 little-endian 8-byte output.
// accumulate: for each ok operand with an 8-byte output, adds it to storage "words" (u64 LE total)
// and increments storage "items" (u64 LE count); other operands are skipped.

@external("jam", "fetch")
declare function jam_fetch(kind: i32, index: i32, out_ptr: usize, offset: i32, max_len: i32): i64;
@external("jam", "read")
declare function jam_read(key_ptr: usize, key_len: i32, out_ptr: usize, offset: i32, max_len: i32): i64;
@external("jam", "write")
declare function jam_write(key_ptr: usize, key_len: i32, val_ptr: usize, val_len: i32): i64;

const CHUNK: i32 = 16384;
const BUF: usize = memory.data(CHUNK);
const OUT: usize = memory.data(8);
const KEY_WORDS: usize = memory.data<u8>([0x77, 0x6f, 0x72, 0x64, 0x73]); // "words"
const KEY_ITEMS: usize = memory.data<u8>([0x69, 0x74, 0x65, 0x6d, 0x73]); // "items"

export function refine(payload_len: i32, item_index: i32): i64 {
  let count: u64 = 0;
  let inWord = false;
  for (let offset = 0; offset < payload_len; offset += CHUNK) {
    const n = min(CHUNK, payload_len - offset);
    jam_fetch(0, 0, BUF, offset, n);
    for (let i = 0; i < n; i++) {
      const b = load<u8>(BUF + <usize>i);
      if (b == 0x20 || (b >= 0x09 && b <= 0x0d)) {
        inWord = false;
      } else if (!inWord) {
        inWord = true;
        count++;
      }
    }
  }
  store<u64>(OUT, count);
  return (<i64>OUT << 32) | 8;
}

function readU64(key: usize): u64 {
  store<u64>(OUT, 0);
  const len = jam_read(key, 5, OUT, 0, 8);
  return len == 8 ? load<u64>(OUT) : 0;
}

function writeU64(key: usize, value: u64): void {
  store<u64>(OUT, value);
  jam_write(key, 5, OUT, 8);
}

export function accumulate(operand_count: i32): i64 {
  let words = readU64(KEY_WORDS);
  let items = readU64(KEY_ITEMS);
  let counted = 0;
  for (let i = 0; i < operand_count; i++) {
    if (jam_fetch(2, i, BUF, 0, 1) != 1 || load<u8>(BUF) != 0) continue;
    if (jam_fetch(1, i, BUF, 0, 8) != 8) continue;
    words += load<u64>(BUF);
    items++;
    counted++;
  }
  if (counted > 0) {
    writeU64(KEY_WORDS, words);
    writeU64(KEY_ITEMS, items);
  }
  return 0;
}
