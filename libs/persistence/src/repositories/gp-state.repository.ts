import type { DataSource, EntityManager } from 'typeorm';
import type { AccumulationStatus } from '../entities/accumulation.entity';
import { hashToBytes, toBuffer, toUint8Array } from '../bytes-hex';
import { bigintParam, queryOne, queryRows, type SqlTarget } from '../sql-runner';

/**
 * A GP 0.7.2 service account's fields (section 9), the shape of `ServiceInfo` in
 * libs/sandbox/src/pvm/accumulate/accumulate-state.ts. Balances, gas and footprint bytes are u64.
 */
export interface GpAccountInfo {
  /** `a_c`: 32 bytes. */
  codeHash: Uint8Array;
  balance: bigint;
  /** `a_g`, `a_m`: gas. */
  minItemGas: bigint;
  minMemoGas: bigint;
  /** `a_o`: footprint in octets. */
  bytes: bigint;
  /** `a_f`: gratis storage offset. */
  depositOffset: bigint;
  /** `a_i`: footprint in items. */
  items: number;
  /** `a_r`, `a_a`: timeslots. */
  creationSlot: number;
  lastAccumulationSlot: number;
  /** `a_p`: parent service id. */
  parentService: number;
}

/**
 * A GP service account: its fields and its storage, preimages and preimage requests. Maps are
 * keyed by lower-case hex without `0x` (storage: the service's own key bytes; preimages: the
 * hash; requests: `<hash hex>:<length>` -> up to 3 timeslots), as `ServiceAccount` of the sandbox.
 */
export interface GpAccountState {
  info: GpAccountInfo;
  storage: Map<string, Uint8Array>;
  preimages: Map<string, Uint8Array>;
  requests: Map<string, number[]>;
}

/** The privileged services (GP 0.7.2 section 9: m, a, v, r, z) the product keeps. */
export interface GpPrivileges {
  manager: number;
  assigners: number[];
  delegator: number;
  registrar: number;
  /** `z`: service -> free gas per accumulation. */
  alwaysAccumulate: Map<number, bigint>;
}

/** A ready-queue record as stored: the GP-encoded work report and the package hashes it waits for. */
export interface GpReadyRecordRow {
  /** GP encoding of the work report (domain `encodeWorkReport`). */
  report: Uint8Array;
  /** 32-byte package hashes. */
  dependencies: Uint8Array[];
}

/** Everything GP accumulation reads (the partial state of PVM services and the chain's accumulation state). */
export interface GpStateSnapshot {
  /** The tenant (`service.owner`) whose partial state this is: only its accounts are in it. */
  owner: string;
  /** The compare-and-set counter (per owner): {@link GpStateRepository.apply} writes only if it is unchanged. */
  version: string;
  /** τ: slot of the last accumulation. */
  slot: number;
  /** η'_0: 32 bytes. */
  entropy: Uint8Array;
  privileges: GpPrivileges;
  accounts: Map<number, GpAccountState>;
  /** ϑ: `epochLength` slots. */
  readyQueue: GpReadyRecordRow[][];
  /** ξ: `epochLength` slots of 32-byte package hashes. */
  accumulated: Uint8Array[][];
}

/** What one GP accumulation leaves beside the state: its output root, yields and statistics. */
export interface GpAccumulationRecord {
  /** Keccak Merkle root of the outputs (32 bytes). */
  outputRoot: Uint8Array;
  outputs: { service: number; hash: Uint8Array }[];
  statistics: { service: number; count: number; gasUsed: bigint }[];
}

/** An `accumulation` row to insert with the state: one (report, product service) applied exactly once. */
export interface GpAccumulationRow {
  reportHash: string;
  packageHash: string;
  serviceId: number;
  status: AccumulationStatus;
  /** gas, 0..2^63-1 */
  gasUsed: bigint;
}

