import { DomainError } from '@jam/domain';
import type { DataSource } from 'typeorm';
import { bytesToHex, hashToBytes } from '../bytes-hex';
import type { PreimageEntity, PreimageStorageTier } from '../entities/preimage.entity';
import { checkLimit, queryOne, queryRows } from '../sql-runner';

/** Metadata of one stored preimage, as the API shows it (`GET /jam/preimages/{hash}/meta`). */
export interface PreimageRecord {
  /** `0x` + 64 lowercase hex digits. */
  hash: string;
  /** bytes */
  length: number;
  refcount: number;
  storageTier: PreimageStorageTier;
  uploadedBy: string;
  createdAt: Date;
  /** When a verified download found the stored bytes corrupt; null = never, or repaired by a later PUT. */
  corruptAt: Date | null;
}

const COLUMNS = `hash, length, refcount, storage_tier AS "storageTier", uploaded_by AS "uploadedBy", created_at AS "createdAt", corrupt_at AS "corruptAt"`;

function toRecord(row: PreimageEntity): PreimageRecord {
  return {
    hash: bytesToHex(row.hash),
    length: Number(row.length),
    refcount: row.refcount,
    storageTier: row.storageTier,
    uploadedBy: row.uploadedBy,
    createdAt: row.createdAt,
    corruptAt: row.corruptAt ?? null,
  };
}

/** Table `preimage`: metadata of content-addressed blobs. Hashes are `0x` hex in and out. */
export class PreimageRepository {
  constructor(private readonly ds: DataSource) {}

  /**
   * Records a preimage once; a second call with the same hash keeps the first uploader and tier
   * but touches `last_uploaded_at`, so the GC grace period restarts from the latest upload.
   * Call it after the blob store acknowledged the bytes (see {@link deleteIfUnreferenced} for why
   * that order is safe against the GC).
   * @param input.length bytes, a safe integer >= 0
   * @returns `created: false` when the hash was already recorded.
   * @throws DomainError `invalid_hex` for a malformed hash.
   */
  async insertIfAbsent(input: { hash: string; length: number; storageTier: PreimageStorageTier; uploadedBy: string }): Promise<{ created: boolean }> {
    // ON CONFLICT waits for a GC transaction holding the row and, when that transaction deleted
    // it, inserts a fresh row. DO UPDATE (not DO NOTHING) so a repeated upload restarts the grace
    // period. xmax = 0 only on a freshly inserted row version.
    const row = await queryOne<{ created: boolean }>(
      this.ds,
      `INSERT INTO preimage (hash, length, storage_tier, uploaded_by) VALUES ($1, $2, $3, $4)
       ON CONFLICT (hash) DO UPDATE SET last_uploaded_at = now() RETURNING (xmax = 0) AS created`,
      [hashToBytes(input.hash), input.length, input.storageTier, input.uploadedBy],
    );
    return { created: row?.created === true };
  }

  /**
   * Records `principal` as an uploader of a recorded preimage (idempotent). Every uploader may
   * read the preimage when authorization is on.
   * @returns `added: false` when the principal was already an uploader.
   * @throws DomainError `invalid_hex`; the database's foreign-key violation when the preimage is not recorded.
   */
  async addUploader(hash: string, principal: string): Promise<{ added: boolean }> {
    const row = await queryOne(this.ds, 'INSERT INTO preimage_uploader (hash, principal) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING 1 AS ok', [
      hashToBytes(hash),
      principal,
    ]);
    return { added: row !== null };
  }

  /**
   * Whether `principal` may read the preimage under per-service authorization (issue 4: readable
   * by its uploaders and by principals of services that use it): it uploaded the bytes, or it owns
   * or is a delegate of a service that uses the preimage, as its code or as an extrinsic of one of
   * its stored work packages (`work_package_preimage`; ends when retention deletes the package).
   * Safe because the gateway accepts a package only if its submitter may read every extrinsic.
   * False for an unknown hash (indistinguishable from "not yours").
   * @throws DomainError `invalid_hex`.
   */
  async isReadableBy(hash: string, principal: string): Promise<boolean> {
    const row = await queryOne(
      this.ds,
      `SELECT 1 AS ok WHERE EXISTS (SELECT 1 FROM preimage_uploader WHERE hash = $1 AND principal = $2)
          OR EXISTS (SELECT 1 FROM service WHERE code_hash = $1 AND (owner = $2 OR $2 = ANY (delegates)))
          OR EXISTS (SELECT 1 FROM work_package_preimage r
                       JOIN work_package p ON p.hash = r.package_hash
                       JOIN service s ON s.id = ANY (p.service_ids)
                      WHERE r.preimage_hash = $1 AND (s.owner = $2 OR $2 = ANY (s.delegates)))`,
      [hashToBytes(hash), principal],
    );
    return row !== null;
  }

