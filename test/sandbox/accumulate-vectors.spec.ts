import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { checkAccumulateVector, initAccumulateHashing, parseAccumulateVector, runAccumulateVector, type AccumulateVectorResult } from '@jam/sandbox';

// The 30 accumulate STF vectors (JAM conformance vectors, GP 0.7.2, tiny chain spec; provenance in
// test/fixtures/jam-vectors/stf/accumulate/SOURCE.md) through the GP accumulation (accumulate-stf.ts):
// the vector's accounts as the partial state, its reports as available reports, its slot and entropy
// as the context. Each vector runs the accumulate entry point of a real JAM test service on the PVM.
const DIR = path.resolve(__dirname, '../fixtures/jam-vectors/stf/accumulate/tiny');
const files = readdirSync(DIR)
  .filter((f) => f.endsWith('.json'))
  .sort();
const results = new Map<string, AccumulateVectorResult>();

describe('accumulate STF vectors (GP 0.7.2 section 12)', () => {
  beforeAll(async () => {
    await initAccumulateHashing();
  });

  afterAll(() => {
    const passed = [...results.values()].filter((r) => r.mismatches.length === 0).length;
    process.stdout.write(`accumulate vectors: ${passed}/${files.length} passed\n`);
  });

  it('has all 30 vectors', () => {
    expect(files).toHaveLength(30);
  });

  it.each(files)('%s: output root and post-state as expected', (file) => {
    const r = runAccumulateVector(file, readFileSync(path.join(DIR, file), 'utf8'));
    results.set(file, r);
    expect(r.mismatches).toEqual([]);
  });

  it('leaves the pre-state untouched: the same parsed vector passes twice (transfers, ejection, storage writes)', () => {
    const v = parseAccumulateVector('transfer_for_ejected_service-1', readFileSync(path.join(DIR, 'transfer_for_ejected_service-1.json'), 'utf8'));
    expect(checkAccumulateVector(v).mismatches).toEqual([]);
    expect(checkAccumulateVector(v).mismatches).toEqual([]);
    expect(v.pre.partial.accounts.has(2)).toBe(true);
  });
});