/** Bounds of what {@link GpStateRepository.load} may read for one owner (the executor snapshot limits). */
export interface GpStateLoadLimits {
  /** Most storage items + preimages + preimage requests (rows). */
  maxItems: number;
  /** Most bytes of storage keys + values + preimage blobs. */
  maxBytes: number;
}

/**
 * A GP state read or write the product refuses, with a stable `code`:
 * `state_too_large` (an owner's state is over the {@link GpStateLoadLimits}: nothing was loaded);
 * `service_id_taken` (an accumulation's `new` picked an id another tenant's account or a product
 * service already has: nothing was written).
 */
export class GpStateLimitError extends Error {
  override name = 'GpStateLimitError';
  constructor(
    readonly code: 'state_too_large' | 'service_id_taken',
    message: string,
  ) {
    super(message);
  }
}

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex');
const same = (a: Uint8Array | undefined, b: Uint8Array): boolean => a !== undefined && a.length === b.length && Buffer.compare(a, b) === 0;
const u64 = (v: bigint, field: string): string => {
  if (v < 0n || v >= 1n << 64n) throw new RangeError(`${field} ${v} is not a u64`);
  return v.toString();
};

/**
 * Tables `gp_*` (migration 1770500000000) and `service_storage`: the GP 0.7.2 partial state PVM
 * services accumulate over (docs/service-abi.md, "GP accumulate state"), one per owner (tenant):
 * an owner's state holds only its accounts (docs/security.md, "GP accumulate state per tenant").
 * Read with {@link load}; written by {@link apply} as the difference between the state it was
 * given and the state accumulation produced, in one transaction, compare-and-set on the owner's
 * `gp_chain_state.version`.
 */
export class GpStateRepository {
  constructor(private readonly ds: DataSource) {}

  /**
   * One owner's GP state in one snapshot (REPEATABLE READ): its chain row (made on first use),
   * its accounts with their storage, preimages and requests, its ready queue and history.
   * @param owner the tenant (`service.owner`)
   * @param epochLength E (slots): length of the ready queue and the history
   * @param limits when given, the state is measured first and not loaded when over them
   * @throws GpStateLimitError `state_too_large` when over `limits`
   */
  async load(owner: string, epochLength: number, limits?: GpStateLoadLimits): Promise<GpStateSnapshot> {
    await ensureChainRow(this.ds, owner);
    return this.ds.transaction('REPEATABLE READ', async (tx) => {
      if (limits !== undefined) await checkSize(tx, owner, limits);
      return loadState(tx, owner, epochLength);
    });
  }

  /**
   * Whether `serviceId` has a GP account, whoever owns it (a PVM service accumulated before, or created by `new`).
   */
  async hasAccount(serviceId: number): Promise<boolean> {
    return (await queryOne(this.ds, 'SELECT 1 FROM gp_account WHERE service_id = $1', [serviceId])) !== null;
  }

  /**
   * Creates the GP account of a product service the first time it accumulates, with the given
   * fields and preimages (its code). Its storage is what `service_storage` already holds: `bytes`
   * and `items` are counted from it here as GP 0.7.2 section 9 does (a_o = Σ 34 + |k| + |v|,
   * a_i = number of keys; no requests yet), whatever `info` says. Moves the version when it
   * inserted, so a concurrent accumulation of `owner` computed without the account is not applied.
   * @param owner the tenant (`service.owner`) the account belongs to
   * @returns true when this call inserted the account
   */
  async createAccount(owner: string, serviceId: number, info: GpAccountInfo, preimages: Map<string, Uint8Array>): Promise<boolean> {
    await ensureChainRow(this.ds, owner);
    return this.ds.transaction(async (tx) => {
      await queryOne(tx, 'SELECT version FROM gp_chain_state WHERE owner = $1 FOR UPDATE', [owner]);
      const fp = await queryOne<{ bytes: string; items: string }>(
        tx,
        'SELECT COALESCE(sum(34 + octet_length(key) + octet_length(value)), 0)::text AS bytes, count(*)::text AS items FROM service_storage WHERE service_id = $1',
        [serviceId],
      );
      const counted = { ...info, bytes: BigInt(fp?.bytes ?? 0), items: Number(fp?.items ?? 0) };
      const inserted = await queryRows(tx, `${ACCOUNT_UPSERT} ON CONFLICT (service_id) DO NOTHING RETURNING 1`, accountParams(owner, serviceId, counted));
      if (inserted.length === 0) return false;
      await writePreimages(tx, serviceId, new Map(), preimages);
      await queryOne(tx, 'UPDATE gp_chain_state SET version = version + 1 WHERE owner = $1', [owner]);
      return true;
    });
  }

