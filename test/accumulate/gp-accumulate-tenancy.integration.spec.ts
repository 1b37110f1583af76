/**
 * The GP accumulate state is per tenant (docs/security.md, "GP accumulate state per tenant"), and
 * the product's limits apply on this path (docs/service-abi.md, "GP accumulate state"): JAM
 * conformance vectors (GP 0.7.2, tiny) run through `GpAccumulator` over PostgreSQL and a sandbox
 * executor, with their accounts split between two owners or with the product's limits set.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { GpStateLimitError } from '@jam/persistence';
import { parseAccumulateVector, SandboxPool, TINY_ACCUMULATE_CONFIG, type AccumulateStfState } from '@jam/sandbox';
import { createMigratedDatabase, type MigratedTestDatabase } from '../support/database';
import { fromStfState, GpAccumulator } from '../../apps/accumulate-worker/src/gp-accumulator';

const DIR = path.resolve(__dirname, '../fixtures/jam-vectors/stf/accumulate/tiny');
const vector = (name: string) => parseAccumulateVector(name, readFileSync(path.join(DIR, name), 'utf8'));
const E = TINY_ACCUMULATE_CONFIG.epochLength;
const BIG = { maxBytes: 1 << 30, maxItems: 1 << 20 };

/** `state` with only the accounts `keep` says. */
function only(state: AccumulateStfState, keep: (id: number) => boolean): AccumulateStfState {
  return { ...state, partial: { ...state.partial, accounts: new Map([...state.partial.accounts].filter(([id]) => keep(id))) } };
}

const OWNERS = ['alice', 'bob', 'carol', 'dave'];

describe('GP accumulate state per tenant and its limits (PostgreSQL, executor processes)', () => {
  let db: MigratedTestDatabase | undefined;
  let pool: SandboxPool | undefined;

  beforeAll(async () => {
    db = await createMigratedDatabase('gptenancy', { poolSize: 2 });
    // the wall clock is a backstop only: a loaded machine must not turn a vector into a timeout
    pool = new SandboxPool({ size: 1, wallClockMs: 300_000 });
    await pool.start();
  });

  // every test starts with no account in any owner's state (the vectors' ids repeat across tests)
  beforeEach(async () => {
    const empty = only(vector('process_one_immediate_report-1.json').pre, () => false);
    for (const owner of OWNERS) await db!.repos.gpState.replace(fromStfState(owner, empty));
  });

  afterAll(async () => {
    await pool?.close();
    await db?.drop();
  });

  /** The eject vector with service 2 as bob's and the others as alice's. */
  async function splitEjectVector() {
    const v = vector('work_for_ejected_service-2.json');
    await db!.repos.gpState.replace(
      fromStfState(
        'alice',
        only(v.pre, (id) => id !== 2),
      ),
    );
    await db!.repos.gpState.replace(
      fromStfState(
        'bob',
        only(v.pre, (id) => id === 2),
      ),
    );
    return v;
  }

  it("cannot see, eject or take the balance of another tenant's account; the other tenant's state and version do not move", async () => {
    // service 0 ejects service 2 and takes its balance (474,514 = 2 x 237,257) when both are in one state
    const v = await splitEjectVector();
    const gpState = db!.repos.gpState;
    const bobBefore = await gpState.load('bob', E);
    const accumulator = new GpAccumulator({ gpState, sandbox: pool!, chain: 'tiny' });
    expect((await accumulator.accumulate({ owner: 'alice', reports: v.reports, slot: v.slot, entropy: v.pre.entropy })).status).toBe('applied');
    const alice = await gpState.load('alice', E);
    expect([...alice.accounts.keys()]).toEqual([0, 1, 1729]);
    // eject answered WHO: no balance moved to service 0
    expect(alice.accounts.get(0)!.info.balance).toBe(v.pre.partial.accounts.get(0)!.info.balance);
    const bobAfter = await gpState.load('bob', E);
    expect(bobAfter.version).toBe(bobBefore.version);
    expect(bobAfter.accounts).toEqual(bobBefore.accounts);
  });

  it("writes nothing of another tenant's account when an accumulation's post-state names its id (service_id_taken)", async () => {
    const v = await splitEjectVector();
    const gpState = db!.repos.gpState;
    const pre = await gpState.load('alice', E);
    const forged = fromStfState(
      'alice',
      only(v.pre, () => true),
    );
    const bobs = forged.accounts.get(2)!;
    forged.accounts.set(2, { ...bobs, info: { ...bobs.info, balance: 1n } });
    const record = { outputRoot: new Uint8Array(32), outputs: [], statistics: [] };
    await expect(gpState.apply(pre, forged, record)).rejects.toMatchObject({ code: 'service_id_taken' });
    expect((await gpState.load('bob', E)).accounts.get(2)!.info.balance).toBe(v.pre.partial.accounts.get(2)!.info.balance);
    expect((await gpState.load('alice', E)).version).toBe(pre.version);
  });

  it('refuses to load a tenant state over the executor snapshot limits, running and writing nothing', async () => {
    const v = vector('process_one_immediate_report-1.json');
    const gpState = db!.repos.gpState;
    await gpState.replace(fromStfState('carol', v.pre));
    const before = await gpState.load('carol', E);
    // the service's code preimage alone is more than 1 byte
    const accumulator = new GpAccumulator({ gpState, sandbox: pool!, chain: 'tiny', product: { snapshot: { maxItems: 100, maxBytes: 1 }, storageQuota: BIG } });
    const run = accumulator.accumulate({ owner: 'carol', reports: v.reports, slot: v.slot, entropy: v.pre.entropy });
    await expect(run).rejects.toBeInstanceOf(GpStateLimitError);
    await expect(run).rejects.toMatchObject({ code: 'state_too_large' });
    expect((await gpState.load('carol', E)).version).toBe(before.version);
  });

  it("applies the storage quota to the guest's writes (FULL: the 4-byte key and 16-byte value stay unwritten) and keeps its log lines", async () => {
    // the vector's service 1729 writes one item of 20 bytes (key + value)
    const v = vector('process_one_immediate_report-1.json');
    const gpState = db!.repos.gpState;
    const snapshot = { maxItems: 1000, maxBytes: 1 << 30 };
    await gpState.replace(fromStfState('dave', v.pre));
    const tight = new GpAccumulator({ gpState, sandbox: pool!, chain: 'tiny', product: { snapshot, storageQuota: { maxBytes: 19, maxItems: 10 } } });
    const limited = await tight.accumulate({ owner: 'dave', reports: v.reports, slot: v.slot, entropy: v.pre.entropy });
    expect(limited.status).toBe('applied');
    expect((await gpState.load('dave', E)).accounts.get(1729)!.storage.size).toBe(0);
    expect(limited.logs.map((l) => l.service)).toEqual([1729]);
    expect(limited.logs[0]!.lines.length).toBeGreaterThan(0);

    await gpState.replace(fromStfState('dave', v.pre));
    const roomy = new GpAccumulator({ gpState, sandbox: pool!, chain: 'tiny', product: { snapshot, storageQuota: { maxBytes: 20, maxItems: 10 } } });
    await roomy.accumulate({ owner: 'dave', reports: v.reports, slot: v.slot, entropy: v.pre.entropy });
    expect((await gpState.load('dave', E)).accounts.get(1729)!.storage).toEqual(v.post.partial.accounts.get(1729)!.storage);
  });
});
