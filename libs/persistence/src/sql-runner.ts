import { DomainError } from '@jam/domain';
import { QueryFailedError, type DataSource, type EntityManager, type QueryRunner } from 'typeorm';

/** Where a repository statement runs: the pool, or the query runner of an open transaction. */
export type SqlTarget = DataSource | EntityManager;

/** The part of the `pg` Pool that TypeORM's PostgreSQL driver holds as `master`. */
interface PgPool {
  connect(): Promise<{ query(sql: string, params: unknown[]): Promise<{ rows: unknown[] }>; release(): void }>;
}

/**
 * The `pg` pool behind a connected DataSource, for statements outside a transaction, or undefined
 * when TypeORM must run them itself: statement logging on (`logging`), or a driver without one.
 */
function rawPool(ds: DataSource): PgPool | undefined {
  if (ds.options.logging !== false && ds.options.logging !== undefined) return undefined;
  const master = (ds.driver as unknown as { master?: Partial<PgPool> }).master;
  return typeof master?.connect === 'function' ? (master as PgPool) : undefined;
}

/**
 * Runs one parameterised statement and returns its rows (`RETURNING` rows for writes).
 * Inside `ds.transaction(...)`, pass the transaction's EntityManager so the statement joins it.
 *
 * Outside a transaction the statement goes straight to the DataSource's own `pg` pool (check
 * out a client, run, release it), not through a TypeORM QueryRunner per statement:
 * the same connections, parameters and type parsing, without TypeORM's per-statement runner,
 * logger and event broadcast (issue 8: about a third of every worker's CPU was the database
 * client). A failure is thrown as TypeORM's `QueryFailedError` wrapping the `pg` error, as
 * TypeORM throws it, so callers see one error shape either way.
 * @throws QueryFailedError for a statement the server refused or a lost connection
 */
export async function queryRows<T>(target: SqlTarget, sql: string, params: readonly unknown[] = []): Promise<T[]> {
  const isManager = 'dataSource' in target;
  const bound: QueryRunner | undefined = isManager ? target.queryRunner : undefined;
  if (bound) return (await bound.query(sql, [...params], true)).records as T[];
  const ds: DataSource = isManager ? target.dataSource : target;
  const pool = rawPool(ds);
  if (pool !== undefined) {
    // Not `Pool.query`: it releases the client with the statement's error, which closes the
    // connection after every refused statement (a unique violation is an ordinary answer here; on
    // embedded PGlite the reconnect races its single session). A client whose connection broke is
    // dropped by the pool at release anyway.
    const client = await pool.connect();
    try {
      return (await client.query(sql, [...params])).rows as T[];
    } catch (err) {
      throw new QueryFailedError(sql, [...params], err as Error);
    } finally {
      client.release();
    }
  }
  const runner = ds.createQueryRunner();
  try {
    return (await runner.query(sql, [...params], true)).records as T[];
  } finally {
    await runner.release();
  }
}

/** {@link queryRows} for statements that return at most one row. */
export async function queryOne<T>(target: SqlTarget, sql: string, params: readonly unknown[] = []): Promise<T | null> {
  const rows = await queryRows<T>(target, sql, params);
  return rows[0] ?? null;
}

/** True for a PostgreSQL foreign-key violation (SQLSTATE 23503). */
export function isForeignKeyViolation(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === '23503';
}

/** True for a PostgreSQL unique violation (SQLSTATE 23505). */
export function isUniqueViolation(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === '23505';
}

/** @throws RangeError unless `limit` is an integer in 1..max. */
export function checkLimit(limit: number, max: number): void {
  if (!Number.isInteger(limit) || limit < 1 || limit > max) throw new RangeError(`limit must be an integer in 1..${max}, got ${limit}`);
}

/** Largest value of a PostgreSQL `integer` (signed 32-bit), the type of service id columns. */
export const PG_INTEGER_MAX = 2 ** 31 - 1;

/**
 * True when `id` can name a stored service: service ids are u32 on the wire but `integer`
 * (signed 32-bit) columns assigned from 1 upwards, so an id above 2^31-1 cannot exist and must
 * be answered as unknown, not sent to PostgreSQL (which refuses it as out of range).
 */
export function isStorableServiceId(id: number): boolean {
  return Number.isInteger(id) && id >= 0 && id <= PG_INTEGER_MAX;
}

/** Largest value of a PostgreSQL `bigint` (signed 64-bit). */
export const PG_BIGINT_MAX = 2n ** 63n - 1n;

/**
 * Checks a u64 quantity (gas) fits the signed `bigint` column it is stored in, and returns its
 * decimal string for the driver. GP gas is u64; values above 2^63-1 are not storable here.
 * @throws DomainError `invalid_request` for a negative value or one above 2^63-1.
 */
export function bigintParam(value: bigint, field: string): string {
  if (value < 0n || value > PG_BIGINT_MAX) {
    throw new DomainError('invalid_request', `${field} must be in 0..2^63-1`, { field, value: value.toString() });
  }
  return value.toString();
}