  /**
   * Replaces the GP state of `state.owner` (its accounts with storage, preimages and requests,
   * privileges, slot, entropy, ready queue, history) by `state`, e.g. a chain's genesis or a test
   * vector's pre-state. Other owners' state and storage of product services that have no GP
   * account are left alone.
   * @throws GpStateLimitError `service_id_taken` when one of its accounts belongs to another owner
   */
  async replace(state: Omit<GpStateSnapshot, 'version'>): Promise<void> {
    const { owner } = state;
    await ensureChainRow(this.ds, owner);
    await this.ds.transaction(async (tx) => {
      await queryOne(tx, 'SELECT version FROM gp_chain_state WHERE owner = $1 FOR UPDATE', [owner]);
      await queryRows(tx, 'DELETE FROM service_storage WHERE service_id IN (SELECT service_id FROM gp_account WHERE owner = $1) RETURNING 1', [owner]);
      for (const t of ['gp_account', 'gp_ready_record', 'gp_accumulated', 'gp_accumulation_output', 'gp_accumulate_statistics'])
        await queryRows(tx, `DELETE FROM ${t} WHERE owner = $1 RETURNING 1`, [owner]);
      await writeState(tx, { ...state, accounts: new Map() }, state);
      await queryOne(tx, 'UPDATE gp_chain_state SET version = version + 1 WHERE owner = $1', [owner]);
    });
  }

