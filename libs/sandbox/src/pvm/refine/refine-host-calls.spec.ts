import { blake2b256, initHashing, encodeWorkPackage, encodeRefineContext, GP_PROTOCOL_VERSION, GP_SEGMENT_SIZE, toHex, type WorkPackage } from '@jam/domain';
import { HOST_FULL, HOST_HUH, HOST_NONE, HOST_OK, HOST_OOB, HOST_WHAT, HOST_WHO } from '../../host-abi';
import {
  add64,
  codeBlob,
  ecalli,
  HALT,
  hostCallScript,
  loadImm,
  PREIMAGE_EXPORT_LAYOUT,
  preimageExportService,
  RO_DATA_ADDRESS,
  RW_DATA_ADDRESS,
  storeU32,
  type HostCallStep,
} from '../../../test/pvm-service.builder';
import * as ids from '../host-call-ids';
import { executePvmRefine, preparePvmService } from '../pvm.executor';
import type { RefineJob } from '../../service.executor';
import { encodedProtocolConstants, workItemSummary } from './refine-data';
import { PVM_INNER_MACHINE_GAS, PVM_MAX_INNER_MACHINES } from './inner-machines';

const extrinsic = new TextEncoder().encode('an extrinsic of item 1');
const otherPayload = new TextEncoder().encode('payload of item 0');
const ownPayload = new TextEncoder().encode('payload of item 1');
const importA = new Uint8Array(GP_SEGMENT_SIZE).fill(0xa1);
const hash = (b: Uint8Array) => blake2b256(b);

function makePackage(): WorkPackage {
  return {
    authorization: Uint8Array.of(1, 2, 3),
    auth_code_host: 9,
    auth_code_hash: new Uint8Array(32).fill(4),
    authorizer_config: Uint8Array.of(5, 6),
    context: {
      anchor: new Uint8Array(32).fill(7),
      state_root: new Uint8Array(32).fill(8),
      beefy_root: new Uint8Array(32).fill(9),
      lookup_anchor: new Uint8Array(32).fill(10),
      lookup_anchor_slot: 42,
      prerequisites: [],
    },
    items: [
      {
        service: 3,
        code_hash: new Uint8Array(32).fill(11),
        payload: otherPayload,
        refine_gas_limit: 100n,
        accumulate_gas_limit: 200n,
        import_segments: [],
        extrinsic: [],
        export_count: 0,
      },
      {
        service: 7,
        code_hash: new Uint8Array(32).fill(12),
        payload: ownPayload,
        refine_gas_limit: 1_000_000n,
        accumulate_gas_limit: 300n,
        import_segments: [{ tree_root: new Uint8Array(32).fill(13), index: 0 }],
        extrinsic: [{ hash: hash(extrinsic), len: extrinsic.length }],
        export_count: 2,
      },
    ],
  };
}
let pkg: WorkPackage;
let encodedPackage: Uint8Array;
beforeAll(async () => {
  await initHashing();
  pkg = makePackage();
  encodedPackage = encodeWorkPackage(pkg);
});

function job(over: Partial<RefineJob> = {}): RefineJob {
  return {
    itemIndex: 1,
    payload: ownPayload,
    gasLimit: 10_000_000n,
    preimages: new Map([[toHex(hash(extrinsic)), extrinsic]]),
    serviceId: 7,
    packageHash: hash(encodedPackage),
    imports: [importA],
    exportOffset: 0,
    workPackage: encodedPackage,
    ...over,
  };
}

/** The data area after the 16-byte result slots of `steps` steps. */
const dataAt = (steps: number) => RW_DATA_ADDRESS + 16 * steps;
const RW_BYTES = 16 * 1024;

interface ScriptRun {
  /** ω7, ω8 after each step. */
  results: [bigint, bigint][];
  /** the read-write data (results, then the data area) */
  rw: Uint8Array;
  gasUsed: bigint;
  outcome: ReturnType<typeof executePvmRefine>;
}

function run(steps: HostCallStep[], opts: { roData?: Uint8Array; rwData?: Uint8Array; job?: Partial<RefineJob> } = {}): ScriptRun {
  const rwData = opts.rwData ?? new Uint8Array(RW_BYTES);
  const code = hostCallScript(steps, { roData: opts.roData ?? Uint8Array.of(0), rwData });
  const outcome = executePvmRefine(preparePvmService(code), job(opts.job));
  if (!('ok' in outcome.result)) return { results: [], rw: new Uint8Array(0), gasUsed: outcome.gasUsed, outcome };
  const rw = outcome.result.ok;
  const view = new DataView(rw.buffer, rw.byteOffset, rw.byteLength);
  const results = steps.map((_, k): [bigint, bigint] => [view.getBigUint64(16 * k, true), view.getBigUint64(16 * k + 8, true)]);
  return { results, rw, gasUsed: outcome.gasUsed, outcome };
}

