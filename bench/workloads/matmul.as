// Numeric loop: n x n u32 matrix product C = A * B (wrapping), A and B from xorshift32.
// Checksum: sum of C's entries mod 2^64.

export function refine(n: i32, seed: i32): i64 {
  const base = <usize>memory.size() << 16;
  const cells = <usize>n * <usize>n;
  if (memory.grow(<i32>((cells * 12 + 0xffff) >> 16)) < 0) unreachable();
  const a = base;
  const b = base + (cells << 2);
  const c = b + (cells << 2);
  let x = <u32>seed | 1;
  for (let i: usize = 0; i < cells * 2; i++) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    store<u32>(a + (i << 2), x & 0xffff);
  }
  const nn = <usize>n;
  for (let i: usize = 0; i < nn; i++) {
    for (let j: usize = 0; j < nn; j++) {
      let acc: u32 = 0;
      for (let k: usize = 0; k < nn; k++) {
        acc += load<u32>(a + ((i * nn + k) << 2)) * load<u32>(b + ((k * nn + j) << 2));
      }
      store<u32>(c + ((i * nn + j) << 2), acc);
    }
  }
  let sum: u64 = 0;
  for (let i: usize = 0; i < cells; i++) sum += <u64>load<u32>(c + (i << 2));
  return <i64>sum;
}

export function accumulate(count: i32): i64 {
  return 0;
}
