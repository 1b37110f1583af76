// blake2b: example service (docs/service-abi.md, "Example services").
// refine: Blake2b-256 (RFC 7693, unkeyed, 32-byte digest) of the payload; output = the 32-byte digest.
// accumulate: for each ok operand with a 32-byte output, sets storage[digest] = 0x01 (a set of seen
// digests) and increments storage "count" (u64 LE). Other operands are skipped.

@external("jam", "fetch")
declare function jam_fetch(kind: i32, index: i32, out_ptr: usize, offset: i32, max_len: i32): i64;
@external("jam", "read")
declare function jam_read(key_ptr: usize, key_len: i32, out_ptr: usize, offset: i32, max_len: i32): i64;
@external("jam", "write")
declare function jam_write(key_ptr: usize, key_len: i32, val_ptr: usize, val_len: i32): i64;

const CHUNK: i32 = 16384; // a multiple of the 128-byte block
const BUF: usize = memory.data(CHUNK);
const BLOCK: usize = memory.data(128);
const H: usize = memory.data(64);
const V: usize = memory.data(128);
const TMP: usize = memory.data(32);
const ONE: usize = memory.data<u8>([1]);
const KEY_COUNT: usize = memory.data<u8>([0x63, 0x6f, 0x75, 0x6e, 0x74]); // "count"

const IV: usize = memory.data<u64>([
  0x6a09e667f3bcc908, 0xbb67ae8584caa73b, 0x3c6ef372fe94f82b, 0xa54ff53a5f1d36f1,
  0x510e527fade682d1, 0x9b05688c2b3e6c1f, 0x1f83d9abfb41bd6b, 0x5be0cd19137e2179,
]);
const SIGMA: usize = memory.data<u8>([
  0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
  14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3,
  11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4,
  7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8,
  9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13,
  2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9,
  12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11,
  13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10,
  6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5,
  10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0,
]);

@inline function v(i: i32): u64 {
  return load<u64>(V + (<usize>i << 3));
}
@inline function setV(i: i32, x: u64): void {
  store<u64>(V + (<usize>i << 3), x);
}
@inline function m(i: i32): u64 {
  return load<u64>(BLOCK + (<usize>i << 3));
}

function g(a: i32, b: i32, c: i32, d: i32, x: u64, y: u64): void {
  let va = v(a), vb = v(b), vc = v(c), vd = v(d);
  va = va + vb + x;
  vd = rotr<u64>(vd ^ va, 32);
  vc = vc + vd;
  vb = rotr<u64>(vb ^ vc, 24);
  va = va + vb + y;
  vd = rotr<u64>(vd ^ va, 16);
  vc = vc + vd;
  vb = rotr<u64>(vb ^ vc, 63);
  setV(a, va);
  setV(b, vb);
  setV(c, vc);
  setV(d, vd);
}

function compress(t: u64, last: bool): void {
  for (let i = 0; i < 8; i++) {
    setV(i, load<u64>(H + (<usize>i << 3)));
    setV(i + 8, load<u64>(IV + (<usize>i << 3)));
  }
  setV(12, v(12) ^ t);
  if (last) setV(14, ~v(14));
  for (let r = 0; r < 12; r++) {
    const s = SIGMA + <usize>((r % 10) * 16);
    g(0, 4, 8, 12, m(load<u8>(s + 0)), m(load<u8>(s + 1)));
    g(1, 5, 9, 13, m(load<u8>(s + 2)), m(load<u8>(s + 3)));
    g(2, 6, 10, 14, m(load<u8>(s + 4)), m(load<u8>(s + 5)));
    g(3, 7, 11, 15, m(load<u8>(s + 6)), m(load<u8>(s + 7)));
    g(0, 5, 10, 15, m(load<u8>(s + 8)), m(load<u8>(s + 9)));
    g(1, 6, 11, 12, m(load<u8>(s + 10)), m(load<u8>(s + 11)));
    g(2, 7, 8, 13, m(load<u8>(s + 12)), m(load<u8>(s + 13)));
    g(3, 4, 9, 14, m(load<u8>(s + 14)), m(load<u8>(s + 15)));
  }
  for (let i = 0; i < 8; i++) {
    const p = H + (<usize>i << 3);
    store<u64>(p, load<u64>(p) ^ v(i) ^ v(i + 8));
  }
}

export function refine(payload_len: i32, item_index: i32): i64 {
  for (let i = 0; i < 8; i++) store<u64>(H + (<usize>i << 3), load<u64>(IV + (<usize>i << 3)));
  // parameter block: digest length 32, no key, fanout 1, depth 1
  store<u64>(H, load<u64>(H) ^ 0x01010020);
  const blocks = payload_len == 0 ? 1 : (payload_len + 127) / 128;
  for (let i = 0; i < blocks; i++) {
    const start = i * 128;
    if (start % CHUNK == 0 && payload_len > 0) jam_fetch(0, 0, BUF, start, CHUNK);
    const n = min(128, payload_len - start);
    memory.fill(BLOCK, 0, 128);
    if (n > 0) memory.copy(BLOCK, BUF + <usize>(start % CHUNK), <usize>n);
    compress(<u64>(start + max(n, 0)), i == blocks - 1);
  }
  return (<i64>H << 32) | 32;
}

export function accumulate(operand_count: i32): i64 {
  let counted: u64 = 0;
  for (let i = 0; i < operand_count; i++) {
    if (jam_fetch(2, i, TMP, 0, 1) != 1 || load<u8>(TMP) != 0) continue;
    if (jam_fetch(1, i, TMP, 0, 32) != 32) continue;
    jam_write(TMP, 32, ONE, 1);
    counted++;
  }
  if (counted > 0) {
    store<u64>(TMP, 0);
    jam_read(KEY_COUNT, 5, TMP, 0, 8);
    store<u64>(TMP, load<u64>(TMP) + counted);
    jam_write(KEY_COUNT, 5, TMP, 8);
  }
  return 0;
}
