// Call-heavy recursion: naive fib(n) on u64 (wrapping), about 1.6 * fib(n) calls.

function fib(n: i32): u64 {
  return n < 2 ? <u64>n : fib(n - 1) + fib(n - 2);
}

export function refine(n: i32, seed: i32): i64 {
  return <i64>(fib(n) + <u64>seed);
}

export function accumulate(count: i32): i64 {
  return 0;
}