  /**
   * Applies one GP accumulation of `pre.owner` exactly once: in ONE transaction, locks the owner's
   * `gp_chain_state` row; when its version is not `pre.version` (another accumulation applied since `pre` was loaded: the result
   * was computed on a stale state) writes nothing and returns `conflict`; when one of `rows` is
   * already in `accumulation` (this report was applied) writes nothing and returns `done`; else
   * writes the difference between `pre` and `post` (accounts, storage, preimages, requests,
   * privileges, slot, entropy, ready queue, history), the record (output root, yields,
   * statistics) and `rows`, and moves the owner's version. Other owners' rows are never written.
   * @throws GpStateLimitError `service_id_taken` when an account the accumulation created has the id
   *   of another owner's account or of a product service (nothing is written)
   * @throws RangeError for a value out of its column's range (nothing is written); database errors
   */
  async apply(
    pre: GpStateSnapshot,
    post: Omit<GpStateSnapshot, 'version'>,
    record: GpAccumulationRecord,
    rows: readonly GpAccumulationRow[] = [],
  ): Promise<'applied' | 'conflict' | 'done'> {
    return this.ds.transaction(async (tx) => {
      const { owner } = pre;
      const locked = await queryOne<{ version: string }>(tx, 'SELECT version::text AS version FROM gp_chain_state WHERE owner = $1 FOR UPDATE', [owner]);
      if (locked?.version !== pre.version) return 'conflict';
      for (const r of rows) {
        const done = await queryOne(tx, 'SELECT 1 FROM accumulation WHERE report_hash = $1 AND service_id = $2', [hashToBytes(r.reportHash), r.serviceId]);
        if (done !== null) return 'done';
      }
      await writeState(tx, pre, { ...post, owner });
      await queryRows(tx, 'DELETE FROM gp_accumulation_output WHERE owner = $1 RETURNING 1', [owner]);
      await queryRows(tx, 'DELETE FROM gp_accumulate_statistics WHERE owner = $1 RETURNING 1', [owner]);
      for (const o of record.outputs)
        await queryOne(tx, 'INSERT INTO gp_accumulation_output (owner, service_id, hash) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [
          owner,
          o.service,
          toBuffer(o.hash),
        ]);
      for (const s of record.statistics)
        await queryOne(tx, 'INSERT INTO gp_accumulate_statistics (owner, service_id, count, gas_used) VALUES ($1, $2, $3, $4)', [
          owner,
          s.service,
          s.count,
          u64(s.gasUsed, 'gas_used'),
        ]);
      await queryOne(tx, 'UPDATE gp_chain_state SET output_root = $1, version = version + 1 WHERE owner = $2', [toBuffer(record.outputRoot), owner]);
      for (const r of rows)
        await queryOne(tx, 'INSERT INTO accumulation (report_hash, package_hash, service_id, status, gas_used) VALUES ($1, $2, $3, $4, $5)', [
          hashToBytes(r.reportHash, 'reportHash'),
          hashToBytes(r.packageHash, 'packageHash'),
          r.serviceId,
          r.status,
          bigintParam(r.gasUsed, 'gasUsed'),
        ]);
      return 'applied';
    });
  }

  /**
   * Whether every (report, service) of `serviceIds` already has its `accumulation` row (a
   * redelivered job: the accumulation was applied, nothing needs to run).
   */
  async accumulated(reportHash: string, serviceIds: readonly number[]): Promise<boolean> {
    const row = await queryOne<{ n: string }>(this.ds, 'SELECT count(*)::text AS n FROM accumulation WHERE report_hash = $1 AND service_id = ANY($2::int[])', [
      hashToBytes(reportHash, 'reportHash'),
      [...serviceIds],
    ]);
    return Number(row?.n ?? 0) === new Set(serviceIds).size;
  }

  /**
   * Inserts `rows` without touching any GP state (an accumulation the product refused, e.g.
   * `storage_over_limit`); a row already there is kept (exactly once).
   */
  async recordWithoutState(rows: readonly GpAccumulationRow[]): Promise<void> {
    await this.ds.transaction(async (tx) => {
      for (const r of rows)
        await queryRows(
          tx,
          'INSERT INTO accumulation (report_hash, package_hash, service_id, status, gas_used) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING 1',
          [hashToBytes(r.reportHash, 'reportHash'), hashToBytes(r.packageHash, 'packageHash'), r.serviceId, r.status, bigintParam(r.gasUsed, 'gasUsed')],
        );
    });
  }

  /** The record of `owner`'s last GP accumulation: output root, yields (sorted) and statistics (by service). */
  async lastAccumulation(owner: string): Promise<GpAccumulationRecord> {
    const chain = await queryOne<{ output_root: Buffer }>(this.ds, 'SELECT output_root FROM gp_chain_state WHERE owner = $1', [owner]);
    const outputs = await queryRows<{ service_id: string; hash: Buffer }>(
      this.ds,
      'SELECT service_id, hash FROM gp_accumulation_output WHERE owner = $1 ORDER BY service_id, hash',
      [owner],
    );
    const stats = await queryRows<{ service_id: string; count: string; gas_used: string }>(
      this.ds,
      'SELECT service_id, count, gas_used::text AS gas_used FROM gp_accumulate_statistics WHERE owner = $1 ORDER BY service_id',
      [owner],
    );
    return {
      outputRoot: toUint8Array(chain?.output_root ?? Buffer.alloc(32)),
      outputs: outputs.map((o) => ({ service: Number(o.service_id), hash: toUint8Array(o.hash) })),
      statistics: stats.map((s) => ({ service: Number(s.service_id), count: Number(s.count), gasUsed: BigInt(s.gas_used) })),
    };
  }
}

