import type { DataSource } from 'typeorm';
import type { StoreIdentityEntity } from '../entities/store-identity.entity';
import { queryOne } from '../sql-runner';

/**
 * Table `store_identity`: the database's store id, a random UUID created once by the migration
 * `StoreIdentity1763000000000` and never changed. Blob stores carry it in their marker
 * (`.jam-store-id`), which binds each store to the database that owns it.
 */
export class StoreIdentityRepository {
  constructor(private readonly ds: DataSource) {}

  /**
   * @returns the store id (lowercase UUID).
   * @throws Error when the row is missing (migrations not run).
   */
  async get(): Promise<string> {
    const row = await queryOne<Pick<StoreIdentityEntity, 'storeId'>>(this.ds, 'SELECT store_id AS "storeId" FROM store_identity WHERE singleton');
    if (!row) throw new Error('store_identity has no row: run the migrations first');
    return row.storeId.toLowerCase();
  }
}
