import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { runPvmVector } from '@jam/sandbox';

// The 307 official PVM vectors (w3f jamtestvectors pvm v0.4; provenance in
// test/fixtures/jam-vectors/pvm/SOURCE.md) through the product's PVM machine, the code refine runs.
const DIR = path.resolve(__dirname, '../fixtures/jam-vectors/pvm/programs');
const files = readdirSync(DIR)
  .filter((f) => f.endsWith('.json'))
  .sort();

describe('PVM test vectors (GP 0.7.2 appendix A)', () => {
  it('has all 307 vectors: 191 panic, 107 halt, 9 page-fault', () => {
    expect(files).toHaveLength(307);
    const statuses = files.map((f) => runPvmVector(readFileSync(path.join(DIR, f), 'utf8')).expectedStatus);
    expect(statuses.filter((s) => s === 'panic')).toHaveLength(191);
    expect(statuses.filter((s) => s === 'halt')).toHaveLength(107);
    expect(statuses.filter((s) => s === 'page-fault')).toHaveLength(9);
  });

  it.each(files)('%s: status, pc, registers, gas, memory and page-fault address as expected', (file) => {
    const r = runPvmVector(readFileSync(path.join(DIR, file), 'utf8'));
    expect(r.mismatches).toEqual([]);
    expect(r.status).toBe(r.expectedStatus);
  });

  // the same vectors on the PVM-to-Wasm translator (libs/sandbox/src/pvm/pvm-wasm.translator.ts)
  it.each(files)('%s on the translator: status, pc, registers, gas, memory and page-fault address as expected', (file) => {
    const r = runPvmVector(readFileSync(path.join(DIR, file), 'utf8'), 'translator');
    expect(r.mismatches).toEqual([]);
    expect(r.status).toBe(r.expectedStatus);
  });
});
