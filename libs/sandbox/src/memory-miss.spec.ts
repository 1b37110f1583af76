import {
  COST_TABLE_VERSION,
  FREE_INITIAL_PAGES,
  GAS_HOISTED_ENTRY,
  GAS_HOISTED_PER_EXPRESSION_INSTRUCTION,
  GAS_PER_INITIAL_PAGE,
  GAS_PER_PAGE,
  MISS_SURCHARGE_TIERS,
  missSurcharge,
} from './cost-table';
import { meterServiceCode } from './service-code.validator';
import { executeRefine } from './service.executor';

type Wabt = { parseWat(name: string, text: string, features?: Record<string, boolean>): { toBinary(o: object): { buffer: Uint8Array }; destroy(): void } };
let wabt: Promise<Wabt> | undefined;
async function wat(text: string): Promise<Uint8Array> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  wabt ??= (require('wabt') as () => Promise<Wabt>)();
  const m = (await wabt).parseWat('inline.wat', text, { bulk_memory: true });
  try {
    return new Uint8Array(m.toBinary({}).buffer);
  } finally {
    m.destroy();
  }
}

/** Gas a refine with `body` (item_index 0, so `local.get 1` is a non-constant address 0) uses on a memory of `pages`. */
async function gasOf(body: string, pages: number): Promise<bigint> {
  const code = await wat(`(module (memory (export "memory") ${pages})
    (func (export "refine") (param i32 i32) (result i64) ${body} i64.const 0)
    (func (export "accumulate") (param i32) (result i64) i64.const 0))`);
  const out = executeRefine(new WebAssembly.Module(meterServiceCode(code)), {
    itemIndex: 0,
    payload: new Uint8Array(0),
    gasLimit: 1_000_000_000n,
    preimages: new Map(),
  });
  expect(out.result).toEqual({ ok: new Uint8Array(0) });
  return out.gasUsed;
}

/** A load (dropped) at the non-constant address 0 + `offset`. */
const load = (offset: number): string => `(drop (i32.load offset=${offset} (local.get 1)))`;
/** A store at the non-constant address 0 + `offset`. */
const store = (offset: number): string => `(i32.store offset=${offset} (local.get 1) (i32.const 7))`;
const PAGE = 4096;
/** 80 pages (5 MiB): the highest tier. */
const BIG = 80;

