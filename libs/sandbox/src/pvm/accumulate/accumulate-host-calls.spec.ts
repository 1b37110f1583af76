import { blake2b256, initHashing } from '@jam/domain';
import { HOST_FULL, HOST_HUH, HOST_NONE, HOST_OK, HOST_WHAT, HOST_WHO } from '../../host-abi';
import * as id from '../host-call-ids';
import type { PvmHostContext } from '../pvm.machine';
import { accumulateHostCalls, AccumulateContext } from './accumulate-host-calls';
import { hex, HOST_CASH, HOST_CORE, HOST_LOW, requestKey, TINY_ACCUMULATE_CONFIG, type PartialState, type ServiceAccount } from './accumulate-state';

// The accumulate host calls of GP 0.7.2 appendix B.7 the 30 accumulate vectors do not reach (or
// reach on one path only), over a guest memory of one 64 KiB region at BASE.
const BASE = 0x10000;
const SIZE = 0x10000;
const SELF = 100;
const OTHER = 200;

function account(balance: bigint, extra: Partial<ServiceAccount['info']> = {}): ServiceAccount {
  return {
    info: {
      codeHash: new Uint8Array(32),
      balance,
      minItemGas: 10n,
      minMemoGas: 10n,
      bytes: 0n,
      depositOffset: 0n,
      items: 0,
      creationSlot: 0,
      lastAccumulationSlot: 0,
      parentService: 0,
      ...extra,
    },
    storage: new Map(),
    preimages: new Map(),
    requests: new Map(),
  };
}

function partial(accounts: [number, ServiceAccount][]): PartialState {
  return {
    accounts: new Map(accounts),
    privileges: { manager: 0, assigners: [0, 0], delegator: 0, registrar: 0, alwaysAccumulate: new Map() },
    stagingSet: [],
    authQueues: [],
  };
}

class Guest {
  readonly memory = new Uint8Array(SIZE);
  constructor(readonly c: AccumulateContext) {}

  put(offset: number, data: Uint8Array | string): bigint {
    this.memory.set(typeof data === 'string' ? Buffer.from(data) : data, offset);
    return BigInt(BASE + offset);
  }

  get(offset: number, length: number): Uint8Array {
    return this.memory.slice(offset, offset + length);
  }

  /** Calls host call `index` with ω7.. = regs; returns the registers after, the verdict and gas left. */
  call(index: number, regs: (bigint | number)[], gas = 1_000n): { r: bigint[]; verdict: void | 'panic' | 'out-of-gas'; gas: bigint } {
    const registers = Array<bigint>(13).fill(0n);
    regs.forEach((v, i) => (registers[7 + i] = BigInt(v)));
    const inside = (a: number, l: number) => a >= BASE && a + l <= BASE + SIZE;
    const ctx: PvmHostContext = {
      index,
      gasLeft: gas,
      registers,
      read: (a, l) => (inside(a, l) ? this.memory.slice(a - BASE, a - BASE + l) : null),
      write: (a, d) => {
        if (!inside(a, d.length)) return false;
        this.memory.set(d, a - BASE);
        return true;
      },
    };
    const verdict = accumulateHostCalls(this.c)(ctx);
    return { r: ctx.registers, verdict, gas: ctx.gasLeft };
  }
}

function guest(accounts: [number, ServiceAccount][], slot = 100): Guest {
  return new Guest(new AccumulateContext(SELF, slot, new Uint8Array(32).fill(7), [], TINY_ACCUMULATE_CONFIG, partial(accounts), 70_000));
}

const mine = (g: Guest): ServiceAccount => g.c.x.state.accounts.get(SELF)!;

