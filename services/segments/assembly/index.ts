// segments: exports and imports segments (docs/service-abi.md, "Exports and imports").
// refine: exports the first min(payload_len, 4104) payload bytes as one segment (none for an
// empty payload), then outputs the first 32 bytes of each imported segment (fetch kind 3), in
// import order, at most 16.
// accumulate: does nothing (returns 0).

@external("jam", "fetch")
declare function jam_fetch(kind: i32, index: i32, out_ptr: usize, offset: i32, max_len: i32): i64;
@external("jam", "export")
declare function jam_export(ptr: usize, len: i32): i64;

const SEGMENT: i32 = 4104;
const BUF: usize = memory.data(4104);
const OUT: usize = memory.data(512);

export function refine(payload_len: i32, item_index: i32): i64 {
  const n = min(payload_len, SEGMENT);
  if (n > 0) {
    jam_fetch(0, 0, BUF, 0, n);
    jam_export(BUF, n);
  }
  let out: i32 = 0;
  for (let i = 0; i < 16; i++) {
    if (jam_fetch(3, i, OUT + <usize>out, 0, 32) != <i64>SEGMENT) break;
    out += 32;
  }
  return (<i64>OUT << 32) | <i64>out;
}

export function accumulate(operand_count: i32): i64 {
  return 0;
}