const ACCOUNT_UPSERT = `INSERT INTO gp_account (owner, service_id, code_hash, balance, min_item_gas, min_memo_gas, bytes, deposit_offset, items, creation_slot, last_accumulation_slot, parent_service)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`;

const EMPTY_PRIVILEGES = '{"manager":0,"assigners":[],"delegator":0,"registrar":0,"alwaysAccumulate":[]}';

/** Makes `owner`'s chain row (slot 0, zero entropy, no privileges, version 0) when it has none. */
async function ensureChainRow(tx: SqlTarget, owner: string): Promise<void> {
  await queryRows(
    tx,
    `INSERT INTO gp_chain_state (owner, slot, entropy, privileges, output_root) VALUES ($1, 0, $2, $3, $2) ON CONFLICT (owner) DO NOTHING RETURNING 1`,
    [owner, Buffer.alloc(32), EMPTY_PRIVILEGES],
  );
}

/** Refuses to load `owner`'s state when its rows or bytes are over `limits` (measured in SQL, nothing read). */
async function checkSize(tx: SqlTarget, owner: string, limits: GpStateLoadLimits): Promise<void> {
  const m = await queryOne<{ items: string; bytes: string }>(
    tx,
    `WITH a AS (SELECT service_id FROM gp_account WHERE owner = $1)
     SELECT ((SELECT count(*) FROM service_storage WHERE service_id IN (SELECT service_id FROM a))
           + (SELECT count(*) FROM gp_preimage WHERE service_id IN (SELECT service_id FROM a))
           + (SELECT count(*) FROM gp_preimage_request WHERE service_id IN (SELECT service_id FROM a)))::text AS items,
            ((SELECT COALESCE(sum(octet_length(key) + octet_length(value)), 0) FROM service_storage WHERE service_id IN (SELECT service_id FROM a))
           + (SELECT COALESCE(sum(octet_length(blob)), 0) FROM gp_preimage WHERE service_id IN (SELECT service_id FROM a)))::text AS bytes`,
    [owner],
  );
  const items = Number(m?.items ?? 0);
  const bytes = Number(m?.bytes ?? 0);
  if (items > limits.maxItems || bytes > limits.maxBytes)
    throw new GpStateLimitError(
      'state_too_large',
      `GP state of owner ${JSON.stringify(owner)} holds ${items} items and ${bytes} bytes, over the snapshot limits (${limits.maxItems} items, ${limits.maxBytes} bytes)`,
    );
}

function accountParams(owner: string, id: number, i: GpAccountInfo): unknown[] {
  return [
    owner,
    id,
    toBuffer(i.codeHash),
    u64(i.balance, 'balance'),
    u64(i.minItemGas, 'min_item_gas'),
    u64(i.minMemoGas, 'min_memo_gas'),
    u64(i.bytes, 'bytes'),
    u64(i.depositOffset, 'deposit_offset'),
    i.items,
    i.creationSlot,
    i.lastAccumulationSlot,
    i.parentService,
  ];
}

function sameInfo(a: GpAccountInfo, b: GpAccountInfo): boolean {
  return (
    same(a.codeHash, b.codeHash) &&
    a.balance === b.balance &&
    a.minItemGas === b.minItemGas &&
    a.minMemoGas === b.minMemoGas &&
    a.bytes === b.bytes &&
    a.depositOffset === b.depositOffset &&
    a.items === b.items &&
    a.creationSlot === b.creationSlot &&
    a.lastAccumulationSlot === b.lastAccumulationSlot &&
    a.parentService === b.parentService
  );
}

