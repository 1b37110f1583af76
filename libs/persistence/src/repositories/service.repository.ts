import { DomainError } from '@jam/domain';
import type { DataSource } from 'typeorm';
import { bytesToHex, hashToBytes } from '../bytes-hex';
import type { ServiceEntity } from '../entities/service.entity';
import { bigintParam, checkLimit, isForeignKeyViolation, isStorableServiceId, queryOne, queryRows } from '../sql-runner';

/** A registered service. */
export interface ServiceRecord {
  /** u32 service id, assigned from 1 upwards. */
  id: number;
  /** `0x` hex Blake2b-256 of the code preimage. */
  codeHash: string;
  owner: string;
  delegates: string[];
  /** gas (u64) */
  minItemGas: bigint;
  /** gas (u64) */
  minMemoGas: bigint;
  createdAt: Date;
}

const COLUMNS = `id, code_hash AS "codeHash", owner, delegates, min_item_gas AS "minItemGas",
  min_memo_gas AS "minMemoGas", created_at AS "createdAt"`;

function toRecord(row: ServiceEntity): ServiceRecord {
  return {
    id: row.id,
    codeHash: bytesToHex(row.codeHash),
    owner: row.owner,
    delegates: row.delegates,
    minItemGas: BigInt(row.minItemGas),
    minMemoGas: BigInt(row.minMemoGas),
    createdAt: row.createdAt,
  };
}

/** Largest page {@link ServiceRepository.list} returns. */
export const SERVICE_LIST_MAX_LIMIT = 1000;

/** Table `service`. */
export class ServiceRepository {
  constructor(private readonly ds: DataSource) {}

  /**
   * Registers a service under the next id. The caller has validated the code (a stored, valid
   * Wasm service); the database only enforces that the code preimage is recorded.
   * @param input.minItemGas gas, 0..2^63-1 (stored as a signed bigint)
   * @param input.minMemoGas gas, 0..2^63-1
   * @throws DomainError `invalid_hex`; DomainError `invalid_request` for gas out of range;
   *   DomainError `unknown_preimage` when `codeHash` is not a recorded preimage.
   */
  async create(input: { codeHash: string; owner: string; delegates: string[]; minItemGas: bigint; minMemoGas: bigint }): Promise<ServiceRecord> {
    try {
      const row = await queryOne<ServiceEntity>(
        this.ds,
        `INSERT INTO service (code_hash, owner, delegates, min_item_gas, min_memo_gas)
         VALUES ($1, $2, $3, $4, $5) RETURNING ${COLUMNS}`,
        [
          hashToBytes(input.codeHash, 'codeHash'),
          input.owner,
          input.delegates,
          bigintParam(input.minItemGas, 'minItemGas'),
          bigintParam(input.minMemoGas, 'minMemoGas'),
        ],
      );
      if (!row) throw new Error('INSERT ... RETURNING returned no row');
      return toRecord(row);
    } catch (err) {
      if (isForeignKeyViolation(err)) {
        throw new DomainError('unknown_preimage', `code preimage ${input.codeHash} is not stored`, { codeHash: input.codeHash });
      }
      throw err;
    }
  }

  /** @returns the service, or null if no service has this id. */
  async get(id: number): Promise<ServiceRecord | null> {
    if (!isStorableServiceId(id)) return null;
    const row = await queryOne<ServiceEntity>(this.ds, `SELECT ${COLUMNS} FROM service WHERE id = $1`, [id]);
    return row && toRecord(row);
  }

  /**
   * Keyset page of services in ascending id order: ids greater than `afterId` (pass the last id
   * of the previous page), optionally of one owner, optionally only those `member` owns or is a
   * delegate of.
   * @param opts.limit 1..SERVICE_LIST_MAX_LIMIT
   * @throws RangeError for a limit out of range.
   */
  async list(opts: { afterId?: number; limit: number; owner?: string; member?: string }): Promise<ServiceRecord[]> {
    checkLimit(opts.limit, SERVICE_LIST_MAX_LIMIT);
    const rows = await queryRows<ServiceEntity>(
      this.ds,
      `SELECT ${COLUMNS} FROM service
       WHERE id > $1 AND ($2::text IS NULL OR owner = $2)
         AND ($4::text IS NULL OR owner = $4 OR delegates @> ARRAY[$4::text])
       ORDER BY id LIMIT $3`,
      [opts.afterId ?? 0, opts.owner ?? null, opts.limit, opts.member ?? null],
    );
    return rows.map(toRecord);
  }

  /**
   * Adds `principal` to the service's delegates (no duplicate).
   * @returns the updated service, or null if there is no such service.
   */
  async addDelegate(id: number, principal: string): Promise<ServiceRecord | null> {
    if (!isStorableServiceId(id)) return null;
    const row = await queryOne<ServiceEntity>(
      this.ds,
      `UPDATE service SET delegates = CASE WHEN delegates @> ARRAY[$2::text] THEN delegates ELSE array_append(delegates, $2::text) END
       WHERE id = $1 RETURNING ${COLUMNS}`,
      [id, principal],
    );
    return row && toRecord(row);
  }

  /**
   * Removes `principal` from the service's delegates (a no-op when absent).
   * @returns the updated service, or null if there is no such service.
   */
  async removeDelegate(id: number, principal: string): Promise<ServiceRecord | null> {
    if (!isStorableServiceId(id)) return null;
    const row = await queryOne<ServiceEntity>(this.ds, `UPDATE service SET delegates = array_remove(delegates, $2::text) WHERE id = $1 RETURNING ${COLUMNS}`, [
      id,
      principal,
    ]);
    return row && toRecord(row);
  }
}
