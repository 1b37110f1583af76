import { refineFailureCode } from './refine.processor';

describe('refineFailureCode', () => {
  it('is refine_timeout only when every attester that gave up was last stopped by the wall clock', () => {
    expect(refineFailureCode([{ lastKind: 'wall_clock' }, { lastKind: 'wall_clock' }])).toBe('refine_timeout');
    expect(refineFailureCode([{ lastKind: 'wall_clock' }, { lastKind: 'executor' }])).toBe('refine_sandbox_failure');
    expect(refineFailureCode([{ lastKind: 'executor' }])).toBe('refine_sandbox_failure');
    expect(refineFailureCode([])).toBe('refine_sandbox_failure');
  });

  it('is refine_blob_unavailable only when every attester that gave up last could not read a blob', () => {
    expect(refineFailureCode([{ lastKind: 'blob' }, { lastKind: 'blob' }])).toBe('refine_blob_unavailable');
    expect(refineFailureCode([{ lastKind: 'blob' }, { lastKind: 'executor' }])).toBe('refine_sandbox_failure');
    expect(refineFailureCode([{ lastKind: 'blob' }, { lastKind: 'wall_clock' }])).toBe('refine_sandbox_failure');
  });
});