async function loadState(tx: EntityManager, owner: string, epochLength: number): Promise<GpStateSnapshot> {
  const chain = await queryOne<{ version: string; slot: string; entropy: Buffer; privileges: StoredPrivileges }>(
    tx,
    'SELECT version::text AS version, slot, entropy, privileges FROM gp_chain_state WHERE owner = $1',
    [owner],
  );
  if (chain === null) throw new Error(`gp_chain_state has no row for owner ${JSON.stringify(owner)}`);
  const accounts = new Map<number, GpAccountState>();
  type AccountRow = Record<
    | 'service_id'
    | 'balance'
    | 'min_item_gas'
    | 'min_memo_gas'
    | 'bytes'
    | 'deposit_offset'
    | 'items'
    | 'creation_slot'
    | 'last_accumulation_slot'
    | 'parent_service',
    string
  > & {
    code_hash: Buffer;
  };
  for (const a of await queryRows<AccountRow>(tx, 'SELECT * FROM gp_account WHERE owner = $1 ORDER BY service_id', [owner])) {
    accounts.set(Number(a.service_id), {
      info: {
        codeHash: toUint8Array(a.code_hash),
        balance: BigInt(a.balance),
        minItemGas: BigInt(a.min_item_gas),
        minMemoGas: BigInt(a.min_memo_gas),
        bytes: BigInt(a.bytes),
        depositOffset: BigInt(a.deposit_offset),
        items: Number(a.items),
        creationSlot: Number(a.creation_slot),
        lastAccumulationSlot: Number(a.last_accumulation_slot),
        parentService: Number(a.parent_service),
      },
      storage: new Map(),
      preimages: new Map(),
      requests: new Map(),
    });
  }
  const storage = await queryRows<{ service_id: string; key: Buffer; value: Buffer }>(
    tx,
    'SELECT s.service_id, s.key, s.value FROM service_storage s JOIN gp_account a ON a.service_id = s.service_id WHERE a.owner = $1',
    [owner],
  );
  for (const s of storage) accounts.get(Number(s.service_id))!.storage.set(hex(s.key), toUint8Array(s.value));
  for (const p of await queryRows<{ service_id: string; hash: Buffer; blob: Buffer }>(
    tx,
    'SELECT p.service_id, p.hash, p.blob FROM gp_preimage p JOIN gp_account a ON a.service_id = p.service_id WHERE a.owner = $1',
    [owner],
  ))
    accounts.get(Number(p.service_id))!.preimages.set(hex(p.hash), toUint8Array(p.blob));
  for (const r of await queryRows<{ service_id: string; hash: Buffer; length: string; slots: string[] }>(
    tx,
    'SELECT r.service_id, r.hash, r.length, r.slots FROM gp_preimage_request r JOIN gp_account a ON a.service_id = r.service_id WHERE a.owner = $1',
    [owner],
  ))
    accounts.get(Number(r.service_id))!.requests.set(`${hex(r.hash)}:${r.length}`, r.slots.map(Number));
  const readyQueue: GpReadyRecordRow[][] = Array.from({ length: epochLength }, () => []);
  for (const r of await queryRows<{ slot_index: number; report: Buffer; dependencies: Buffer[] }>(
    tx,
    'SELECT slot_index, report, dependencies FROM gp_ready_record WHERE owner = $1 ORDER BY slot_index, position',
    [owner],
  ))
    readyQueue[r.slot_index]?.push({ report: toUint8Array(r.report), dependencies: r.dependencies.map(toUint8Array) });
  const accumulated: Uint8Array[][] = Array.from({ length: epochLength }, () => []);
  for (const a of await queryRows<{ slot_index: number; package_hash: Buffer }>(
    tx,
    'SELECT slot_index, package_hash FROM gp_accumulated WHERE owner = $1 ORDER BY slot_index, package_hash',
    [owner],
  ))
    accumulated[a.slot_index]?.push(toUint8Array(a.package_hash));
  return {
    owner,
    version: chain.version,
    slot: Number(chain.slot),
    entropy: toUint8Array(chain.entropy),
    privileges: privilegesFromJson(chain.privileges),
    accounts,
    readyQueue,
    accumulated,
  };
}

/** Privileges as stored in `gp_chain_state.privileges` (jsonb; gas as decimal strings). */
interface StoredPrivileges {
  manager: number;
  assigners: number[];
  delegator: number;
  registrar: number;
  alwaysAccumulate: [number, string][];
}

