// Numeric loop: sieve of Eratosthenes over [0, n) with one byte per number.
// Checksum: prime count * 2^32 + (sum of primes mod 2^32).

export function refine(n: i32, seed: i32): i64 {
  const base = <usize>memory.size() << 16;
  if (memory.grow(<i32>((<usize>n + 0xffff) >> 16)) < 0) unreachable();
  const limit = <usize>n;
  for (let i: usize = 2; i * i < limit; i++) {
    if (load<u8>(base + i) == 0) {
      for (let j = i * i; j < limit; j += i) store<u8>(base + j, 1);
    }
  }
  let count: u64 = 0;
  let sum: u32 = 0;
  for (let i: usize = 2; i < limit; i++) {
    if (load<u8>(base + i) == 0) {
      count++;
      sum += <u32>i;
    }
  }
  return <i64>((count << 32) + <u64>sum + <u64>(seed & 0));
}

export function accumulate(count: i32): i64 {
  return 0;
}