  /**
   * Bytes of preimages `principal` has uploaded: each preimage it is an uploader of counts with
   * its whole length, shared or not (the `max_stored_preimage_bytes` quota). Preimages removed by
   * the GC no longer count (their uploader rows go with them).
   */
  async storedBytesOf(principal: string): Promise<number> {
    const row = await queryOne<{ total: string }>(
      this.ds,
      'SELECT COALESCE(SUM(p.length), 0)::text AS total FROM preimage_uploader u JOIN preimage p ON p.hash = u.hash WHERE u.principal = $1',
      [principal],
    );
    return Number(row?.total ?? 0);
  }

  /** Whether `principal` is recorded as an uploader of the preimage. @throws DomainError `invalid_hex`. */
  async isUploader(hash: string, principal: string): Promise<boolean> {
    return (await queryOne(this.ds, 'SELECT 1 AS ok FROM preimage_uploader WHERE hash = $1 AND principal = $2', [hashToBytes(hash), principal])) !== null;
  }

  /**
   * Marks the preimage's stored bytes as corrupt (a verified download found a wrong hash or
   * length); keeps the first time until {@link clearCorrupt}. No-op for an unknown hash.
   * @returns true when the mark was newly set.
   */
  async markCorrupt(hash: string): Promise<boolean> {
    return (
      (await queryOne(this.ds, 'UPDATE preimage SET corrupt_at = now() WHERE hash = $1 AND corrupt_at IS NULL RETURNING 1 AS ok', [hashToBytes(hash)])) !== null
    );
  }

  /** Clears the corrupt mark after a PUT stored verified bytes again. @returns true when a mark was cleared. */
  async clearCorrupt(hash: string): Promise<boolean> {
    return (
      (await queryOne(this.ds, 'UPDATE preimage SET corrupt_at = NULL WHERE hash = $1 AND corrupt_at IS NOT NULL RETURNING 1 AS ok', [hashToBytes(hash)])) !==
      null
    );
  }

  /** @returns the preimage's metadata, or null if unknown. @throws DomainError `invalid_hex`. */
  async get(hash: string): Promise<PreimageRecord | null> {
    const row = await queryOne<PreimageEntity>(this.ds, `SELECT ${COLUMNS} FROM preimage WHERE hash = $1`, [hashToBytes(hash)]);
    return row && toRecord(row);
  }

  /** @throws DomainError `invalid_hex`. */
  async exists(hash: string): Promise<boolean> {
    const row = await queryOne(this.ds, 'SELECT 1 FROM preimage WHERE hash = $1', [hashToBytes(hash)]);
    return row !== null;
  }

  /**
   * Adds `by` (negative to release references) to the refcount atomically.
   * @returns the new refcount.
   * @throws DomainError `unknown_preimage` when the hash is not recorded; the database's
   *   check violation when the count would drop below 0.
   */
  async incrementRefcount(hash: string, by = 1): Promise<number> {
    const row = await queryOne<{ refcount: number }>(this.ds, 'UPDATE preimage SET refcount = refcount + $2 WHERE hash = $1 RETURNING refcount', [
      hashToBytes(hash),
      by,
    ]);
    if (!row) throw new DomainError('unknown_preimage', `preimage ${hash} is not stored`, { hash });
    return row.refcount;
  }

