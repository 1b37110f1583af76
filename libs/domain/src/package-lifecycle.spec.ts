import {
  ACCUMULATE_PHASE_STATUSES,
  FINISHED_PACKAGE_STATUSES,
  IN_FLIGHT_PACKAGE_STATUSES,
  PACKAGE_STATUSES,
  PACKAGE_FAILURE_CODES,
  PACKAGE_RETRY_TRANSITIONS,
  PACKAGE_TRANSITIONS,
  REFINE_PHASE_STATUSES,
  RETRYABLE_FAILURE_CODES,
  retryPhaseOf,
  TERMINAL_PACKAGE_STATUSES,
  canTransitionPackage,
  isFinishedPackageStatus,
  isPackageStatus,
  isTerminalPackageStatus,
  type PackageStatus,
} from './package-lifecycle';

const edges = (): string[] =>
  Object.values(PACKAGE_TRANSITIONS)
    .flatMap((t) => t.from.map((f) => `${f} -> ${t.to}`))
    .sort();

describe('package lifecycle', () => {
  it('allows exactly the moves the pipeline makes', () => {
    // refine worker, attestation, accumulate worker, admin dispute resolution (docs/architecture.md "Package lifecycle")
    expect([...new Set(edges())]).toEqual(
      [
        'pending -> refining',
        'pending -> attesting',
        'refining -> attesting',
        'pending -> attested',
        'refining -> attested',
        'attesting -> attested',
        'disputed -> attested',
        'pending -> disputed',
        'refining -> disputed',
        'attesting -> disputed',
        'pending -> failed',
        'refining -> failed',
        'attesting -> failed',
        'attested -> accumulating',
        'attested -> accumulated',
        'accumulating -> accumulated',
        'attested -> failed',
        'accumulating -> failed',
        'disputed -> failed',
      ].sort(),
    );
  });

  it('walks the happy path in status order and never leaves a finished package', () => {
    const happy: PackageStatus[] = ['pending', 'refining', 'attesting', 'attested', 'accumulating', 'accumulated'];
    for (let i = 1; i < happy.length; i++) expect(canTransitionPackage(happy[i - 1]!, happy[i]!)).toBe(true);
    expect(PACKAGE_STATUSES.slice(0, 6)).toEqual(happy);
    for (const done of FINISHED_PACKAGE_STATUSES) for (const to of PACKAGE_STATUSES) expect(canTransitionPackage(done, to)).toBe(false);
    expect(canTransitionPackage('accumulated', 'pending')).toBe(false);
    expect(canTransitionPackage('accumulating', 'refining')).toBe(false);
  });

  it('reaches a finished status from every other status', () => {
    const reach = (s: PackageStatus, seen = new Set<PackageStatus>()): Set<PackageStatus> => {
      seen.add(s);
      for (const to of PACKAGE_STATUSES) if (!seen.has(to) && canTransitionPackage(s, to)) reach(to, seen);
      return seen;
    };
    for (const s of PACKAGE_STATUSES) expect([...reach(s)].some(isFinishedPackageStatus)).toBe(true);
  });

  it('keeps the status sets consistent: in flight = not terminal = refine phase + accumulate phase', () => {
    expect(PACKAGE_STATUSES.filter((s) => !isTerminalPackageStatus(s))).toEqual([...IN_FLIGHT_PACKAGE_STATUSES]);
    expect([...REFINE_PHASE_STATUSES, ...ACCUMULATE_PHASE_STATUSES]).toEqual([...IN_FLIGHT_PACKAGE_STATUSES]);
    expect(FINISHED_PACKAGE_STATUSES.every((s) => (TERMINAL_PACKAGE_STATUSES as readonly string[]).includes(s))).toBe(true);
    expect(isTerminalPackageStatus('disputed')).toBe(true);
    expect(isFinishedPackageStatus('disputed')).toBe(false);
    expect(isPackageStatus('accumulated')).toBe(true);
    expect(isPackageStatus('done')).toBe(false);
  });

  it('lets a retry leave only failed, to the first status of the phase that failed, and only for host verdicts', () => {
    for (const [phase, t] of Object.entries(PACKAGE_RETRY_TRANSITIONS)) {
      expect(t.from).toEqual(['failed']);
      expect(t.to).toBe(phase === 'refine' ? REFINE_PHASE_STATUSES[0] : ACCUMULATE_PHASE_STATUSES[0]);
    }
    expect(Object.keys(RETRYABLE_FAILURE_CODES).every((c) => (PACKAGE_FAILURE_CODES as readonly string[]).includes(c))).toBe(true);
    expect(PACKAGE_FAILURE_CODES.filter((c) => retryPhaseOf(c) === undefined)).toEqual(['conflicting_reports', 'dispute_rejected']);
    expect(retryPhaseOf('refine_timeout')).toBe('refine');
    expect(retryPhaseOf('storage_over_limit')).toBe('accumulate');
    expect(retryPhaseOf(null)).toBeUndefined();
    expect(retryPhaseOf('__proto__')).toBeUndefined();
    expect(retryPhaseOf('panic')).toBeUndefined();
  });
});
