import { DomainError } from '@jam/domain';
import type { DataSource } from 'typeorm';
import { bytesToHex, hashToBytes } from '../bytes-hex';
import type { PreimageEntity, PreimageStorageTier } from '../entities/preimage.entity';
import { queryOne } from '../sql-runner';

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
}

const COLUMNS = `hash, length, refcount, storage_tier AS "storageTier", uploaded_by AS "uploadedBy", created_at AS "createdAt"`;

function toRecord(row: PreimageEntity): PreimageRecord {
  return {
    hash: bytesToHex(row.hash),
    length: Number(row.length),
    refcount: row.refcount,
    storageTier: row.storageTier,
    uploadedBy: row.uploadedBy,
    createdAt: row.createdAt,
  };
}

/** Table `preimage`: metadata of content-addressed blobs. Hashes are `0x` hex in and out. */
export class PreimageRepository {
  constructor(private readonly ds: DataSource) {}

  /**
   * Records a preimage once; a second call with the same hash changes nothing (the first
   * uploader and tier stay).
   * @param input.length bytes, a safe integer >= 0
   * @returns `created: false` when the hash was already recorded.
   * @throws DomainError `invalid_hex` for a malformed hash.
   */
  async insertIfAbsent(input: {
    hash: string;
    length: number;
    storageTier: PreimageStorageTier;
    uploadedBy: string;
  }): Promise<{ created: boolean }> {
    const row = await queryOne<{ hash: Buffer }>(
      this.ds,
      `INSERT INTO preimage (hash, length, storage_tier, uploaded_by) VALUES ($1, $2, $3, $4)
       ON CONFLICT (hash) DO NOTHING RETURNING hash`,
      [hashToBytes(input.hash), input.length, input.storageTier, input.uploadedBy],
    );
    return { created: row !== null };
  }

  /**
   * Records `principal` as an uploader of a recorded preimage (idempotent). Every uploader may
   * read the preimage when authorization is on.
   * @returns `added: false` when the principal was already an uploader.
   * @throws DomainError `invalid_hex`; the database's foreign-key violation when the preimage is not recorded.
   */
  async addUploader(hash: string, principal: string): Promise<{ added: boolean }> {
    const row = await queryOne(
      this.ds,
      'INSERT INTO preimage_uploader (hash, principal) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING 1 AS ok',
      [hashToBytes(hash), principal],
    );
    return { added: row !== null };
  }

  /**
   * Whether `principal` may read the preimage under per-service authorization: it uploaded the
   * bytes, or it owns or is a delegate of a service whose code the preimage is.
   * False for an unknown hash (indistinguishable from "not yours").
   * @throws DomainError `invalid_hex`.
   */
  async isReadableBy(hash: string, principal: string): Promise<boolean> {
    const row = await queryOne(
      this.ds,
      `SELECT 1 AS ok WHERE EXISTS (SELECT 1 FROM preimage_uploader WHERE hash = $1 AND principal = $2)
          OR EXISTS (SELECT 1 FROM service WHERE code_hash = $1 AND (owner = $2 OR $2 = ANY (delegates)))`,
      [hashToBytes(hash), principal],
    );
    return row !== null;
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
    const row = await queryOne<{ refcount: number }>(
      this.ds,
      'UPDATE preimage SET refcount = refcount + $2 WHERE hash = $1 RETURNING refcount',
      [hashToBytes(hash), by],
    );
    if (!row) throw new DomainError('unknown_preimage', `preimage ${hash} is not stored`, { hash });
    return row.refcount;
  }
}
