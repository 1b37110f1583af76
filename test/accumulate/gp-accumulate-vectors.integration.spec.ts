/**
 * The 30 accumulate STF vectors (JAM conformance vectors, GP 0.7.2, tiny chain spec; provenance in
 * test/fixtures/jam-vectors/stf/accumulate/SOURCE.md) through the product's GP accumulate path
 * (issue 9 item 4): each vector's pre-state is written to PostgreSQL by `GpStateRepository.replace`
 * (accounts with storage, preimages and requests, privileges, ready queue, history), its reports
 * run through `GpAccumulator` (state loaded from PostgreSQL, the STF in a sandbox executor process,
 * the post-state written back compare-and-set) with the vector's slot and entropy, and the state
 * read back from PostgreSQL is compared with the vector's post-state, output root and statistics.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { compareAccumulateVector, parseAccumulateVector, SandboxPool, TINY_ACCUMULATE_CONFIG, type AccumulateVectorResult } from '@jam/sandbox';
import { createMigratedDatabase, type MigratedTestDatabase } from '../support/database';
import { fromStfState, GpAccumulator, toStfState } from '../../apps/accumulate-worker/src/gp-accumulator';

const DIR = path.resolve(__dirname, '../fixtures/jam-vectors/stf/accumulate/tiny');
/** The vectors' accounts all belong to one tenant. */
const OWNER = 'vectors';
const files = readdirSync(DIR)
  .filter((f) => f.endsWith('.json'))
  .sort();
const results = new Map<string, AccumulateVectorResult>();

describe('accumulate STF vectors through the product GP accumulate path (PostgreSQL, executor processes)', () => {
  let db: MigratedTestDatabase | undefined;
  let pool: SandboxPool | undefined;
  let accumulator: GpAccumulator;

  beforeAll(async () => {
    db = await createMigratedDatabase('gpvectors', { poolSize: 2 });
    // the wall clock is a backstop only: a loaded machine must not turn a vector into a timeout
    pool = new SandboxPool({ size: 1, wallClockMs: 300_000 });
    await pool.start();
    accumulator = new GpAccumulator({ gpState: db.repos.gpState, sandbox: pool, chain: 'tiny' });
  });

  afterAll(async () => {
    const passed = [...results.values()].filter((r) => r.mismatches.length === 0).length;
    process.stdout.write(`accumulate vectors through PostgreSQL: ${passed}/${files.length} passed\n`);
    await pool?.close();
    await db?.drop();
  });

  it('has all 30 vectors', () => {
    expect(files).toHaveLength(30);
  });

  it.each(files)('%s: post-state read back from PostgreSQL as expected', async (file) => {
    const v = parseAccumulateVector(file, readFileSync(path.join(DIR, file), 'utf8'));
    const gpState = db!.repos.gpState;
    await gpState.replace(fromStfState(OWNER, v.pre));
    const applied = await accumulator.accumulate({ owner: OWNER, reports: v.reports, slot: v.slot, entropy: v.pre.entropy });
    expect(applied.status).toBe('applied');
    const stored = await gpState.load(OWNER, TINY_ACCUMULATE_CONFIG.epochLength);
    const last = await gpState.lastAccumulation(OWNER);
    const r = compareAccumulateVector(v, { state: toStfState(stored, stored.entropy), root: last.outputRoot, statistics: last.statistics });
    results.set(file, r);
    expect(r.mismatches).toEqual([]);
  });

  it('writes nothing when the state moved since it was loaded (compare-and-set on gp_chain_state.version)', async () => {
    const v = parseAccumulateVector('x', readFileSync(path.join(DIR, 'process_one_immediate_report-1.json'), 'utf8'));
    const gpState = db!.repos.gpState;
    await gpState.replace(fromStfState(OWNER, v.pre));
    const stale = await gpState.load(OWNER, TINY_ACCUMULATE_CONFIG.epochLength);
    await gpState.replace(fromStfState(OWNER, v.pre));
    const record = { outputRoot: new Uint8Array(32), outputs: [], statistics: [] };
    expect(await gpState.apply(stale, fromStfState(OWNER, v.post), record)).toBe('conflict');
    const now = await gpState.load(OWNER, TINY_ACCUMULATE_CONFIG.epochLength);
    expect(now.version).not.toBe(stale.version);
    // still the pre-state: the post-state of the vector was not written
    expect(compareAccumulateVector(v, { state: toStfState(now, now.entropy), root: new Uint8Array(32), statistics: [] }).mismatches).not.toEqual([]);
    expect(toStfState(now, now.entropy).partial.accounts).toEqual(v.pre.partial.accounts);
    expect(await gpState.apply(now, fromStfState(OWNER, v.post), record)).toBe('applied');
  });
});
