import { COST_TABLE_VERSION, FREE_INITIAL_PAGES, GAS_PER_INITIAL_PAGE, GAS_PER_PAGE, MISS_SURCHARGE_TIERS, missSurcharge } from './cost-table';
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