const at = (r: ScriptRun, address: number, length: number) => r.rw.slice(address - RW_DATA_ADDRESS, address - RW_DATA_ADDRESS + length);
const B = BigInt;

describe('PVM refine host calls (GP 0.7.2 appendix B)', () => {
  it('numbers the host calls as GP 0.7.2 does', () => {
    // this numbering is 0.7.2's (0.8.0 inserts grow_heap at 1): moving the protocol version fails here first
    expect(GP_PROTOCOL_VERSION).toBe('0.7.2');
    const byId = Object.entries(ids).sort(([, a], [, b]) => a - b);
    expect(byId.map(([k, v]) => `${k}=${v}`)).toEqual(
      [
        'GAS',
        'FETCH',
        'LOOKUP',
        'READ',
        'WRITE',
        'INFO',
        'HISTORICAL_LOOKUP',
        'EXPORT',
        'MACHINE',
        'PEEK',
        'POKE',
        'PAGES',
        'INVOKE',
        'EXPUNGE',
        'BLESS',
        'ASSIGN',
        'DESIGNATE',
        'CHECKPOINT',
        'NEW',
        'UPGRADE',
        'TRANSFER',
        'EJECT',
        'QUERY',
        'SOLICIT',
        'FORGET',
        'YIELD',
        'PROVIDE',
      ]
        .map((n, i) => `PVM_HOST_${n}=${i}`)
        .concat('PVM_HOST_LOG=100'),
    );
  });

  describe('fetch', () => {
    const cases: [string, bigint, bigint, bigint, () => Uint8Array | null][] = [
      ['protocol constants', 0n, 0n, 0n, () => encodedProtocolConstants()],
      ['entropy (zero hash in refine)', 1n, 0n, 0n, () => new Uint8Array(32)],
      ['authorizer trace (none: no is-authorized here)', 2n, 0n, 0n, () => null],
      ['this item extrinsic by item index', 3n, 1n, 0n, () => extrinsic],
      ['another item extrinsic (not shipped)', 3n, 0n, 0n, () => null],
      ['this item extrinsic', 4n, 0n, 0n, () => extrinsic],
      ['missing extrinsic', 4n, 1n, 0n, () => null],
      ['this item import by item index', 5n, 1n, 0n, () => importA],
      ['this item import', 6n, 0n, 0n, () => importA],
      ['missing import', 6n, 1n, 0n, () => null],
      ['work package', 7n, 0n, 0n, () => encodedPackage],
      ['authorizer config', 8n, 0n, 0n, () => pkg.authorizer_config],
      ['authorization', 9n, 0n, 0n, () => pkg.authorization],
      ['refine context', 10n, 0n, 0n, () => encodeRefineContext(pkg.context)],
      ['item summaries', 11n, 0n, 0n, () => Uint8Array.from([2, ...workItemSummary(pkg.items[0]!), ...workItemSummary(pkg.items[1]!)])],
      ['item summary', 12n, 0n, 0n, () => workItemSummary(pkg.items[0]!)],
      ['missing item summary', 12n, 2n, 0n, () => null],
      ['other item payload', 13n, 0n, 0n, () => otherPayload],
      ['own payload', 13n, 1n, 0n, () => ownPayload],
      ['accumulate selector in refine', 14n, 0n, 0n, () => null],
    ];
    it.each(cases)('selector: %s', (_, sel, a, b, value) => {
      const expected = value();
      const out = dataAt(1);
      const r = run([{ call: ids.PVM_HOST_FETCH, regs: { 7: B(out), 8: 0n, 9: 8192n, 10: sel, 11: a, 12: b } }]);
      if (expected === null) {
        expect(r.results[0]![0]).toBe(HOST_NONE);
        return;
      }
      expect(r.results[0]![0]).toBe(B(expected.length));
      expect(at(r, out, expected.length)).toEqual(expected);
    });

    it('encodes the protocol constants as GP 0.7.2 c (134 bytes; W_G-related and W_X values where we can see them)', () => {
      const c = encodedProtocolConstants();
      expect(c.length).toBe(134);
      const v = new DataView(c.buffer, c.byteOffset);
      // E2(C) after three E8 balances
      expect(v.getUint16(24, true)).toBe(341);
      // E4(W_X) is the second to last field
      expect(v.getUint32(126, true)).toBe(3072);
    });

    it('copies a window: offset and length are clamped to the value, ω7 is its full length', () => {
      const out = dataAt(1);
      const r = run([{ call: ids.PVM_HOST_FETCH, regs: { 7: B(out), 8: 3n, 9: 4n, 10: 13n, 11: 1n } }]);
      expect(r.results[0]![0]).toBe(B(ownPayload.length));
      expect(at(r, out, 6)).toEqual(Uint8Array.from([...ownPayload.subarray(3, 7), 0, 0]));
    });

    it('answers NONE for the package selectors when the job carries no package', () => {
      const r = run([{ call: ids.PVM_HOST_FETCH, regs: { 7: B(dataAt(1)), 8: 0n, 9: 100n, 10: 7n } }], { job: { workPackage: undefined } });
      expect(r.results[0]![0]).toBe(HOST_NONE);
    });

    it('panics when the output is not writable (read-only data)', () => {
      const r = run([{ call: ids.PVM_HOST_FETCH, regs: { 7: B(RO_DATA_ADDRESS), 8: 0n, 9: 8n, 10: 0n } }]);
      expect(r.outcome.result).toEqual({ panic: null });
    });
  });

  describe('lookup and historical_lookup', () => {
    it.each([ids.PVM_HOST_LOOKUP, ids.PVM_HOST_HISTORICAL_LOOKUP])(
      'host call %d: this service (2^64 - 1 or its id) gets the preimage, another service and an unknown hash NONE',
      (call) => {
        const out = dataAt(4);
        const regs = (service: bigint, hashAt: number) => ({ 7: service, 8: B(hashAt), 9: B(out), 10: 0n, 11: 1000n });
        const r = run(
          [
            { call, regs: regs((1n << 64n) - 1n, RO_DATA_ADDRESS) },
            { call, regs: regs(7n, RO_DATA_ADDRESS) },
            { call, regs: regs(8n, RO_DATA_ADDRESS) },
            { call, regs: regs(7n, RO_DATA_ADDRESS + 32) },
          ],
          { roData: Uint8Array.from([...hash(extrinsic), ...new Uint8Array(32).fill(0xee)]) },
        );
        expect(r.results.map((x) => x[0])).toEqual([B(extrinsic.length), B(extrinsic.length), HOST_NONE, HOST_NONE]);
        expect(at(r, out, extrinsic.length)).toEqual(extrinsic);
      },
    );

    it('panics when the hash is not readable', () => {
      const r = run([{ call: ids.PVM_HOST_LOOKUP, regs: { 7: 7n, 8: 0x100n, 9: B(dataAt(1)), 10: 0n, 11: 10n } }]);
      expect(r.outcome.result).toEqual({ panic: null });
    });
  });

  describe('export', () => {
    it('appends a segment zero-padded to W_G, numbered after the export offset', () => {
      // 5 bytes, then zeros: the second export reads W_G bytes, past the first page
      const ro = new Uint8Array(8192);
      ro.set([1, 2, 3, 4, 5]);
      const r = run(
        [
          { call: ids.PVM_HOST_EXPORT, regs: { 7: B(RO_DATA_ADDRESS), 8: 5n } },
          { call: ids.PVM_HOST_EXPORT, regs: { 7: B(RO_DATA_ADDRESS), 8: 1_000_000n } },
        ],
        { roData: ro, job: { exportOffset: 4 } },
      );
      expect(r.results.map((x) => x[0])).toEqual([4n, 5n]);
      const first = new Uint8Array(GP_SEGMENT_SIZE);
      first.set([1, 2, 3, 4, 5]);
      expect(r.outcome.exports).toEqual([first, first]);
    });

    it('answers FULL once the package would pass W_X = 3072 segments', () => {
      const r = run(
        [
          { call: ids.PVM_HOST_EXPORT, regs: { 7: B(RO_DATA_ADDRESS), 8: 1n } },
          { call: ids.PVM_HOST_EXPORT, regs: { 7: B(RO_DATA_ADDRESS), 8: 1n } },
        ],
        { job: { exportOffset: 3071 } },
      );
      expect(r.results.map((x) => x[0])).toEqual([3071n, HOST_FULL]);
      expect(r.outcome.exports).toHaveLength(1);
    });

    it('panics when the bytes are not readable', () => {
      const r = run([{ call: ids.PVM_HOST_EXPORT, regs: { 7: 0x100n, 8: 4n } }]);
      expect(r.outcome.result).toEqual({ panic: null });
    });
  });

  it('runs the preimage-export service the e2e spec uses: fetch, lookup, export, fetch of an import and of an extrinsic', () => {
    const L = PREIMAGE_EXPORT_LAYOUT;
    const single = { ...pkg, items: [{ ...pkg.items[1]!, payload: hash(extrinsic) }] };
    const out = executePvmRefine(
      preparePvmService(preimageExportService()),
      job({ itemIndex: 0, payload: hash(extrinsic), workPackage: encodeWorkPackage(single) }),
    );
    const rw = (out.result as { ok: Uint8Array }).ok;
    const v = new DataView(rw.buffer, rw.byteOffset);
    expect([0, 1, 2, 3, 4].map((k) => v.getBigUint64(16 * k, true))).toEqual([32n, B(extrinsic.length), 0n, B(GP_SEGMENT_SIZE), B(extrinsic.length)]);
    expect(rw.slice(L.preimage, L.preimage + extrinsic.length)).toEqual(extrinsic);
    expect(rw.slice(L.extrinsic, L.extrinsic + extrinsic.length)).toEqual(extrinsic);
    expect(rw.slice(L.imported, L.imported + 64)).toEqual(importA.slice(0, 64));
    const segment = new Uint8Array(GP_SEGMENT_SIZE);
    segment.set(extrinsic);
    expect(out.exports).toEqual([segment]);
  });

  it('answers WHAT for accumulate calls in refine (read, write, transfer, ...)', () => {
    const r = run(
      [ids.PVM_HOST_READ, ids.PVM_HOST_WRITE, ids.PVM_HOST_INFO, ids.PVM_HOST_TRANSFER, ids.PVM_HOST_PROVIDE, 99].map((call) => ({ call, regs: {} })),
    );
    expect(r.results.map((x) => x[0])).toEqual(Array(6).fill(HOST_WHAT));
  });

  it('log (100) is no GP 0.7.2 host call: the mutator default charges 10 and sets ω7 = WHAT (appendix B.3); the line is captured (JIP-1)', () => {
    const message = new TextEncoder().encode('hello from log');
    const rwData = new Uint8Array(RW_BYTES);
    rwData.set(message, dataAt(1) - RW_DATA_ADDRESS);
    const regs = { 7: 2n, 8: 0n, 9: 0n, 10: B(dataAt(1)), 11: B(message.length) };
    const logged = run([{ call: ids.PVM_HOST_LOG, regs }], { rwData });
    expect(logged.results[0]![0]).toBe(HOST_WHAT);
    expect(logged.outcome.logs).toEqual(['[2] hello from log']);
    // the same script calling `gas` (10, GP) costs exactly as much
    expect(logged.gasUsed).toBe(run([{ call: ids.PVM_HOST_GAS, regs }], { rwData }).gasUsed);
  });

  it('charges 10 per call plus 1 gas per 4 bytes a call copies', () => {
    // the protocol constants are 134 bytes: copying 100 of them costs 25 more than copying none
    const fetchOf = (len: bigint) => run([{ call: ids.PVM_HOST_FETCH, regs: { 7: B(dataAt(1)), 8: 0n, 9: len, 10: 0n } }]).gasUsed;
    expect(fetchOf(100n) - fetchOf(0n)).toBe(25n);
  });
});

