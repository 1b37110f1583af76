import { refineFailureCode } from './refine.processor';

describe('refineFailureCode', () => {
  it('is refine_timeout only when every attester that gave up was last stopped by the wall clock', () => {
    expect(refineFailureCode([{ lastKind: 'wall_clock' }, { lastKind: 'wall_clock' }])).toBe('refine_timeout');
    expect(refineFailureCode([{ lastKind: 'wall_clock' }, { lastKind: 'executor' }])).toBe('refine_sandbox_failure');
    expect(refineFailureCode([{ lastKind: 'executor' }])).toBe('refine_sandbox_failure');
    expect(refineFailureCode([])).toBe('refine_sandbox_failure');
  });
});