function privilegesFromJson(p: StoredPrivileges): GpPrivileges {
  return { ...p, alwaysAccumulate: new Map(p.alwaysAccumulate.map(([s, g]) => [s, BigInt(g)])) };
}

function privilegesToJson(p: GpPrivileges): StoredPrivileges {
  return {
    manager: p.manager,
    assigners: [...p.assigners],
    delegator: p.delegator,
    registrar: p.registrar,
    alwaysAccumulate: [...p.alwaysAccumulate].map(([s, g]) => [s, u64(g, 'always_accumulate gas')]),
  };
}

/**
 * Writes what differs between `pre` and `post` (both of `post.owner`): accounts and their maps,
 * chain row, ready queue and history (replaced).
 * @throws GpStateLimitError `service_id_taken` when a new account's id is another owner's account or a product service
 */
async function writeState(tx: EntityManager, pre: Omit<GpStateSnapshot, 'version'>, post: Omit<GpStateSnapshot, 'version'>): Promise<void> {
  const { owner } = post;
  const created = [...post.accounts.keys()].filter((id) => !pre.accounts.has(id));
  if (created.length > 0) {
    // a product service without a GP account yet (e.g. a Wasm service) keeps its id and storage
    const taken = await queryRows<{ id: string }>(tx, 'SELECT id::text AS id FROM service WHERE id::bigint = ANY($1::bigint[])', [created]);
    if (taken.length > 0) throw new GpStateLimitError('service_id_taken', `service id ${taken[0]!.id} is a product service`);
  }
  for (const id of pre.accounts.keys()) {
    if (post.accounts.has(id)) continue;
    await queryRows(tx, 'DELETE FROM service_storage WHERE service_id = $1 RETURNING 1', [id]);
    await queryRows(tx, 'DELETE FROM gp_account WHERE service_id = $1 RETURNING 1', [id]);
  }
  for (const [id, a] of post.accounts) {
    const before = pre.accounts.get(id);
    if (before === undefined || !sameInfo(before.info, a.info)) {
      // never another owner's row: the upsert updates only an account of `owner`
      const written = await queryRows(
        tx,
        `${ACCOUNT_UPSERT} ON CONFLICT (service_id) DO UPDATE SET code_hash = EXCLUDED.code_hash, balance = EXCLUDED.balance,
           min_item_gas = EXCLUDED.min_item_gas, min_memo_gas = EXCLUDED.min_memo_gas, bytes = EXCLUDED.bytes, deposit_offset = EXCLUDED.deposit_offset,
           items = EXCLUDED.items, creation_slot = EXCLUDED.creation_slot, last_accumulation_slot = EXCLUDED.last_accumulation_slot,
           parent_service = EXCLUDED.parent_service
         WHERE gp_account.owner = EXCLUDED.owner RETURNING 1`,
        accountParams(owner, id, a.info),
      );
      if (written.length === 0) throw new GpStateLimitError('service_id_taken', `service id ${id} is an account of another owner`);
    }
    await writeStorage(tx, id, before?.storage ?? new Map(), a.storage);
    await writePreimages(tx, id, before?.preimages ?? new Map(), a.preimages);
    await writeRequests(tx, id, before?.requests ?? new Map(), a.requests);
  }
  await queryOne(tx, 'UPDATE gp_chain_state SET slot = $1, entropy = $2, privileges = $3 WHERE owner = $4', [
    post.slot,
    toBuffer(post.entropy),
    JSON.stringify(privilegesToJson(post.privileges)),
    owner,
  ]);
  await queryRows(tx, 'DELETE FROM gp_ready_record WHERE owner = $1 RETURNING 1', [owner]);
  for (const [slot, records] of post.readyQueue.entries())
    for (const [position, r] of records.entries())
      await queryOne(tx, 'INSERT INTO gp_ready_record (owner, slot_index, position, report, dependencies) VALUES ($1, $2, $3, $4, $5::bytea[])', [
        owner,
        slot,
        position,
        toBuffer(r.report),
        r.dependencies.map(toBuffer),
      ]);
  await queryRows(tx, 'DELETE FROM gp_accumulated WHERE owner = $1 RETURNING 1', [owner]);
  for (const [slot, hashes] of post.accumulated.entries())
    if (hashes.length > 0)
      await queryRows(
        tx,
        'INSERT INTO gp_accumulated (owner, slot_index, package_hash) SELECT $1, $2, h FROM unnest($3::bytea[]) AS t(h) ON CONFLICT DO NOTHING RETURNING 1',
        [owner, slot, hashes.map(toBuffer)],
      );
}