/** Inner program: r9 = r7 + r8; u32 [0x10004] = r9; ecalli 5; r7 = 77; halt (r0 = 2^32 - 2^16). */
const INNER = codeBlob([add64(9, 7, 8), storeU32(9, 0x10004), ecalli(5), loadImm(7, [77]), HALT]);
const INNER_ECALLI_NEXT = 3 + 6 + 2; // pc after the ecalli
const HALT_ADDRESS = 0xffff0000n;

/** The 112-byte invoke block: E8(gas) ++ E8(ω0..ω12). */
function invokeBlock(gas: bigint, regs: Partial<Record<number, bigint>>): Uint8Array {
  const b = new Uint8Array(112);
  const v = new DataView(b.buffer);
  v.setBigUint64(0, gas, true);
  for (const [i, x] of Object.entries(regs)) v.setBigUint64(8 + Number(i) * 8, x!, true);
  return b;
}

function readBlock(r: ScriptRun, address: number): { gas: bigint; regs: bigint[] } {
  const b = at(r, address, 112);
  const v = new DataView(b.buffer, b.byteOffset);
  return { gas: v.getBigUint64(0, true), regs: Array.from({ length: 13 }, (_, i) => v.getBigUint64(8 + i * 8, true)) };
}

describe('PVM inner machines (machine/peek/poke/pages/invoke/expunge)', () => {
  const steps = 12;
  const block = dataAt(steps);
  const scratch = block + 112;
  const rwData = () => {
    const rw = new Uint8Array(RW_BYTES);
    rw.set(invokeBlock(1000n, { 0: HALT_ADDRESS, 7: 5n, 8: 6n }), block - RW_DATA_ADDRESS);
    rw.set([0xaa, 0xbb, 0xcc, 0xdd], scratch - RW_DATA_ADDRESS);
    return rw;
  };

  it('creates a machine, gives it memory, pokes, invokes to a host call and to halt, peeks, expunges', () => {
    const r = run(
      [
        { call: ids.PVM_HOST_MACHINE, regs: { 7: B(RO_DATA_ADDRESS), 8: B(INNER.length), 9: 0n } },
        { call: ids.PVM_HOST_PAGES, regs: { 7: 0n, 8: 16n, 9: 1n, 10: 2n } },
        { call: ids.PVM_HOST_POKE, regs: { 7: 0n, 8: B(scratch), 9: 0x10000n, 10: 4n } },
        { call: ids.PVM_HOST_INVOKE, regs: { 7: 0n, 8: B(block) } },
        { call: ids.PVM_HOST_PEEK, regs: { 7: 0n, 8: B(scratch + 8), 9: 0x10000n, 10: 8n } },
        { call: ids.PVM_HOST_INVOKE, regs: { 7: 0n, 8: B(block) } },
        { call: ids.PVM_HOST_EXPUNGE, regs: { 7: 0n } },
        { call: ids.PVM_HOST_EXPUNGE, regs: { 7: 0n } },
      ],
      { roData: INNER, rwData: rwData() },
    );
    const [made, paged, poked, firstInvoke, peeked, secondInvoke, expunged, again] = r.results;
    expect(made![0]).toBe(0n);
    expect(paged![0]).toBe(HOST_OK);
    expect(poked![0]).toBe(HOST_OK);
    // host call 5: exit 3, ω8 = 5
    expect(firstInvoke).toEqual([3n, 5n]);
    expect(peeked![0]).toBe(HOST_OK);
    // the 4 poked bytes, then 5 + 6 stored by the inner program
    expect(at(r, scratch + 8, 8)).toEqual(Uint8Array.of(0xaa, 0xbb, 0xcc, 0xdd, 11, 0, 0, 0));
    expect(secondInvoke![0]).toBe(0n);
    const after = readBlock(r, block);
    expect(after.regs[7]).toBe(77n);
    expect(after.regs[9]).toBe(11n);
    // 5 instructions (halt included), gas charged to the inner machine only for them
    expect(after.gas).toBe(1000n - 5n);
    // halted at the jump (the halt instruction's pc)
    expect(expunged![0]).toBe(B(INNER_ECALLI_NEXT + 3));
    expect(again![0]).toBe(HOST_WHO);
  });

  it('charges the inner gas to the outer machine besides the calls own prices', () => {
    const script = (invokes: number) =>
      run(
        [
          { call: ids.PVM_HOST_MACHINE, regs: { 7: B(RO_DATA_ADDRESS), 8: B(INNER.length), 9: 0n } },
          { call: ids.PVM_HOST_PAGES, regs: { 7: 0n, 8: 16n, 9: 1n, 10: 2n } },
          ...Array.from({ length: invokes }, () => ({ call: ids.PVM_HOST_INVOKE, regs: { 7: 0n, 8: B(block) } })),
        ],
        { roData: INNER, rwData: rwData() },
      );
    const none = script(0);
    const one = script(1);
    // the step's 2 loads + 2 stores + ecalli + 10, and the 3 inner instructions up to the host call
    expect(one.gasUsed - none.gasUsed).toBe(5n + 10n + 3n);
    expect(none.gasUsed).toBeGreaterThan(PVM_INNER_MACHINE_GAS);
  });

  it('answers WHO for a machine that does not exist', () => {
    const r = run([
      { call: ids.PVM_HOST_PEEK, regs: { 7: 3n, 8: B(scratch), 9: 0x10000n, 10: 1n } },
      { call: ids.PVM_HOST_POKE, regs: { 7: 3n, 8: B(scratch), 9: 0x10000n, 10: 1n } },
      { call: ids.PVM_HOST_PAGES, regs: { 7: 3n, 8: 16n, 9: 1n, 10: 2n } },
      { call: ids.PVM_HOST_INVOKE, regs: { 7: 3n, 8: B(block) } },
      { call: ids.PVM_HOST_EXPUNGE, regs: { 7: 3n } },
    ]);
    expect(r.results.map((x) => x[0])).toEqual(Array(5).fill(HOST_WHO));
  });

  it('answers OOB for inner memory without access, HUH for bad pages arguments and bad programs', () => {
    const r = run(
      [
        { call: ids.PVM_HOST_MACHINE, regs: { 7: B(RO_DATA_ADDRESS), 8: B(INNER.length), 9: 0n } },
        { call: ids.PVM_HOST_PEEK, regs: { 7: 0n, 8: B(scratch), 9: 0x10000n, 10: 1n } },
        { call: ids.PVM_HOST_PAGES, regs: { 7: 0n, 8: 16n, 9: 1n, 10: 1n } },
        { call: ids.PVM_HOST_POKE, regs: { 7: 0n, 8: B(scratch), 9: 0x10000n, 10: 1n } },
        { call: ids.PVM_HOST_PAGES, regs: { 7: 0n, 8: 15n, 9: 1n, 10: 2n } },
        { call: ids.PVM_HOST_PAGES, regs: { 7: 0n, 8: 16n, 9: 1n, 10: 5n } },
        { call: ids.PVM_HOST_PAGES, regs: { 7: 0n, 8: 17n, 9: 1n, 10: 3n } },
        { call: ids.PVM_HOST_PAGES, regs: { 7: 0n, 8: (1n << 20n) - 1n, 9: 1n, 10: 2n } },
        { call: ids.PVM_HOST_MACHINE, regs: { 7: B(RO_DATA_ADDRESS), 8: 2n, 9: 0n } },
        { call: ids.PVM_HOST_PEEK, regs: { 7: 0n, 8: B(scratch), 9: 0x10000n, 10: 1n } },
      ],
      { roData: INNER, rwData: rwData() },
    );
    expect(r.results.map((x) => x[0])).toEqual([0n, HOST_OOB, HOST_OK, HOST_OOB, HOST_HUH, HOST_HUH, HOST_HUH, HOST_HUH, HOST_HUH, HOST_OK]);
  });

  it('keeps page contents for modes 3 and 4 and zeroes them for 0 to 2', () => {
    const r = run(
      [
        { call: ids.PVM_HOST_MACHINE, regs: { 7: B(RO_DATA_ADDRESS), 8: B(INNER.length), 9: 0n } },
        { call: ids.PVM_HOST_PAGES, regs: { 7: 0n, 8: 16n, 9: 2n, 10: 2n } },
        { call: ids.PVM_HOST_POKE, regs: { 7: 0n, 8: B(scratch), 9: 0x10000n, 10: 4n } },
        { call: ids.PVM_HOST_POKE, regs: { 7: 0n, 8: B(scratch), 9: 0x11000n, 10: 4n } },
        { call: ids.PVM_HOST_PAGES, regs: { 7: 0n, 8: 16n, 9: 1n, 10: 3n } },
        { call: ids.PVM_HOST_PAGES, regs: { 7: 0n, 8: 17n, 9: 1n, 10: 1n } },
        { call: ids.PVM_HOST_PEEK, regs: { 7: 0n, 8: B(scratch + 8), 9: 0x10000n, 10: 4n } },
        { call: ids.PVM_HOST_PEEK, regs: { 7: 0n, 8: B(scratch + 16), 9: 0x11000n, 10: 4n } },
        { call: ids.PVM_HOST_POKE, regs: { 7: 0n, 8: B(scratch), 9: 0x10000n, 10: 4n } },
      ],
      { roData: INNER, rwData: rwData() },
    );
    expect(r.results.map((x) => x[0])).toEqual([0n, HOST_OK, HOST_OK, HOST_OK, HOST_OK, HOST_OK, HOST_OK, HOST_OK, HOST_OOB]);
    expect(at(r, scratch + 8, 12)).toEqual(Uint8Array.of(0xaa, 0xbb, 0xcc, 0xdd, 0, 0, 0, 0, 0, 0, 0, 0));
  });

  it('moves pieces over many pages both ways (poke then peek of 10,000 bytes)', () => {
    const rw = new Uint8Array(24 * 1024);
    rw.set(rwData());
    const source = scratch + 256;
    const pattern = Uint8Array.from({ length: 10_000 }, (_, i) => (i * 7) % 251);
    rw.set(pattern, source - RW_DATA_ADDRESS);
    const back = source + 10_000;
    const r = run(
      [
        { call: ids.PVM_HOST_MACHINE, regs: { 7: B(RO_DATA_ADDRESS), 8: B(INNER.length), 9: 0n } },
        { call: ids.PVM_HOST_PAGES, regs: { 7: 0n, 8: 16n, 9: 4n, 10: 2n } },
        { call: ids.PVM_HOST_POKE, regs: { 7: 0n, 8: B(source), 9: 0x10000n + 100n, 10: 10_000n } },
        { call: ids.PVM_HOST_PEEK, regs: { 7: 0n, 8: B(back), 9: 0x10000n + 100n, 10: 10_000n } },
      ],
      { roData: INNER, rwData: rw },
    );
    expect(r.results.map((x) => x[0])).toEqual([0n, HOST_OK, HOST_OK, HOST_OK]);
    expect(at(r, back, 10_000)).toEqual(pattern);
  });

  it('panics when a long copy meets a read-only or unmapped page part way', () => {
    const ro = new Uint8Array(4096);
    ro.set(INNER);
    const intoReadOnly = run(
      [
        { call: ids.PVM_HOST_MACHINE, regs: { 7: B(RO_DATA_ADDRESS), 8: B(INNER.length), 9: 0n } },
        { call: ids.PVM_HOST_PAGES, regs: { 7: 0n, 8: 16n, 9: 1n, 10: 2n } },
        { call: ids.PVM_HOST_PEEK, regs: { 7: 0n, 8: B(RO_DATA_ADDRESS + 100), 9: 0x10000n, 10: 1000n } },
      ],
      { roData: ro, rwData: rwData() },
    );
    expect(intoReadOnly.outcome.result).toEqual({ panic: null });
    // the read-write data ends at a page boundary: a 1,000-byte fetch 100 bytes before it runs off the mapped memory
    const pastEnd = run([{ call: ids.PVM_HOST_FETCH, regs: { 7: B(RW_DATA_ADDRESS + RW_BYTES - 100), 8: 0n, 9: 1000n, 10: 7n } }]);
    expect(pastEnd.outcome.result).toEqual({ panic: null });
    const inside = run([{ call: ids.PVM_HOST_FETCH, regs: { 7: B(RW_DATA_ADDRESS + RW_BYTES - 1000), 8: 0n, 9: 1000n, 10: 7n } }]);
    expect(at(inside, RW_DATA_ADDRESS + RW_BYTES - 1000, encodedPackage.length)).toEqual(encodedPackage);
  });

  it('reports an inner page fault (exit 2, the page address) and inner out of gas (exit 4)', () => {
    const faulting = run(
      [
        { call: ids.PVM_HOST_MACHINE, regs: { 7: B(RO_DATA_ADDRESS), 8: B(INNER.length), 9: 0n } },
        { call: ids.PVM_HOST_INVOKE, regs: { 7: 0n, 8: B(block) } },
      ],
      { roData: INNER, rwData: rwData() },
    );
    expect(faulting.results[1]).toEqual([2n, 0x10000n]);
    const starving = (() => {
      const rw = rwData();
      rw.set(invokeBlock(1n, { 0: HALT_ADDRESS }), block - RW_DATA_ADDRESS);
      return run(
        [
          { call: ids.PVM_HOST_MACHINE, regs: { 7: B(RO_DATA_ADDRESS), 8: B(INNER.length), 9: 0n } },
          { call: ids.PVM_HOST_PAGES, regs: { 7: 0n, 8: 16n, 9: 1n, 10: 2n } },
          { call: ids.PVM_HOST_INVOKE, regs: { 7: 0n, 8: B(block) } },
        ],
        { roData: INNER, rwData: rw },
      );
    })();
    expect(starving.results[2]![0]).toBe(4n);
    expect(readBlock(starving, block).gas).toBe(0n);
  });

  it('resumes a faulted machine at the faulting instruction once the guest gives it the page', () => {
    const steps = [
      { call: ids.PVM_HOST_MACHINE, regs: { 7: B(RO_DATA_ADDRESS), 8: B(INNER.length), 9: 0n } },
      { call: ids.PVM_HOST_INVOKE, regs: { 7: 0n, 8: B(block) } },
      { call: ids.PVM_HOST_INVOKE, regs: { 7: 0n, 8: B(block) } },
      { call: ids.PVM_HOST_PAGES, regs: { 7: 0n, 8: 16n, 9: 1n, 10: 2n } },
      { call: ids.PVM_HOST_INVOKE, regs: { 7: 0n, 8: B(block) } },
      { call: ids.PVM_HOST_PEEK, regs: { 7: 0n, 8: B(scratch), 9: 0x10004n, 10: 4n } },
    ];
    const r = run(steps, { roData: INNER, rwData: rwData() });
    // faults at the store (pc 3) twice, then with the page it stores 5 + 6 and stops at the host call
    expect(r.results.slice(1, 5).map((x) => x[0])).toEqual([2n, 2n, HOST_OK, 3n]);
    expect(r.results[4]![1]).toBe(5n);
    expect(at(r, scratch, 4)).toEqual(Uint8Array.of(11, 0, 0, 0));
  });

  it('ends the outer run out of gas when the inner machine would use more gas than the outer has', () => {
    const rw = rwData();
    rw.set(invokeBlock(1n << 40n, { 0: HALT_ADDRESS }), block - RW_DATA_ADDRESS);
    const loop = codeBlob([[0x28, 0x00]]); // jump to itself
    const r = run(
      [
        { call: ids.PVM_HOST_MACHINE, regs: { 7: B(RO_DATA_ADDRESS), 8: B(loop.length), 9: 0n } },
        { call: ids.PVM_HOST_INVOKE, regs: { 7: 0n, 8: B(block) } },
      ],
      { roData: loop, rwData: rw, job: { gasLimit: 200_000n } },
    );
    expect(r.outcome).toMatchObject({ result: { out_of_gas: null }, gasUsed: 200_000n });
  });

  it('panics when the invoke block, a peek destination or a poke source is not accessible as needed', () => {
    const machineStep = { call: ids.PVM_HOST_MACHINE, regs: { 7: B(RO_DATA_ADDRESS), 8: B(INNER.length), 9: 0n } };
    for (const step of [
      { call: ids.PVM_HOST_INVOKE, regs: { 7: 0n, 8: B(RO_DATA_ADDRESS) } },
      { call: ids.PVM_HOST_PEEK, regs: { 7: 0n, 8: B(RO_DATA_ADDRESS), 9: 0x10000n, 10: 1n } },
      { call: ids.PVM_HOST_POKE, regs: { 7: 0n, 8: 0x100n, 9: 0x10000n, 10: 1n } },
      { call: ids.PVM_HOST_MACHINE, regs: { 7: 0x100n, 8: 10n, 9: 0n } },
    ]) {
      expect(run([machineStep, step], { roData: INNER, rwData: rwData() }).outcome.result).toEqual({ panic: null });
    }
  });

  it(`allows ${PVM_MAX_INNER_MACHINES} live machines, then HUH; expunge frees an id and the smallest free id is reused`, () => {
    const make = { call: ids.PVM_HOST_MACHINE, regs: { 7: B(RO_DATA_ADDRESS), 8: B(INNER.length), 9: 0n } };
    const r = run([...Array.from({ length: PVM_MAX_INNER_MACHINES + 1 }, () => make), { call: ids.PVM_HOST_EXPUNGE, regs: { 7: 3n } }, make], {
      roData: INNER,
      rwData: new Uint8Array(16 * (PVM_MAX_INNER_MACHINES + 3)),
    });
    const ids_ = r.results.map((x) => x[0]);
    expect(ids_.slice(0, PVM_MAX_INNER_MACHINES)).toEqual(Array.from({ length: PVM_MAX_INNER_MACHINES }, (_, i) => B(i)));
    expect(ids_[PVM_MAX_INNER_MACHINES]).toBe(HOST_HUH);
    expect(ids_[PVM_MAX_INNER_MACHINES + 2]).toBe(3n);
  });
});
