import { decideVerdict, thresholdReachable, type ReportTally } from './threshold';

const A = '0xaa';
const B = '0xbb';
const C = '0xcc';
const t = (reportHash: string, signers: number): ReportTally => ({ reportHash, signers });

describe('decideVerdict (docs/architecture.md section 6)', () => {
  it.each([
    // [tallies, threshold, attesters, expected]
    ['no reports', [], 2, 3, { kind: 'pending' }],
    ['only zero-signer tallies', [t(A, 0), t(B, 0)], 2, 3, { kind: 'pending' }],
    ['one report below threshold', [t(A, 1)], 2, 3, { kind: 'pending' }],
    ['one report at threshold', [t(A, 2)], 2, 3, { kind: 'attested', reportHash: A }],
    ['one report above threshold', [t(A, 3)], 2, 3, { kind: 'attested', reportHash: A }],
    ['zero-signer tally is not a conflict', [t(A, 2), t(B, 0)], 2, 3, { kind: 'attested', reportHash: A }],
    ['n=3 t=2: 1 vs 1 conflict', [t(A, 1), t(B, 1)], 2, 3, { kind: 'disputed', reportHashes: [A, B] }],
    ['n=3 t=2: 2 vs 1, 2 is a strict majority of 3', [t(B, 1), t(A, 2)], 2, 3, { kind: 'attested', reportHash: A }],
    ['n=3 t=2: 1 vs 1 vs 1', [t(C, 1), t(A, 1), t(B, 1)], 2, 3, { kind: 'disputed', reportHashes: [A, B, C] }],
    ['n=4 t=2: 2 vs 2, threshold but no strict majority', [t(A, 2), t(B, 2)], 2, 4, { kind: 'disputed', reportHashes: [A, B] }],
    ['n=4 t=2: 3 vs 1', [t(A, 3), t(B, 1)], 2, 4, { kind: 'attested', reportHash: A }],
    ['n=5 t=4: 3 vs 2, majority but below threshold', [t(A, 3), t(B, 2)], 4, 5, { kind: 'disputed', reportHashes: [A, B] }],
    ['n=5 t=4: 4 vs 1', [t(B, 1), t(A, 4)], 4, 5, { kind: 'attested', reportHash: A }],
    ['n=1 t=1: single attester', [t(A, 1)], 1, 1, { kind: 'attested', reportHash: A }],
    // Both "win" only if an attester signed both (equivocation): never order-dependent.
    ['n=3 t=2: 2 vs 2 (equivocation)', [t(A, 2), t(B, 2)], 2, 3, { kind: 'disputed', reportHashes: [A, B] }],
    ['n=3 t=2: 2 vs 2 (equivocation), other order', [t(B, 2), t(A, 2)], 2, 3, { kind: 'disputed', reportHashes: [A, B] }],
  ] as const)('%s', (_name, tallies, threshold, attesters, expected) => {
    expect(decideVerdict(tallies, threshold, attesters)).toEqual(expected);
  });

  it('refuses nonsense parameters', () => {
    expect(() => decideVerdict([t(A, 1)], 0, 3)).toThrow(RangeError);
    expect(() => decideVerdict([t(A, 1)], 1.5, 3)).toThrow(RangeError);
    expect(() => decideVerdict([t(A, 1)], 1, 0)).toThrow(RangeError);
    expect(() => decideVerdict([t(A, -1)], 1, 3)).toThrow(RangeError);
  });
});

describe('thresholdReachable (refine gives up per attester)', () => {
  it.each([
    // [threshold, attesters, gaveUp, expected]
    [2, 3, 0, true],
    [2, 3, 1, true], // one sick attester: the other two can still attest
    [2, 3, 2, false],
    [2, 3, 3, false],
    [1, 1, 0, true],
    [1, 1, 1, false],
    [3, 3, 1, false], // t = n: any attester giving up ends it
    [4, 7, 3, true],
    [4, 7, 4, false],
  ])('t=%i n=%i, %i gave up: %s', (threshold, attesters, gaveUp, expected) => {
    expect(thresholdReachable(threshold, attesters, gaveUp)).toBe(expected);
  });

  it('refuses impossible arguments', () => {
    expect(() => thresholdReachable(0, 3, 0)).toThrow(RangeError);
    expect(() => thresholdReachable(2, 0, 0)).toThrow(RangeError);
    expect(() => thresholdReachable(2, 3, 4)).toThrow(RangeError);
    expect(() => thresholdReachable(2, 3, -1)).toThrow(RangeError);
    expect(() => thresholdReachable(2, 3, 1.5)).toThrow(RangeError);
  });
});
