/** Signers counted per distinct report hash of one package. */
export interface ReportTally {
  /** `0x` hex report hash. */
  reportHash: string;
  /** Distinct registered attesters with a valid signature on this report. */
  signers: number;
}

/** What the attestation rules say about one package. */
export type Verdict = { kind: 'pending' } | { kind: 'attested'; reportHash: string } | { kind: 'disputed'; reportHashes: string[] };

/**
 * The attestation rule of docs/architecture.md section 6 for one package, with `threshold` = t and
 * `attesters` = n:
 * - one report with signers >= t: `attested`; fewer: `pending`;
 * - conflicting reports (two or more hashes with signers > 0): `disputed` (accumulate blocked)
 *   unless exactly one report has signers >= t AND a strict majority of the attester set
 *   (2 * signers > n), in which case it wins. Two reports can both pass that test only if some
 *   attester signed both (equivocation); that stays `disputed` rather than depending on order.
 * `reportHashes` of a dispute are sorted. Zero-signer tallies are ignored.
 * @throws RangeError when t or n is not an integer >= 1, or a signer count is not an integer >= 0.
 */
export function decideVerdict(tallies: readonly ReportTally[], threshold: number, attesters: number): Verdict {
  if (!Number.isInteger(threshold) || threshold < 1) throw new RangeError(`threshold must be an integer >= 1, got ${threshold}`);
  if (!Number.isInteger(attesters) || attesters < 1) throw new RangeError(`attesters must be an integer >= 1, got ${attesters}`);
  for (const t of tallies) {
    if (!Number.isInteger(t.signers) || t.signers < 0) throw new RangeError(`signers of ${t.reportHash} must be an integer >= 0, got ${t.signers}`);
  }
  const distinct = tallies.filter((t) => t.signers > 0);
  if (distinct.length === 0) return { kind: 'pending' };
  if (distinct.length === 1) {
    const only = distinct[0]!;
    return only.signers >= threshold ? { kind: 'attested', reportHash: only.reportHash } : { kind: 'pending' };
  }
  const winners = distinct.filter((t) => t.signers >= threshold && t.signers * 2 > attesters);
  if (winners.length === 1) return { kind: 'attested', reportHash: winners[0]!.reportHash };
  return { kind: 'disputed', reportHashes: distinct.map((t) => t.reportHash).sort() };
}

/**
 * Whether a package can still be attested when `gaveUp` distinct attesters of the `attesters`
 * (n) will never sign it (they gave up after max_sandbox_failures in refine and have not signed):
 * at least `threshold` (t) attesters must remain. When false the package can only stay pending
 * forever, so refine fails it. Conflicts among the remaining signers are `decideVerdict`'s business.
 * @throws RangeError when t or n is not an integer >= 1, or `gaveUp` is not an integer in 0..n.
 */
export function thresholdReachable(threshold: number, attesters: number, gaveUp: number): boolean {
  if (!Number.isInteger(threshold) || threshold < 1) throw new RangeError(`threshold must be an integer >= 1, got ${threshold}`);
  if (!Number.isInteger(attesters) || attesters < 1) throw new RangeError(`attesters must be an integer >= 1, got ${attesters}`);
  if (!Number.isInteger(gaveUp) || gaveUp < 0 || gaveUp > attesters) throw new RangeError(`gaveUp must be an integer in 0..${attesters}, got ${gaveUp}`);
  return attesters - gaveUp >= threshold;
}