describe('memory-miss surcharge (cost table v7, docs/gas.md "Memory misses")', () => {
  const { near, far } = missSurcharge(BIG);

  it('is cost table 7, with tiers by memory size as documented', () => {
    expect(COST_TABLE_VERSION).toBe(7);
    expect(MISS_SURCHARGE_TIERS.map((t) => [t.abovePages, t.near, t.far])).toEqual([
      [0, 1n, 4n],
      [4, 2n, 48n],
      [16, 8n, 160n],
      [48, 64n, 512n],
    ]);
    expect(missSurcharge(0)).toEqual({ near: 0n, far: 0n });
    expect(missSurcharge(4)).toEqual({ near: 1n, far: 4n });
    expect(missSurcharge(5)).toEqual({ near: 2n, far: 48n });
    expect(missSurcharge(16)).toEqual({ near: 2n, far: 48n });
    expect(missSurcharge(48)).toEqual({ near: 8n, far: 160n });
    expect(missSurcharge(49)).toEqual({ near: 64n, far: 512n });
    expect(missSurcharge(1024)).toEqual({ near: 64n, far: 512n });
  });

  it('charges far for the first access, nothing while the page stays, near for an adjacent page, far otherwise', async () => {
    // the same five loads in one page: only the first pays (far: no page is tracked yet)
    const same = await gasOf([0, 4, 8, 12, 16].map(load).join(' '), BIG);
    // pages 0, 1, 0, 5, 1: far (first); near (1 is next to 0, replaces it); near (0 next to 1);
    // far (5: the trackers become 5 and 0); near (1 is next to the second tracker, 0, which it replaces)
    const pattern = await gasOf([0, 1, 0, 5, 1].map((p) => load(p * PAGE)).join(' '), BIG);
    expect(pattern - same).toBe(far + 3n * near);
    // the two tracked pages cost nothing however they alternate: 0, 9, 0, 9, 0 (two far)
    const two = await gasOf([0, 9, 0, 9, 0].map((p) => load(p * PAGE)).join(' '), BIG);
    expect(two - same).toBe(far);
    // a third page evicts the older one: 0, 9, 20, 0 (four far)
    const three = await gasOf([0, 9, 20, 0].map((p) => load(p * PAGE)).join(' '), BIG);
    const sameFour = await gasOf([0, 4, 8, 12].map(load).join(' '), BIG);
    expect(three - sameFour).toBe(3n * far);
  });

  it('tracks loads and stores apart: a copy loop between two far pages pays once for each side', async () => {
    const copy = (n: number): string => Array.from({ length: n }, (_, k) => `${load(k * 4)} ${store(40 * PAGE + k * 4)}`).join(' ');
    const one = await gasOf(copy(1), BIG);
    const four = await gasOf(copy(4), BIG);
    // three more load/store pairs in the same two pages: only their static gas (load 2 + store 2 + 5 others)
    const staticPair = (await gasOf(copy(4), 4)) - (await gasOf(copy(1), 4));
    expect(four - one).toBe(staticPair);
    // and the first pair paid one far each, at the tier of the memory size (4 pages: far 4); the
    // 80-page memory also pays its instantiation (64 initial pages beyond the free 16)
    const instantiation = BigInt(BIG - FREE_INITIAL_PAGES) * GAS_PER_INITIAL_PAGE;
    expect(one - (await gasOf(copy(1), 4)) - instantiation).toBe(2n * far - 2n * missSurcharge(4).far);
  });

  it('constant addresses are not tracked while the module touches at most 8 pages through them', async () => {
    const constLoads = (pages: number[]): string => pages.map((p) => `(drop (i32.load (i32.const ${p * PAGE})))`).join(' ');
    const eight = [0, 3, 6, 9, 12, 15, 18, 21];
    expect(await gasOf(constLoads(eight), BIG)).toBe(await gasOf(constLoads(eight.map(() => 0)), BIG));
    // a ninth page: every constant access is tracked like any other (nine far switches)
    const nine = [...eight, 24];
    expect((await gasOf(constLoads(nine), BIG)) - (await gasOf(constLoads(nine.map(() => 0)), BIG))).toBe(9n * far);
  });

  it('skips the check of an access through the same unchanged base local within 4 KiB of a checked one in the same block', async () => {
    // $b = 2048: loads at $b + 0 (page 0) and $b + 4088 (page 1, adjacent); the second is not
    // checked (one window of 4,092 bytes through $b in one block), so it pays no near surcharge
    const pair = (second: number, reset: boolean): string =>
      `(local.set 0 (i32.const 2048)) (drop (i32.load (local.get 0))) ${reset ? '(local.set 0 (local.get 0))' : ''} (drop (i32.load offset=${second} (local.get 0)))`;
    expect(await gasOf(pair(4088, false), BIG)).toBe(await gasOf(pair(0, false), BIG));
    // once $b is set again (even to the same value) the access is checked: page 1 pays near
    expect((await gasOf(pair(4088, true), BIG)) - (await gasOf(pair(0, true), BIG))).toBe(near);
    // a window over 4,096 bytes is checked too: $b + 4093 (page 1) pays near
    expect((await gasOf(pair(4093, false), BIG)) - (await gasOf(pair(0, false), BIG))).toBe(near);
  });

  it('takes a local.tee address as the base, and a store whose value is any pure expression', async () => {
    // the load's address is `local.tee 0` (2048, page 0: far); the store at $b + 4088 (page 1) with
    // a computed value goes through the same unchanged $b in the same block: not checked
    const teeThenStore = (reset: boolean): string =>
      `(drop (i32.load (local.tee 0 (i32.const 2048)))) ${reset ? '(local.set 0 (local.get 0))' : ''}
       (i32.store offset=4088 (local.get 0) (i32.add (i32.mul (local.get 1) (i32.const 3)) (i32.load (local.get 1))))`;
    // checked after the reset: the first store pays far; the reset itself is 2 gas
    expect((await gasOf(teeThenStore(true), BIG)) - (await gasOf(teeThenStore(false), BIG))).toBe(far + 2n);
  });

  it('checks an access through a base local that a store value expression set', async () => {
    // the store's value sets $b (`local.tee`): the store is checked, and so is the later load
    // through $b, which pays far when $b moved to page 10 and nothing when it stayed on page 0
    const moved = (to: number): string =>
      `(local.set 0 (i32.const 2048)) (drop (i32.load (local.get 0)))
       (i32.store (local.get 0) (local.tee 0 (i32.const ${to}))) (drop (i32.load (local.get 0)))`;
    expect((await gasOf(moved(10 * PAGE), BIG)) - (await gasOf(moved(2048), BIG))).toBe(far);
  });

  it('memory.grow moves the memory to the surcharges of its new tier', async () => {
    const body = (grow: number): string => `(drop (memory.grow (i32.const ${grow}))) ${load(0)} ${load(30 * PAGE)}`;
    // 1 page + 1: 2 pages, tier (0, 4]; 1 page + 79: 80 pages, the top tier; the grows differ in their page price only
    const small = await gasOf(body(1), 1);
    const big = await gasOf(body(79), 1);
    const growDelta = 78n * GAS_PER_PAGE;
    expect(big - small - growDelta).toBe(2n * far - 2n * missSurcharge(2).far);
  });

  it('memory.copy tracks its source as a load and its destination as a store', async () => {
    const copy = (src: number, dst: number): string =>
      `(memory.copy (i32.add (local.get 1) (i32.const ${dst})) (i32.add (local.get 1) (i32.const ${src})) (i32.const 4))`;
    const same = await gasOf(`${copy(0, 0)} ${copy(0, 0)}`, BIG);
    const far2 = await gasOf(`${copy(0, 0)} ${copy(30 * PAGE, 60 * PAGE)}`, BIG);
    expect(far2 - same).toBe(2n * far);
  });
});