/** The keys of `after` whose value differs from `before`, and the keys `before` has that `after` lacks. */
function diff<V>(before: Map<string, V>, after: Map<string, V>, eq: (a: V | undefined, b: V) => boolean): { put: [string, V][]; gone: string[] } {
  const put = [...after].filter(([k, v]) => !eq(before.get(k), v));
  const gone = [...before.keys()].filter((k) => !after.has(k));
  return { put, gone };
}

async function writeStorage(tx: SqlTarget, id: number, before: Map<string, Uint8Array>, after: Map<string, Uint8Array>): Promise<void> {
  const { put, gone } = diff(before, after, same);
  if (gone.length > 0)
    await queryRows(tx, 'DELETE FROM service_storage WHERE service_id = $1 AND key = ANY($2::bytea[]) RETURNING 1', [
      id,
      gone.map((k) => Buffer.from(k, 'hex')),
    ]);
  if (put.length > 0)
    await queryRows(
      tx,
      `INSERT INTO service_storage (service_id, key, value) SELECT $1, k, v FROM unnest($2::bytea[], $3::bytea[]) AS t(k, v)
       ON CONFLICT (service_id, key) DO UPDATE SET value = EXCLUDED.value RETURNING 1`,
      [id, put.map(([k]) => Buffer.from(k, 'hex')), put.map(([, v]) => toBuffer(v))],
    );
}

async function writePreimages(tx: SqlTarget, id: number, before: Map<string, Uint8Array>, after: Map<string, Uint8Array>): Promise<void> {
  const { put, gone } = diff(before, after, same);
  if (gone.length > 0)
    await queryRows(tx, 'DELETE FROM gp_preimage WHERE service_id = $1 AND hash = ANY($2::bytea[]) RETURNING 1', [id, gone.map((k) => Buffer.from(k, 'hex'))]);
  for (const [h, blob] of put)
    await queryOne(
      tx,
      'INSERT INTO gp_preimage (service_id, hash, blob) VALUES ($1, $2, $3) ON CONFLICT (service_id, hash) DO UPDATE SET blob = EXCLUDED.blob',
      [id, Buffer.from(h, 'hex'), toBuffer(blob)],
    );
}

async function writeRequests(tx: SqlTarget, id: number, before: Map<string, number[]>, after: Map<string, number[]>): Promise<void> {
  const { put, gone } = diff(before, after, (a, b) => a !== undefined && a.length === b.length && a.every((x, i) => x === b[i]));
  const split = (k: string): [Buffer, number] => {
    const [h, len] = k.split(':');
    return [Buffer.from(h!, 'hex'), Number(len)];
  };
  for (const k of gone)
    await queryRows(tx, 'DELETE FROM gp_preimage_request WHERE service_id = $1 AND hash = $2 AND length = $3 RETURNING 1', [id, ...split(k)]);
  for (const [k, slots] of put)
    await queryOne(
      tx,
      `INSERT INTO gp_preimage_request (service_id, hash, length, slots) VALUES ($1, $2, $3, $4::bigint[])
       ON CONFLICT (service_id, hash, length) DO UPDATE SET slots = EXCLUDED.slots`,
      [id, ...split(k), slots],
    );
}
