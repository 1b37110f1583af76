import type { DataSource } from 'typeorm';
import { bytesToHex, toBuffer, toUint8Array } from '../bytes-hex';
import { isStorableServiceId, queryOne, queryRows, type SqlTarget } from '../sql-runner';

/** Table `service_storage`: a service's key/value state, written only by accumulation. */
export class ServiceStorageRepository {
  constructor(private readonly ds: DataSource) {}

  /** @returns the value stored under `key` for the service, or null if absent. */
  async getStorage(serviceId: number, key: Uint8Array): Promise<Uint8Array | null> {
    if (!isStorableServiceId(serviceId)) return null;
    const row = await queryOne<{ value: Buffer }>(this.ds, 'SELECT value FROM service_storage WHERE service_id = $1 AND key = $2', [serviceId, toBuffer(key)]);
    return row && toUint8Array(row.value);
  }

  /**
   * The whole state of one service. Keys are `0x` lowercase hex of the raw key bytes.
   * Meant for services with small state (accumulate loads it whole, within the storage quota).
   */
  async storageSnapshot(serviceId: number): Promise<Map<string, Uint8Array>> {
    return loadStorageSnapshot(this.ds, serviceId);
  }

  /** Size of one service's stored state: key + value bytes and number of keys (0 and 0 when none). */
  async footprint(serviceId: number): Promise<{ bytes: number; items: number }> {
    if (!isStorableServiceId(serviceId)) return { bytes: 0, items: 0 };
    return loadStorageFootprint(this.ds, serviceId);
  }
}

/**
 * @internal shared with AccumulationRepository. Sums lengths in the database without reading the
 * values out (octet_length of a TOASTed bytea reads its stored size, not its bytes).
 */
export async function loadStorageFootprint(target: SqlTarget, serviceId: number): Promise<{ bytes: number; items: number }> {
  const row = await queryOne<{ bytes: string; items: string }>(
    target,
    'SELECT COALESCE(sum(octet_length(key) + octet_length(value)), 0)::bigint AS bytes, count(*)::bigint AS items FROM service_storage WHERE service_id = $1',
    [serviceId],
  );
  return { bytes: Number(row?.bytes ?? 0), items: Number(row?.items ?? 0) };
}

/** @internal shared with AccumulationRepository so a snapshot can be read inside its transaction. */
export async function loadStorageSnapshot(target: SqlTarget, serviceId: number): Promise<Map<string, Uint8Array>> {
  const rows = await queryRows<{ key: Buffer; value: Buffer }>(target, 'SELECT key, value FROM service_storage WHERE service_id = $1 ORDER BY key', [
    serviceId,
  ]);
  return new Map(rows.map((r) => [bytesToHex(r.key), toUint8Array(r.value)]));
}
