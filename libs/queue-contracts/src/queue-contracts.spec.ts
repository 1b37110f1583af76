import {
  ACCUMULATE_QUEUE,
  ATTESTATION_QUEUE,
  JANITOR_QUEUE,
  MAX_JOB_PRIORITY,
  MalformedJobError,
  PACKAGE_PRIORITY_CAP,
  PRIORITY_GAS_UNIT,
  REFINE_PACKAGE_V1,
  VERIFY_ATTESTATION_V1,
  RECONCILE_V1,
  accumulateJobId,
  assertJobPriority,
  attestationJobId,
  backoffDelayMs,
  defaultJobOptions,
  parseJob,
  parseJobPayload,
  packageQueuePriority,
  queueKind,
  refineJobId,
  refineExpressQueueName,
  refineQueueName,
  refineQueueNames,
} from './index';

const H1 = `0x${'ab'.repeat(32)}`;
const H2 = `0x${'01'.repeat(32)}`;
const SIG = `0x${'cd'.repeat(64)}`;

describe('queue names', () => {
  it('names one refine queue per attester and rejects bad indexes', () => {
    expect(refineQueueName(0)).toBe('refine-a0');
    expect(refineQueueName(12)).toBe('refine-a12');
    expect(() => refineQueueName(-1)).toThrow(RangeError);
    expect(() => refineQueueName(1.5)).toThrow(RangeError);
    expect(refineExpressQueueName(12)).toBe('refine-express-a12');
    expect(() => refineExpressQueueName(-1)).toThrow(RangeError);
    expect(refineQueueNames(3)).toEqual(['refine-a3', 'refine-express-a3']);
    for (const bad of ['refine-express-a', 'refine-express-a01', 'refine-expressa1', 'refine-x-a1']) expect(queueKind(bad)).toBeUndefined();
    expect([ATTESTATION_QUEUE, ACCUMULATE_QUEUE, JANITOR_QUEUE]).toEqual(['attestation', 'accumulate', 'janitor']);
  });
});

describe('job ids', () => {
  it('are deterministic, colon-free and reject non-canonical hashes', () => {
    expect(refineJobId(H1, 3)).toBe(`refine-${H1}-a3`);
    expect(attestationJobId(H1, 0)).toBe(`attest-${H1}-a0`);
    expect(accumulateJobId(H2)).toBe(`accumulate-${H2}`);
    for (const id of [refineJobId(H1, 3), attestationJobId(H1, 0), accumulateJobId(H2)]) expect(id).not.toContain(':');
    expect(() => refineJobId(H1.toUpperCase().replace('0X', '0x'), 0)).toThrow(RangeError);
    expect(() => accumulateJobId('0x1234')).toThrow(RangeError);
  });
});

describe('parseJobPayload', () => {
  it('accepts valid payloads', () => {
    expect(parseJobPayload(REFINE_PACKAGE_V1, { package_hash: H1, attester_index: 2 })).toEqual({ package_hash: H1, attester_index: 2 });
    expect(parseJobPayload(RECONCILE_V1, {})).toEqual({});
    const job = parseJob(VERIFY_ATTESTATION_V1, { report_hash: H1, package_hash: H2, attester_index: 0, signature: SIG });
    expect(job.name).toBe(VERIFY_ATTESTATION_V1);
  });

  it('throws a final MalformedJobError with the path of the bad field', () => {
    let err: unknown;
    try {
      parseJobPayload(VERIFY_ATTESTATION_V1, { report_hash: H1, package_hash: H2, attester_index: 0, signature: '0xdead' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(MalformedJobError);
    const m = err as MalformedJobError;
    expect(m.path).toEqual(['signature']);
    expect(m.final).toBe(true);
    expect(m.code).toBe('malformed_job');
    expect(m.message).toContain('payload.signature');
  });

  it('rejects unknown names, unknown keys, blobs and non-objects', () => {
    expect(() => parseJobPayload('refine-package.v0', {})).toThrow(MalformedJobError);
    expect(() => parseJobPayload(RECONCILE_V1, { blob: 'x' })).toThrow(MalformedJobError);
    expect(() => parseJobPayload(REFINE_PACKAGE_V1, { package_hash: H1, attester_index: 1, code: 'AAAA' })).toThrow(MalformedJobError);
    expect(() => parseJobPayload(REFINE_PACKAGE_V1, null)).toThrow(MalformedJobError);
    expect(() => parseJobPayload(REFINE_PACKAGE_V1, { package_hash: H1, attester_index: -1 })).toThrow(/attester_index/);
  });
});

describe('default job options', () => {
  it('retry with exponential backoff and remove completed jobs', () => {
    for (const q of [refineQueueName(0), ATTESTATION_QUEUE, ACCUMULATE_QUEUE, JANITOR_QUEUE]) {
      const o = defaultJobOptions(q);
      expect(o.attempts).toBeGreaterThan(1);
      expect(o.backoff.type).toBe('exponential');
      expect(o.removeOnComplete).toBe(true);
      expect(o.removeOnFail.age).toBeGreaterThan(0);
    }
    expect(() => defaultJobOptions('refine')).toThrow(RangeError);
    const o = defaultJobOptions(ACCUMULATE_QUEUE);
    expect([1, 2, 3].map((n) => backoffDelayMs(o, n))).toEqual([1000, 2000, 4000]);
  });
});

describe('package queue priority (docs/fairness.md)', () => {
  it("is 1 plus the submitter's in-flight refine gas in PRIORITY_GAS_UNIT levels, so small packages barely move it and heavy ones do", () => {
    expect(packageQueuePriority(0n)).toBe(1);
    // twenty word-count-sized packages (1e7 gas each) in flight: still ahead of one heavy package
    expect(packageQueuePriority(20n * 10_000_000n)).toBe(3);
    expect(packageQueuePriority(PRIORITY_GAS_UNIT - 1n)).toBe(1);
    expect(packageQueuePriority(PRIORITY_GAS_UNIT)).toBe(2);
    expect(packageQueuePriority(4_000_000_000n)).toBe(41);
  });

  it('puts every flood at the cap, where its packages stay FIFO, and refuses negative gas', () => {
    expect(packageQueuePriority(BigInt(PACKAGE_PRIORITY_CAP - 1) * PRIORITY_GAS_UNIT)).toBe(PACKAGE_PRIORITY_CAP);
    expect(packageQueuePriority(10n ** 30n)).toBe(PACKAGE_PRIORITY_CAP);
    expect(() => packageQueuePriority(-1n)).toThrow(RangeError);
    expect(() => assertJobPriority(PACKAGE_PRIORITY_CAP)).not.toThrow();
  });

  it("accepts job priorities 1..MAX_JOB_PRIORITY (BullMQ 6.7's range) only", () => {
    expect(() => assertJobPriority(1)).not.toThrow();
    expect(() => assertJobPriority(MAX_JOB_PRIORITY)).not.toThrow();
    for (const bad of [0, -3, 1.5, MAX_JOB_PRIORITY + 1]) expect(() => assertJobPriority(bad)).toThrow(RangeError);
  });
});
