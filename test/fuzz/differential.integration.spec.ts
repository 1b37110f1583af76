import fc from 'fast-check';
import { generateFuzzCases, runDifferential, type FuzzCaseSpec } from '../../bench/fuzz/differential.runner';

/**
 * Property: for random valid service modules (binaryen translate-to-fuzz, made service-valid by
 * bench/fuzz/fuzz-modules.mjs), the metered engine computes exactly what plain V8 computes:
 * same results or traps, same final memory, same logged values, repeatable gas.
 * Seeded and reproducible: JAM_FUZZ_SEED=<n> npx jest test/fuzz picks another run; a failure
 * names the run seed and each failing case's input seed and size. Modules are generated in one
 * batch (one child process), so fast-check draws the case list and does not shrink.
 * The long campaign is `npm run bench -- fuzz --cases N` (docs/performance.md).
 */
const RUN_SEED = Number(process.env['JAM_FUZZ_SEED'] ?? 20260301);
const CASES = 12;

describe('metered engine vs plain V8 on fuzzed modules', () => {
  it(`matches on ${CASES} random modules (run seed ${RUN_SEED})`, () => {
    const specs: FuzzCaseSpec[] = fc.sample(fc.record({ seed: fc.nat({ max: 0xffffffff }), size: fc.integer({ min: 256, max: 6144 }) }), {
      seed: RUN_SEED,
      numRuns: CASES,
    });
    const results = generateFuzzCases(specs).map(runDifferential);
    const failures = results.filter((r) => r.status === 'mismatch').map((r) => `seed ${r.spec.seed} size ${r.spec.size}: ${r.detail ?? ''}`);
    if (failures.length > 0) throw new Error(`run seed ${RUN_SEED}: ${failures.length} mismatching case(s):\n${failures.join('\n')}`);
    const compared = results.filter((r) => r.status === 'same');
    // the property must not hold vacuously: most cases must reach the comparison and call something
    expect(compared.length).toBeGreaterThanOrEqual(Math.ceil(CASES * 0.75));
    expect(compared.reduce((a, r) => a + r.calls, 0)).toBeGreaterThan(CASES);
  });
});
