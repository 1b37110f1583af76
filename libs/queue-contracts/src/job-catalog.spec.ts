import {
  ACCUMULATE_REPORT_JOB,
  BLOB_HYGIENE_JOB,
  DEFAULT_JOB_OPTIONS,
  JOB_CATALOG,
  JOB_NAMES,
  PREIMAGE_GC_JOB,
  EXPRESS_REFINE_GAS,
  RECONCILE_JOB,
  REFINE_PACKAGE_EXPRESS_JOB,
  REFINE_PACKAGE_JOB,
  RETENTION_JOB,
  VERIFY_ATTESTATION_JOB,
  jobLocation,
  queueKind,
  refinePackageJobFor,
} from './index';

const H1 = `0x${'ab'.repeat(32)}`;
const H2 = `0x${'01'.repeat(32)}`;
const SIG = `0x${'cd'.repeat(64)}`;

describe('job catalog', () => {
  it('has one entry per job name, on a queue of its kind, with that kind’s retry policy', () => {
    expect(Object.keys(JOB_CATALOG).sort()).toEqual([...JOB_NAMES].sort());
    for (const name of JOB_NAMES) {
      const entry = JOB_CATALOG[name];
      expect(entry.name).toBe(name);
      expect(entry.retry).toBe(DEFAULT_JOB_OPTIONS[entry.kind]);
    }
  });

  // WARNING: these strings are persisted in Redis with every queued job; the expected values are
  // the formats the hand-built enqueue calls produced before the catalog existed.
  it('builds the same queue names and job ids as before, byte for byte', () => {
    expect(jobLocation(REFINE_PACKAGE_JOB, { package_hash: H1, attester_index: 2 })).toEqual({ queue: 'refine-a2', jobId: `refine-${H1}-a2` });
    expect(jobLocation(VERIFY_ATTESTATION_JOB, { report_hash: H1, package_hash: H2, attester_index: 0, signature: SIG })).toEqual({
      queue: 'attestation',
      jobId: `attest-${H1}-a0`,
    });
    expect(jobLocation(ACCUMULATE_REPORT_JOB, { report_hash: H2, package_hash: H1 })).toEqual({ queue: 'accumulate', jobId: `accumulate-${H2}` });
    expect(jobLocation(RECONCILE_JOB, {}, { bucket: 42 })).toEqual({ queue: 'janitor', jobId: 'reconcile-42' });
    expect(jobLocation(RETENTION_JOB, {}, { bucket: 7 }).jobId).toBe('retention-7');
    expect(jobLocation(PREIMAGE_GC_JOB, {}, { bucket: 7 }).jobId).toBe('preimage-gc-7');
    expect(jobLocation(BLOB_HYGIENE_JOB, {}, { bucket: 7 }).jobId).toBe('blob-hygiene-7');
    for (const name of JOB_NAMES) {
      const entry = JOB_CATALOG[name];
      expect(queueKind(entry.kind === 'refine' ? 'refine-a0' : entry.kind)).toBe(entry.kind);
    }
  });

  it("puts a short package's refine job on the attester's express queue, with the same name, id and retry policy", () => {
    const payload = { package_hash: H1, attester_index: 2 };
    expect(jobLocation(REFINE_PACKAGE_EXPRESS_JOB, payload)).toEqual({ queue: 'refine-express-a2', jobId: `refine-${H1}-a2` });
    expect(queueKind('refine-express-a2')).toBe('refine');
    expect(REFINE_PACKAGE_EXPRESS_JOB).toMatchObject({ name: REFINE_PACKAGE_JOB.name, kind: 'refine', retry: REFINE_PACKAGE_JOB.retry });
    // declared refine gas up to G_A (10M) is short; one gas more is long
    expect(EXPRESS_REFINE_GAS).toBe(10_000_000n);
    expect(refinePackageJobFor(0n)).toBe(REFINE_PACKAGE_EXPRESS_JOB);
    expect(refinePackageJobFor(EXPRESS_REFINE_GAS)).toBe(REFINE_PACKAGE_EXPRESS_JOB);
    expect(refinePackageJobFor(EXPRESS_REFINE_GAS + 1n)).toBe(REFINE_PACKAGE_JOB);
    expect(refinePackageJobFor(5_000_000_000n)).toBe(REFINE_PACKAGE_JOB);
  });

  it('refuses non-canonical hashes, bad attester indexes and bad buckets instead of building an id', () => {
    expect(() => jobLocation(REFINE_PACKAGE_JOB, { package_hash: H1.toUpperCase().replace('0X', '0x'), attester_index: 0 })).toThrow(RangeError);
    expect(() => jobLocation(REFINE_PACKAGE_JOB, { package_hash: H1, attester_index: -1 })).toThrow(RangeError);
    expect(() => jobLocation(RECONCILE_JOB, {}, { bucket: 1.5 })).toThrow(RangeError);
  });

  it('ties each job name to its payload type at compile time', () => {
    // @ts-expect-error: an accumulate payload is not a refine payload
    expect(() => jobLocation(REFINE_PACKAGE_JOB, { report_hash: H1, package_hash: H2 })).toThrow();
    // @ts-expect-error: a janitor job id needs its schedule bucket
    expect(() => jobLocation(RECONCILE_JOB, {})).toThrow(TypeError);
  });
});