describe('accumulate host calls (GP 0.7.2 appendix B.7)', () => {
  beforeAll(async () => {
    await initHashing();
  });

  it('write: insert, overwrite and delete keep a_i and a_o (34 + |k| + |v| per item) and answer the old length', () => {
    const g = guest([[SELF, account(10_000n)]]);
    const k = g.put(0, 'key');
    const v = g.put(16, 'value');
    expect(g.call(id.PVM_HOST_WRITE, [k, 3, v, 5]).r[7]).toBe(HOST_NONE);
    expect(mine(g).info).toMatchObject({ items: 1, bytes: 42n });
    const v2 = g.put(32, 'longer value');
    expect(g.call(id.PVM_HOST_WRITE, [k, 3, v2, 12]).r[7]).toBe(5n);
    expect(mine(g).info).toMatchObject({ items: 1, bytes: 49n });
    expect(g.call(id.PVM_HOST_WRITE, [k, 3, 0, 0]).r[7]).toBe(12n);
    expect(mine(g).info).toMatchObject({ items: 0, bytes: 0n });
    expect(mine(g).storage.size).toBe(0);
  });

  it('write: FULL and no change when the new threshold balance passes the balance; panic on unreadable memory', () => {
    // threshold after the write: 100 + 10·1 + 1·(34 + 3 + 5) = 152
    const g = guest([[SELF, account(151n)]]);
    const k = g.put(0, 'key');
    const v = g.put(16, 'value');
    expect(g.call(id.PVM_HOST_WRITE, [k, 3, v, 5]).r[7]).toBe(HOST_FULL);
    expect(mine(g).storage.size).toBe(0);
    expect(g.call(id.PVM_HOST_WRITE, [k, 3, BASE + SIZE - 2, 5]).verdict).toBe('panic');
  });

  it("read: another service's storage by id, NONE for a missing key or service, the slice [f, f + l] written", () => {
    const other = account(1_000n);
    other.storage.set(hex(Buffer.from('k')), Buffer.from('0123456789'));
    const g = guest([
      [SELF, account(1_000n)],
      [OTHER, other],
    ]);
    const k = g.put(0, 'k');
    const r = g.call(id.PVM_HOST_READ, [OTHER, k, 1, BASE + 100, 2, 3]);
    expect(r.r[7]).toBe(10n);
    expect(Buffer.from(g.get(100, 3)).toString()).toBe('234');
    expect(g.call(id.PVM_HOST_READ, [(1n << 64n) - 1n, k, 1, BASE + 100, 0, 10]).r[7]).toBe(HOST_NONE);
    expect(g.call(id.PVM_HOST_READ, [999, k, 1, BASE + 100, 0, 10]).r[7]).toBe(HOST_NONE);
  });

  it('info: the 96-byte record (code hash, balance, threshold, gas limits, footprint, offsets, slots, parent)', () => {
    const g = guest([[SELF, account(5_000n, { items: 2, bytes: 100n, parentService: 9, creationSlot: 3 })]]);
    expect(g.call(id.PVM_HOST_INFO, [(1n << 64n) - 1n, BASE, 0, 96]).r[7]).toBe(96n);
    const v = Buffer.from(g.get(0, 96));
    expect(v.readBigUInt64LE(32)).toBe(5_000n);
    expect(v.readBigUInt64LE(40)).toBe(100n + 20n + 100n);
    expect(v.readBigUInt64LE(64)).toBe(100n);
    expect(v.readUInt32LE(72)).toBe(2);
    expect(v.readUInt32LE(84)).toBe(3);
    expect(v.readUInt32LE(92)).toBe(9);
    expect(g.call(id.PVM_HOST_INFO, [OTHER, BASE, 0, 96]).r[7]).toBe(HOST_NONE);
  });

  it('solicit, query and forget walk a preimage request through [], [x], [x, y] (GP 0.7.2 B.7)', () => {
    const g = guest([[SELF, account(10_000n)]], 100);
    const h = g.put(0, new Uint8Array(32).fill(9));
    expect(g.call(id.PVM_HOST_QUERY, [h, 50]).r.slice(7, 9)).toEqual([HOST_NONE, 0n]);
    expect(g.call(id.PVM_HOST_SOLICIT, [h, 50]).r[7]).toBe(HOST_OK);
    expect(mine(g).info).toMatchObject({ items: 2, bytes: 131n });
    expect(g.call(id.PVM_HOST_QUERY, [h, 50]).r.slice(7, 9)).toEqual([0n, 0n]);
    expect(g.call(id.PVM_HOST_SOLICIT, [h, 50]).r[7]).toBe(HOST_HUH);
    // provided at slot 40: forget marks it unavailable from now
    mine(g).requests.set(requestKey(new Uint8Array(32).fill(9), 50), [40]);
    expect(g.call(id.PVM_HOST_FORGET, [h, 50]).r[7]).toBe(HOST_OK);
    expect(g.call(id.PVM_HOST_QUERY, [h, 50]).r.slice(7, 9)).toEqual([2n + (40n << 32n), 100n]);
    // [40, 100]: not older than D = 32 slots, so it cannot be dropped yet
    expect(g.call(id.PVM_HOST_FORGET, [h, 50]).r[7]).toBe(HOST_HUH);
    expect(g.call(id.PVM_HOST_SOLICIT, [h, 50]).r[7]).toBe(HOST_OK);
    expect(mine(g).requests.get(requestKey(new Uint8Array(32).fill(9), 50))).toEqual([40, 100, 100]);
  });

  it('forget drops a request still unprovided, with its footprint', () => {
    const g = guest([[SELF, account(10_000n)]]);
    const h = g.put(0, new Uint8Array(32).fill(1));
    g.call(id.PVM_HOST_SOLICIT, [h, 10]);
    expect(g.call(id.PVM_HOST_FORGET, [h, 10]).r[7]).toBe(HOST_OK);
    expect(mine(g).requests.size).toBe(0);
    expect(mine(g).info).toMatchObject({ items: 0, bytes: 0n });
  });

  it('transfer: WHO, LOW, CASH, then OK with the amount deducted, the transfer deferred and ω9 gas charged', () => {
    const g = guest([
      [SELF, account(1_000n)],
      [OTHER, account(0n, { minMemoGas: 50n })],
    ]);
    const memo = g.put(0, new Uint8Array(128).fill(3));
    expect(g.call(id.PVM_HOST_TRANSFER, [999, 1, 50, memo]).r[7]).toBe(HOST_WHO);
    expect(g.call(id.PVM_HOST_TRANSFER, [OTHER, 1, 49, memo]).r[7]).toBe(HOST_LOW);
    expect(g.call(id.PVM_HOST_TRANSFER, [OTHER, 901, 50, memo]).r[7]).toBe(HOST_CASH);
    const ok = g.call(id.PVM_HOST_TRANSFER, [OTHER, 900, 50, memo], 1_000n);
    expect(ok.r[7]).toBe(HOST_OK);
    expect(ok.gas).toBe(950n);
    expect(mine(g).info.balance).toBe(100n);
    expect(g.c.x.transfers).toEqual([{ source: SELF, destination: OTHER, amount: 900n, memo: new Uint8Array(128).fill(3), gas: 50n }]);
    // refused transfers cost only the 10 (charged by the machine); an OK one without ω9 gas left ends
    // the run out of gas (GP 0.7.2 B.5: ⟨∞, ω, μ, s⟩ when ϱ < g, g = 10 + t), nothing deferred or deducted
    expect(g.call(id.PVM_HOST_TRANSFER, [999, 1, 5_000, memo], 100n).gas).toBe(100n);
    const broke = g.call(id.PVM_HOST_TRANSFER, [OTHER, 0, 5_000, memo], 100n);
    // (the machine then ends the run with no gas left, pvm.machine.ts)
    expect(broke.verdict).toBe('out-of-gas');
    expect(mine(g).info.balance).toBe(100n);
    // landing exactly on the gas left is allowed: ϱ = 10 + t leaves 0
    const exact = g.call(id.PVM_HOST_TRANSFER, [OTHER, 0, 50, memo], 50n);
    expect([exact.verdict, exact.r[7], exact.gas]).toEqual([undefined, HOST_OK, 0n]);
    g.c.x.transfers.pop();
    expect(g.c.x.transfers).toHaveLength(1);
  });

  it('checkpoint: y takes x, and later writes stay out of y', () => {
    const g = guest([[SELF, account(10_000n)]]);
    const k = g.put(0, 'a');
    const v = g.put(8, 'b');
    g.call(id.PVM_HOST_WRITE, [k, 1, v, 1]);
    expect(g.call(id.PVM_HOST_CHECKPOINT, [], 777n).r[7]).toBe(777n);
    const k2 = g.put(16, 'c');
    g.call(id.PVM_HOST_WRITE, [k2, 1, v, 1]);
    expect([...g.c.y.state.accounts.get(SELF)!.storage.keys()]).toEqual([hex(Buffer.from('a'))]);
    expect(mine(g).storage.size).toBe(2);
  });

  it('new: the account gets the threshold balance from the caller and the next free id; CASH when the caller cannot pay', () => {
    const g = guest([[SELF, account(10_000n)]]);
    const c = g.put(0, new Uint8Array(32).fill(5));
    const r = g.call(id.PVM_HOST_NEW, [c, 1_000, 10, 10, 0, 0]);
    expect(r.r[7]).toBe(70_000n);
    const created = g.c.x.state.accounts.get(70_000)!;
    // threshold: 100 + 10·2 + 1·(81 + 1000)
    expect(created.info).toMatchObject({ balance: 1_201n, items: 2, bytes: 1_081n, parentService: SELF, creationSlot: 100 });
    expect(created.requests.get(requestKey(new Uint8Array(32).fill(5), 1_000))).toEqual([]);
    expect(mine(g).info.balance).toBe(10_000n - 1_201n);
    expect(g.c.x.nextServiceId).not.toBe(70_000);
    const poor = guest([[SELF, account(1_300n)]]);
    expect(poor.call(id.PVM_HOST_NEW, [poor.put(0, new Uint8Array(32)), 1_000, 10, 10, 0, 0]).r[7]).toBe(HOST_CASH);
    expect(poor.call(id.PVM_HOST_NEW, [poor.put(0, new Uint8Array(32)), 0, 10, 10, 5, 0]).r[7]).toBe(HOST_HUH);
  });

  it('eject: WHO unless the target names the caller in its code hash; OK removes it and moves its balance', () => {
    const owner = new Uint8Array(32);
    owner[0] = SELF;
    const h = new Uint8Array(32).fill(4);
    const child = account(500n, { codeHash: owner, items: 2, bytes: 81n + 10n });
    child.requests.set(requestKey(h, 10), [1, 2]);
    const g = guest(
      [
        [SELF, account(1_000n)],
        [OTHER, child],
        [300, account(5n)],
      ],
      100,
    );
    const ptr = g.put(0, h);
    expect(g.call(id.PVM_HOST_EJECT, [300, ptr]).r[7]).toBe(HOST_WHO);
    expect(g.call(id.PVM_HOST_EJECT, [OTHER, ptr]).r[7]).toBe(HOST_OK);
    expect(g.c.x.state.accounts.has(OTHER)).toBe(false);
    expect(mine(g).info.balance).toBe(1_500n);
  });

  it('provide: HUH unless the target solicited exactly this blob and it is not provided yet', () => {
    const g = guest([
      [SELF, account(1_000n)],
      [OTHER, account(1_000n)],
    ]);
    const blob = g.put(0, 'preimage');
    expect(g.call(id.PVM_HOST_PROVIDE, [OTHER, blob, 8]).r[7]).toBe(HOST_HUH);
    g.c.x.state.accounts.get(OTHER)!.requests.set(requestKey(blake2b256(Buffer.from('preimage')), 8), []);
    expect(g.call(id.PVM_HOST_PROVIDE, [OTHER, blob, 8]).r[7]).toBe(HOST_OK);
    expect(g.call(id.PVM_HOST_PROVIDE, [OTHER, blob, 8]).r[7]).toBe(HOST_HUH);
    expect(g.call(id.PVM_HOST_PROVIDE, [999, blob, 8]).r[7]).toBe(HOST_WHO);
  });

  it('assign and designate: CORE for a core past C, HUH for a caller without the privilege', () => {
    const g = guest([[SELF, account(1_000n)]]);
    const q = g.put(0, new Uint8Array(32 * 80));
    expect(g.call(id.PVM_HOST_ASSIGN, [2, q, SELF]).r[7]).toBe(HOST_CORE);
    expect(g.call(id.PVM_HOST_ASSIGN, [0, q, SELF]).r[7]).toBe(HOST_HUH);
    g.c.x.state.privileges.assigners[1] = SELF;
    expect(g.call(id.PVM_HOST_ASSIGN, [1, q, OTHER]).r[7]).toBe(HOST_OK);
    expect(g.c.x.state.privileges.assigners).toEqual([0, OTHER]);
    expect(g.call(id.PVM_HOST_DESIGNATE, [g.put(0, new Uint8Array(336 * 6))]).r[7]).toBe(HOST_HUH);
  });

  it('yield sets the output hash; refine-only and unknown calls answer WHAT', () => {
    const g = guest([[SELF, account(1_000n)]]);
    expect(g.call(id.PVM_HOST_YIELD, [g.put(0, new Uint8Array(32).fill(8))]).r[7]).toBe(HOST_OK);
    expect(g.c.x.yieldHash).toEqual(new Uint8Array(32).fill(8));
    expect(g.call(id.PVM_HOST_EXPORT, [0, 0]).r[7]).toBe(HOST_WHAT);
    expect(g.call(77, []).r[7]).toBe(HOST_WHAT);
  });
});
