import { DomainError } from '@jam/domain';
import type { DataSource } from 'typeorm';
import { bytesToHex, hexToBytes } from '../bytes-hex';
import type { AttesterEntity } from '../entities/attester.entity';
import { isUniqueViolation, queryOne, queryRows } from '../sql-runner';

/** A registered attester. */
export interface AttesterRecord {
  index: number;
  /** Ed25519 public key, `0x` + 64 lowercase hex digits. */
  publicKey: string;
  createdAt: Date;
}

const COLUMNS = `"index", public_key AS "publicKey", created_at AS "createdAt"`;

function toRecord(row: AttesterEntity): AttesterRecord {
  return { index: row.index, publicKey: bytesToHex(row.publicKey), createdAt: row.createdAt };
}

/** Table `attester`: the attester set (index -> Ed25519 key). */
export class AttesterRepository {
  constructor(private readonly ds: DataSource) {}

  /**
   * Registers or re-keys the attester at `index` (an integer >= 0).
   * @throws DomainError `invalid_hex` for a key that is not 32 bytes of hex; DomainError
   *   `conflict` when another index already holds this key.
   */
  async upsert(index: number, publicKeyHex: string): Promise<AttesterRecord> {
    try {
      const row = await queryOne<AttesterEntity>(
        this.ds,
        `INSERT INTO attester ("index", public_key) VALUES ($1, $2)
         ON CONFLICT ("index") DO UPDATE SET public_key = EXCLUDED.public_key RETURNING ${COLUMNS}`,
        [index, hexToBytes(publicKeyHex, 'publicKey', 32)],
      );
      if (!row) throw new Error('INSERT ... RETURNING returned no row');
      return toRecord(row);
    } catch (err) {
      if (isUniqueViolation(err)) throw new DomainError('conflict', 'public key already registered for another attester index', { index });
      throw err;
    }
  }

  /** Every attester in index order. */
  async list(): Promise<AttesterRecord[]> {
    const rows = await queryRows<AttesterEntity>(this.ds, `SELECT ${COLUMNS} FROM attester ORDER BY "index"`);
    return rows.map(toRecord);
  }
}
