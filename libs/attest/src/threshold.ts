/** Signers counted per distinct report hash of one package. */
export interface ReportTally {
  reportHash: string;
  signers: number;
}

/** What the attestation rules say about one package. */
export type Verdict =
  | { kind: 'pending' }
  | { kind: 'attested'; reportHash: string }
  | { kind: 'disputed'; reportHashes: string[] };

/**
 * The attestation rule of DESIGN.md section 6: a report is attested when it has at least
 * `threshold` distinct signers. If the package has conflicting reports, accumulate is blocked
 * (`disputed`) unless one report's signers are both >= threshold and a strict majority of the
 * `attesters` set (> n/2), in which case that report wins.
 */
export function decideVerdict(tallies: readonly ReportTally[], threshold: number, attesters: number): Verdict {
  const distinct = tallies.filter((t) => t.signers > 0);
  if (distinct.length === 0) return { kind: 'pending' };
  if (distinct.length === 1) {
    const only = distinct[0]!;
    return only.signers >= threshold ? { kind: 'attested', reportHash: only.reportHash } : { kind: 'pending' };
  }
  const majority = distinct.find((t) => t.signers >= threshold && t.signers * 2 > attesters);
  if (majority) return { kind: 'attested', reportHash: majority.reportHash };
  return { kind: 'disputed', reportHashes: distinct.map((t) => t.reportHash).sort() };
}
