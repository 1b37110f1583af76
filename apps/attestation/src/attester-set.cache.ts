import { fromHex } from '@jam/domain';
import type { AttesterRepository } from '@jam/persistence';

/** How long the attestation process trusts its copy of the attester set before reading it again (ms). */
export const ATTESTER_SET_TTL_MS = 1000;

/** An attester as the attestation processor uses it: index and raw 32-byte Ed25519 public key. */
export interface CachedAttester {
  index: number;
  publicKey: Uint8Array;
  /** The key as stored, `0x` + 64 hex digits. */
  publicKeyHex: string;
}

/**
 * The attester set (table `attester`) read at most once per {@link ATTESTER_SET_TTL_MS} instead of
 * on every attestation (issue 8: the whole table was read for every signature verified). Rows
 * change only when a refine worker registers a new attester or re-keys one (`AttesterRepository.upsert`),
 * so callers ask again with `fresh: true` before refusing on what the copy says: an index the copy
 * lacks, or a signature its key does not verify. A re-keyed attester's old key is thus trusted for at
 * most {@link ATTESTER_SET_TTL_MS} after the re-key commits.
 */
export class AttesterSetCache {
  private byIndex: Map<number, CachedAttester> | undefined;
  private loadedAt = 0;
  private loading: Promise<Map<number, CachedAttester>> | undefined;

  constructor(
    private readonly attesters: AttesterRepository,
    private readonly ttlMs: number = ATTESTER_SET_TTL_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * The attester at `index`, or undefined when the set (read now if `fresh` or the copy is older
   * than the TTL) has none. @throws database errors
   */
  async get(index: number, opts: { fresh?: boolean } = {}): Promise<CachedAttester | undefined> {
    const set = opts.fresh === true || this.byIndex === undefined || this.now() - this.loadedAt >= this.ttlMs ? await this.load() : this.byIndex;
    return set.get(index);
  }

  private load(): Promise<Map<number, CachedAttester>> {
    // concurrent jobs share one read
    this.loading ??= (async () => {
      try {
        const startedAt = this.now();
        const rows = await this.attesters.list();
        const set = new Map(rows.map((a) => [a.index, { index: a.index, publicKey: fromHex(a.publicKey, 32), publicKeyHex: a.publicKey }]));
        this.byIndex = set;
        this.loadedAt = startedAt;
        return set;
      } finally {
        this.loading = undefined;
      }
    })();
    return this.loading;
  }
}
