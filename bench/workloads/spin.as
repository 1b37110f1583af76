// CPU-heavy but legal service for the fairness bench (bench/fairness.ts): refine runs xorshift64
// for payload_len * 65536 rounds (the payload's bytes do not matter, only its length) and outputs
// the final state as 8 bytes, so a few KB of payload buy about a second of guest time within
// G_R. Accumulate writes nothing. Service ABI as in docs/service-abi.md (no host calls needed).

const OUT: usize = memory.data(8);

export function refine(payload_len: i32, item_index: i32): i64 {
  let x: u64 = 0x9e3779b97f4a7c15 ^ <u64>item_index;
  const rounds: u64 = <u64>payload_len << 16;
  for (let i: u64 = 0; i < rounds; i++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
  }
  store<u64>(OUT, x);
  return (<i64>OUT << 32) | 8;
}

export function accumulate(count: i32): i64 {
  return 0;
}