  /**
   * GC candidates, oldest upload first: refcount 0, no service uses the hash as code, no stored
   * package references it as an extrinsic, and not uploaded within `graceMs`. A hint only:
   * {@link deleteIfUnreferenced} re-checks every condition under a row lock.
   * @param graceMs ms since the last upload
   * @throws RangeError for a limit outside 1..10000.
   */
  async findUnreferenced(graceMs: number, limit: number): Promise<string[]> {
    checkLimit(limit, PREIMAGE_GC_MAX_BATCH);
    const rows = await queryRows<{ hash: Buffer }>(
      this.ds,
      `SELECT p.hash FROM preimage p
       WHERE p.refcount = 0 AND p.last_uploaded_at < now() - $1 * interval '1 millisecond'
         AND NOT EXISTS (SELECT 1 FROM service s WHERE s.code_hash = p.hash)
         AND NOT EXISTS (SELECT 1 FROM work_package_preimage r WHERE r.preimage_hash = p.hash)
       ORDER BY p.last_uploaded_at LIMIT $2`,
      [graceMs, limit],
    );
    return rows.map((r) => bytesToHex(r.hash));
  }

  /**
   * Deletes the preimage's rows (`preimage_uploader`, `preimage`) if it is still unreferenced,
   * in one transaction. The caller deletes the blob AFTER this commits (a crash in between leaves
   * an orphan blob for the orphan sweep, never a row without its blob).
   *
   * Why a racing upload or registration cannot lose an acknowledged preimage:
   * - the row is locked `FOR UPDATE` first and every condition is re-checked by a statement that
   *   starts after the lock is granted (READ COMMITTED: it sees whatever committed before);
   * - registration inserts `service` (its FK takes FOR KEY SHARE on this row) and package
   *   submission inserts `work_package_preimage` (same FK lock). Either it committed before our
   *   lock, and the re-check sees the reference and keeps the row; or it waits for our commit and
   *   then fails its FK check (422 unknown_preimage: nothing was acknowledged);
   * - an upload's {@link insertIfAbsent} either committed before our lock (the re-check sees the
   *   fresh `last_uploaded_at`) or waits and then re-inserts the row. Its blob survives because
   *   the blob store's GC delete keeps any blob written within the grace period
   *   (`FilesystemBlobStore.deleteUnlessFresh`), and the upload wrote or refreshed the blob before
   *   calling insertIfAbsent.
   * @param graceMs ms since the last upload, as for {@link findUnreferenced}
   * @returns true when this call deleted the rows.
   * @throws DomainError `invalid_hex`; database errors (rolled back).
   */
  async deleteIfUnreferenced(hash: string, graceMs: number): Promise<boolean> {
    const key = hashToBytes(hash);
    return this.ds.transaction(async (tx) => {
      const locked = await queryOne(tx, 'SELECT 1 AS ok FROM preimage WHERE hash = $1 FOR UPDATE', [key]);
      if (!locked) return false;
      const still = await queryOne(
        tx,
        `SELECT 1 AS ok FROM preimage p
         WHERE p.hash = $1 AND p.refcount = 0 AND p.last_uploaded_at < now() - $2 * interval '1 millisecond'
           AND NOT EXISTS (SELECT 1 FROM service s WHERE s.code_hash = p.hash)
           AND NOT EXISTS (SELECT 1 FROM work_package_preimage r WHERE r.preimage_hash = p.hash)`,
        [key, graceMs],
      );
      if (!still) return false;
      await queryOne(tx, 'DELETE FROM preimage_uploader WHERE hash = $1', [key]);
      await queryOne(tx, 'DELETE FROM preimage WHERE hash = $1', [key]);
      return true;
    });
  }

  /**
   * Records where a preimage's bytes live now (the S3 migrator, after the upload was verified).
   * @returns false when the hash has no row (deleted meanwhile). @throws DomainError `invalid_hex`.
   */
  async setStorageTier(hash: string, tier: PreimageStorageTier): Promise<boolean> {
    const row = await queryOne(this.ds, 'UPDATE preimage SET storage_tier = $2 WHERE hash = $1 RETURNING 1 AS ok', [hashToBytes(hash), tier]);
    return row !== null;
  }

  /** Which of `hashes` have a preimage row (the orphan-blob sweep keeps those). @throws DomainError `invalid_hex`. */
  async existing(hashes: readonly string[]): Promise<Set<string>> {
    if (hashes.length === 0) return new Set();
    const rows = await queryRows<{ hash: Buffer }>(this.ds, 'SELECT hash FROM preimage WHERE hash = ANY($1::bytea[])', [hashes.map((h) => hashToBytes(h))]);
    return new Set(rows.map((r) => bytesToHex(r.hash)));
  }
}

/** Largest batch {@link PreimageRepository.findUnreferenced} returns. */
export const PREIMAGE_GC_MAX_BATCH = 10_000;