/**
 * Outcome of a refine running `for ($i = from; $i < $n; $i += $s) { body }` in the canonical
 * counted-loop shape (loop; if ($i <u $n) { body; $i += $s; br loop }), $n = `n`, $s = `s` (1 as
 * `i32.const 1`, else a local), on a memory of `pages`.
 */
async function loopRun(body: string, n: number, pages: number, gasLimit = 1_000_000_000n, s = 1, from = 0) {
  const step = s === 1 ? '(i32.const 1)' : '(local.get $s)';
  return refineRun(
    `(local.set $n (i32.const ${n})) (local.set $s (i32.const ${s})) (local.set $i (i32.const ${from}))
     (loop $l (if (i32.lt_u (local.get $i) (local.get $n)) (then ${body} (local.set $i (i32.add (local.get $i) ${step})) (br $l))))`,
    pages,
    gasLimit,
  );
}

/** Outcome of a refine whose body is `code` (then `i64.const 0`), with i32 locals $i, $n, $s and $k, on a memory of `pages`. */
async function refineRun(code: string, pages: number, gasLimit = 1_000_000_000n) {
  const module = await wat(`(module (memory (export "memory") ${pages})
    (func (export "refine") (param i32 i32) (result i64) (local $i i32) (local $n i32) (local $s i32) (local $k i32) ${code} i64.const 0)
    (func (export "accumulate") (param i32) (result i64) i64.const 0))`);
  return executeRefine(new WebAssembly.Module(meterServiceCode(module)), { itemIndex: 0, payload: new Uint8Array(0), gasLimit, preimages: new Map() });
}

async function loopGas(body: string, n: number, pages: number, s = 1, from = 0): Promise<bigint> {
  const out = await loopRun(body, n, pages, 1_000_000_000n, s, from);
  expect(out.result).toEqual({ ok: new Uint8Array(0) });
  return out.gasUsed;
}

