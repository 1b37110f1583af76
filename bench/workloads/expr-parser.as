// Parser: generates n bytes of random arithmetic expressions (decimal literals, + - * / %,
// parentheses, spaces; one expression per ';'), then tokenizes and evaluates them with a
// recursive-descent parser over i64 (wrapping; division by zero gives 0).
// Checksum: sum of all expression values mod 2^64, plus the number of expressions.

let src: usize = 0;
let end: usize = 0;
let pos: usize = 0;
let rng: u32 = 1;

function next(): u32 {
  let x = rng;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  rng = x;
  return x;
}

let out: usize = 0;
let outEnd: usize = 0;

function emit(c: u8): void {
  if (out < outEnd) store<u8>(out++, c);
}

function genNumber(): void {
  const digits = 1 + <i32>(next() % 6);
  emit(<u8>(0x31 + next() % 9));
  for (let i = 1; i < digits; i++) emit(<u8>(0x30 + next() % 10));
}

function genExpr(depth: i32): void {
  const terms = 1 + <i32>(next() % 4);
  for (let i = 0; i < terms; i++) {
    if (i > 0) {
      if ((next() & 3) == 0) emit(0x20);
      const op = next() % 5;
      emit(op == 0 ? 0x2b : op == 1 ? 0x2d : op == 2 ? 0x2a : op == 3 ? 0x2f : 0x25);
      if ((next() & 3) == 0) emit(0x20);
    }
    if (depth < 6 && (next() & 3) == 0) {
      emit(0x28);
      genExpr(depth + 1);
      emit(0x29);
    } else {
      genNumber();
    }
  }
}

function skipSpaces(): void {
  while (pos < end && load<u8>(pos) == 0x20) pos++;
}

function peek(): u32 {
  skipSpaces();
  return pos < end ? <u32>load<u8>(pos) : 0;
}

function parsePrimary(): i64 {
  const c = peek();
  if (c == 0x28) {
    pos++;
    const v = parseSum();
    if (peek() != 0x29) unreachable();
    pos++;
    return v;
  }
  if (c == 0x2d) {
    pos++;
    return -parsePrimary();
  }
  let v: i64 = 0;
  let any = false;
  while (pos < end) {
    const d = <u32>load<u8>(pos) - 0x30;
    if (d > 9) break;
    v = v * 10 + <i64>d;
    pos++;
    any = true;
  }
  if (!any) unreachable();
  return v;
}

function parseProduct(): i64 {
  let v = parsePrimary();
  while (true) {
    const c = peek();
    if (c == 0x2a) {
      pos++;
      v = v * parsePrimary();
    } else if (c == 0x2f || c == 0x25) {
      pos++;
      const r = parsePrimary();
      if (r == 0 || (r == -1 && v == i64.MIN_VALUE)) v = 0;
      else v = c == 0x2f ? v / r : v % r;
    } else {
      return v;
    }
  }
}

function parseSum(): i64 {
  let v = parseProduct();
  while (true) {
    const c = peek();
    if (c == 0x2b) {
      pos++;
      v = v + parseProduct();
    } else if (c == 0x2d) {
      pos++;
      v = v - parseProduct();
    } else {
      return v;
    }
  }
}

export function refine(n: i32, seed: i32): i64 {
  src = <usize>memory.size() << 16;
  if (memory.grow(<i32>(((<usize>n + 64) + 0xffff) >> 16)) < 0) unreachable();
  rng = <u32>seed | 1;
  out = src;
  outEnd = src + <usize>n;
  // whole expressions only: stop generating once fewer than 256 bytes are left
  while (outEnd - out > 256) {
    genExpr(0);
    emit(0x3b);
  }
  end = out;
  pos = src;
  let sum: i64 = 0;
  let count: i64 = 0;
  while (pos < end) {
    sum += parseSum();
    if (peek() != 0x3b) unreachable();
    pos++;
    count++;
  }
  return sum + count;
}

export function accumulate(count: i32): i64 {
  return 0;
}
