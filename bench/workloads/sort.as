// Quicksort (Hoare partition, median of three, insertion sort below 16) of n u32 from xorshift32.
// Checksum: sum over i of a[i] * (i + 1) mod 2^64; traps if the result is not sorted.

function xorshift(x: u32): u32 {
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  return x;
}

function insertion(base: usize, lo: i32, hi: i32): void {
  for (let i = lo + 1; i <= hi; i++) {
    const v = load<u32>(base + (<usize>i << 2));
    let j = i - 1;
    while (j >= lo && load<u32>(base + (<usize>j << 2)) > v) {
      store<u32>(base + (<usize>(j + 1) << 2), load<u32>(base + (<usize>j << 2)));
      j--;
    }
    store<u32>(base + (<usize>(j + 1) << 2), v);
  }
}

function quicksort(base: usize, lo: i32, hi: i32): void {
  while (hi - lo > 16) {
    const mid = lo + ((hi - lo) >> 1);
    let a = load<u32>(base + (<usize>lo << 2));
    let b = load<u32>(base + (<usize>mid << 2));
    let c = load<u32>(base + (<usize>hi << 2));
    const pivot = a < b ? (b < c ? b : a < c ? c : a) : a < c ? a : b < c ? c : b;
    let i = lo - 1;
    let j = hi + 1;
    while (true) {
      do i++; while (load<u32>(base + (<usize>i << 2)) < pivot);
      do j--; while (load<u32>(base + (<usize>j << 2)) > pivot);
      if (i >= j) break;
      const t = load<u32>(base + (<usize>i << 2));
      store<u32>(base + (<usize>i << 2), load<u32>(base + (<usize>j << 2)));
      store<u32>(base + (<usize>j << 2), t);
    }
    // recurse into the smaller half, loop on the larger: O(log n) depth
    if (j - lo < hi - j) {
      quicksort(base, lo, j);
      lo = j + 1;
    } else {
      quicksort(base, j + 1, hi);
      hi = j;
    }
  }
  insertion(base, lo, hi);
}

export function refine(n: i32, seed: i32): i64 {
  const base = <usize>memory.size() << 16;
  const bytes = <usize>n << 2;
  const pages = <i32>((bytes + 0xffff) >> 16);
  if (memory.grow(pages) < 0) unreachable();
  let x = <u32>seed | 1;
  for (let i = 0; i < n; i++) {
    x = xorshift(x);
    store<u32>(base + (<usize>i << 2), x);
  }
  quicksort(base, 0, n - 1);
  let sum: u64 = 0;
  let prev: u32 = 0;
  for (let i = 0; i < n; i++) {
    const v = load<u32>(base + (<usize>i << 2));
    if (v < prev) unreachable();
    prev = v;
    sum += <u64>v * <u64>(i + 1);
  }
  return <i64>sum;
}

export function accumulate(count: i32): i64 {
  return 0;
}