/** A load at `$i << shift` (affine in $i: its check is hoisted) or at `rotl($i, shift)` (the same address for small $i, and the same static gas, but not affine: checked every iteration). */
const loopLoad = (shift: number, hoisted: boolean): string => `(drop (i32.load (${hoisted ? 'i32.shl' : 'i32.rotl'} (local.get $i) (i32.const ${shift}))))`;

describe('hoisted checks (cost table v7, docs/gas.md "Hoisted checks")', () => {
  const { near, far } = missSurcharge(BIG);
  // what a hoisted access pays at every loop entry for the charge's own code: its address is
  // `local.get $i; i32.const shift; i32.shl` (three instructions)
  const entry = GAS_HOISTED_ENTRY + 3n * GAS_HOISTED_PER_EXPRESSION_INSTRUCTION;

  it('a sequential loop pays what the per-iteration checks pay: the first page as tracked, near for each further page', async () => {
    // 3,000 i32 loads over 12,000 bytes: pages 0, 1, 2 (far, near, near) either way; the hoisted loop also pays its entry
    const hoisted = await loopGas(loopLoad(2, true), 3000, BIG);
    expect(hoisted).toBe((await loopGas(loopLoad(2, false), 3000, BIG)) + entry);
    // and exactly 2 near more than the same loop loading address 0 every time (checked per iteration: far once)
    const onePage = await loopGas('(drop (i32.load (i32.and (local.get $i) (i32.const 0))))', 3000, BIG);
    expect(hoisted - onePage).toBe(2n * near + entry);
  });

  it('a stride over 4 KiB pays far for every iteration after the first, as the per-iteration checks do', async () => {
    // 8 KiB stride, 100 iterations: every access is two pages from the previous one (far)
    expect(await loopGas(loopLoad(13, true), 100, BIG)).toBe((await loopGas(loopLoad(13, false), 100, BIG)) + entry);
    const onePage = await loopGas('(drop (i32.load (i32.and (local.get $i) (i32.const 0))))', 100, BIG);
    expect((await loopGas(loopLoad(13, true), 100, BIG)) - onePage).toBe(99n * far + entry);
  });

  it('a loop that leaves early has paid for its whole range at entry; a loop that does not run pays nothing', async () => {
    // break after the first iteration: the per-iteration check paid far once, the hoisted one far + 2 near
    const breakFirst = (hoisted: boolean): string => `${loopLoad(2, hoisted)} (br_if 2 (i32.eqz (local.get $i)))`;
    const wrap = async (hoisted: boolean): Promise<bigint> =>
      (
        await refineRun(
          `(local.set $n (i32.const 3000))
           (block $out (loop $l (if (i32.lt_u (local.get $i) (local.get $n)) (then ${breakFirst(hoisted)} (local.set $i (i32.add (local.get $i) (i32.const 1))) (br $l)))))`,
          BIG,
        )
      ).gasUsed;
    expect((await wrap(true)) - (await wrap(false))).toBe(2n * near + entry);
    // no iteration: only the entry
    expect(await loopGas(loopLoad(2, true), 0, BIG)).toBe((await loopGas(loopLoad(2, false), 0, BIG)) + entry);
  });

  it('a loop whose range runs past the memory pays for that range up front and ends out_of_gas instead of trapping on the first access outside', async () => {
    // 2^31 - 1 iterations at a 4 KiB stride: the range is 2^31 pages (64 gas each, far more than the limit)
    const hoisted = await loopRun(loopLoad(12, true), 0x7fffffff, BIG, 10_000_000n);
    expect(hoisted.result).toEqual({ out_of_gas: null });
    expect(hoisted.gasUsed).toBe(10_000_000n);
    // checked per iteration, the same loop traps on its first access past the 5 MiB memory
    const checked = await loopRun(loopLoad(12, false), 0x7fffffff, BIG, 10_000_000n);
    expect(checked.result).toEqual({ panic: null });
  });

  it('an increment held in a local: the loop visits ceil(range / step) values, and pays what the per-iteration checks pay', async () => {
    // $i = 0, 3, 6, ... < 20,000 (6,667 iterations), a byte each: pages 0 to 4 (far, then 4 near)
    const load8 = (hoisted: boolean): string => `(drop (i32.load8_u (${hoisted ? 'i32.shl' : 'i32.rotl'} (local.get $i) (i32.const 0))))`;
    const hoisted = await loopGas(load8(true), 20_000, BIG, 3);
    expect(hoisted).toBe((await loopGas(load8(false), 20_000, BIG, 3)) + entry);
    expect(hoisted - (await loopGas('(drop (i32.load8_u (i32.and (local.get $i) (i32.const 0))))', 20_000, BIG, 3))).toBe(4n * near + entry);
  });

  it('an increment that can wrap the induction variable pays far for every value below the bound', async () => {
    // $s = 2^32 - 1 (i.e. -1), $i from 5 while $i <u 10: 5, 4, ..., 0, then 2^32 - 1 ends it; all on page 0.
    // Checked per iteration: one far. Hoisted: IV + S may wrap, so every value below 10 counts as a far page: far + 9 far
    const load8 = (hoisted: boolean): string => `(drop (i32.load8_u (${hoisted ? 'i32.shl' : 'i32.rotl'} (local.get $i) (i32.const 0))))`;
    const wrap = 0xffffffff | 0;
    expect((await loopGas(load8(true), 10, BIG, wrap, 5)) - (await loopGas(load8(false), 10, BIG, wrap, 5))).toBe(9n * far + entry);
  });

  it('a loop that can grow the memory (memory.grow, or a call of a guest function) is checked per iteration, at the tier of the memory it runs on', async () => {
    // 1 page (tier near 1, far 4) at loop entry, grown to 80 pages (near 64, far 512) in the first
    // iteration, then 100 loads at an 8 KiB stride: hoisted at entry they would pay the small tier's
    // far (4) per page; checked per iteration they pay 512 each. A hoisted loop must not pay less.
    const grow = '(if (i32.eqz (local.get $i)) (then (drop (memory.grow (i32.const 79)))))';
    const grown = async (hoisted: boolean, call: boolean): Promise<bigint> => {
      const body = `${call ? '(call $grow (local.get $i))' : grow} ${loopLoad(13, hoisted)}`;
      const module = await wat(`(module (memory (export "memory") 1)
        (func $grow (param $i i32) ${grow})
        (func (export "refine") (param i32 i32) (result i64) (local $i i32) (local $n i32)
          (local.set $n (i32.const 100))
          (loop $l (if (i32.lt_u (local.get $i) (local.get $n)) (then ${body} (local.set $i (i32.add (local.get $i) (i32.const 1))) (br $l))))
          i64.const 0)
        (func (export "accumulate") (param i32) (result i64) i64.const 0))`);
      const out = executeRefine(new WebAssembly.Module(meterServiceCode(module)), {
        itemIndex: 0,
        payload: new Uint8Array(0),
        gasLimit: 1_000_000_000n,
        preimages: new Map(),
      });
      expect(out.result).toEqual({ ok: new Uint8Array(0) });
      return out.gasUsed;
    };
    for (const call of [false, true]) {
      // the affine load pays exactly what the rotl load (checked every iteration) pays: 100 far of the grown memory
      expect(await grown(true, call)).toBe(await grown(false, call));
    }
  });

  it('charges the entry at every entry of the loop, with the block that ends in the loop instruction', async () => {
    // the counted loop inside an outer loop run 10 times, 0 iterations each: 10 entries
    const nested = async (hoisted: boolean): Promise<bigint> =>
      (
        await refineRun(
          `(loop $outer
             (loop $l (if (i32.lt_u (local.get $i) (local.get $n)) (then ${loopLoad(2, hoisted)} (local.set $i (i32.add (local.get $i) (i32.const 1))) (br $l))))
             (br_if $outer (i32.lt_u (local.tee $k (i32.add (local.get $k) (i32.const 1))) (i32.const 10))))`,
          BIG,
        )
      ).gasUsed;
    expect((await nested(true)) - (await nested(false))).toBe(10n * entry);
  });
});
