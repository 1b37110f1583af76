import {
  GP_ACCUMULATE_GAS,
  GP_MAX_AUTHORIZER_CODE_SIZE,
  GP_MAX_DEPENDENCY_ITEMS,
  GP_MAX_PACKAGE_EXPORTS,
  GP_MAX_PACKAGE_EXTRINSICS,
  GP_MAX_PACKAGE_IMPORTS,
  GP_MAX_PACKAGE_SIZE,
  GP_MAX_REPORT_OUTPUT_SIZE,
  GP_MAX_SERVICE_CODE_SIZE,
  GP_MAX_WORK_ITEMS,
  GP_REFINE_GAS,
  GpWriter,
  blake2b256,
} from '@jam/domain';

/**
 * The blocks of this chainless system (docs/jip2.md, "Blocks"): block n is JAM timeslot n, the
 * n-th 6-second period since the JAM Common Era (GP 0.7.2 section 4.4: 1200 UTC on 1 January 2025;
 * slot period P = 6 s). Its header hash is Blake2b-256 of the ASCII tag `jam-prototype/block/v1`
 * followed by the slot as 4 little-endian bytes. The best block and the finalized block are both
 * the current slot; nothing forks, so nothing finalizes later than it is best.
 *
 * WARNING: clients keep header hashes; changing the tag or the encoding changes every block's hash.
 */
export const JAM_COMMON_ERA_MS = Date.UTC(2025, 0, 1, 12, 0, 0);

/** GP `P`: the slot period, ms. */
export const SLOT_PERIOD_MS = 6_000;

/** GP `H`: blocks of recent history; a state query may name any of the last H blocks (docs/jip2.md). */
export const RECENT_BLOCK_COUNT = 8;

/** GP `L`: the maximum age in slots of a lookup anchor; `Reportable.remaining_blocks` here (packages do not expire by age). */
export const MAX_LOOKUP_ANCHOR_AGE = 14_400;

/** The one virtual core this system reports (`core_count` 1): every package runs the same pipeline. */
export const CORE_COUNT = 1;

const BLOCK_TAG = new TextEncoder().encode('jam-prototype/block/v1');

/** A JIP-2 Block Descriptor: `header_hash` (base64 Hash) and `slot`. */
export interface BlockDescriptor {
  header_hash: string;
  slot: number;
}

/** The slot (GP timeslot, u32) of a wall-clock time `ms` (Unix ms); 0 before the JAM Common Era. */
export function slotAt(ms: number): number {
  return Math.max(0, Math.floor((ms - JAM_COMMON_ERA_MS) / SLOT_PERIOD_MS));
}

/** Unix ms at which `slot` starts. */
export function slotStartMs(slot: number): number {
  return JAM_COMMON_ERA_MS + slot * SLOT_PERIOD_MS;
}

/** The 32-byte header hash of block `slot` (see the module comment). */
export function headerHashOf(slot: number): Uint8Array {
  const w = new GpWriter();
  w.bytes(BLOCK_TAG);
  w.u32(slot, 'slot');
  return blake2b256(w.finish());
}

/** The Block Descriptor of `slot`. */
export function blockDescriptor(slot: number): BlockDescriptor {
  return { header_hash: toBase64(headerHashOf(slot)), slot };
}

/**
 * The slot of a header hash among the recent blocks (`current` and the RECENT_BLOCK_COUNT - 1
 * before it), or undefined when it names no such block.
 */
export function recentSlotOf(headerHash: Uint8Array, current: number): number | undefined {
  for (let s = current; s > current - RECENT_BLOCK_COUNT && s >= 0; s--) {
    if (Buffer.from(headerHashOf(s)).equals(headerHash)) return s;
  }
  return undefined;
}

/** RFC 4648 padded base64, the encoding of JIP-2 Blobs and Hashes. */
export function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/**
 * The service data of GP 0.7.2 state key C(255, s) (appendix D; field order and widths as the JAM
 * test vectors' `ServiceInfo`): version 0 (u8), code hash (32 bytes), balance, min_item_gas,
 * min_memo_gas, bytes, deposit_offset (u64 each), items, creation_slot, last_accumulation_slot,
 * parent_service (u32 each): 89 bytes. What this system has no notion of is 0 (docs/jip2.md).
 */
export function encodeServiceData(s: {
  codeHash: Uint8Array;
  minItemGas: bigint;
  minMemoGas: bigint;
  /** GP a_o, bytes */
  octets: bigint;
  /** GP a_i */
  items: number;
  creationSlot: number;
}): Uint8Array {
  const w = new GpWriter();
  w.u8(0, 'version');
  w.fixed(s.codeHash, 32, 'code_hash');
  w.u64(0n, 'balance');
  w.u64(s.minItemGas, 'min_item_gas');
  w.u64(s.minMemoGas, 'min_memo_gas');
  w.u64(s.octets, 'bytes');
  w.u64(0n, 'deposit_offset');
  w.u32(s.items, 'items');
  w.u32(s.creationSlot, 'creation_slot');
  w.u32(0, 'last_accumulation_slot');
  w.u32(0, 'parent_service');
  return w.finish();
}

/**
 * The `parameters` result (JIP-2 `{"V1": {...}}`): the GP 0.7.2 constants this system enforces
 * (libs/domain gp-constants), `val_count` = the attester count, one core, and the GP's full-spec
 * values for what it does not use (deposits, tickets, epochs, erasure coding; docs/jip2.md).
 */
export function chainParameters(attesterCount: number): { V1: Record<string, number> } {
  return {
    V1: {
      deposit_per_item: 10,
      deposit_per_byte: 1,
      deposit_per_account: 100,
      core_count: CORE_COUNT,
      min_turnaround_period: 19_200,
      epoch_period: 600,
      max_accumulate_gas: Number(GP_ACCUMULATE_GAS),
      max_is_authorized_gas: 50_000_000,
      max_refine_gas: Number(GP_REFINE_GAS),
      block_gas_limit: 3_500_000_000,
      recent_block_count: RECENT_BLOCK_COUNT,
      max_work_items: GP_MAX_WORK_ITEMS,
      max_dependencies: GP_MAX_DEPENDENCY_ITEMS,
      max_tickets_per_block: 16,
      max_lookup_anchor_age: MAX_LOOKUP_ANCHOR_AGE,
      tickets_attempts_number: 2,
      auth_window: 8,
      slot_period_sec: SLOT_PERIOD_MS / 1000,
      auth_queue_len: 80,
      rotation_period: 10,
      max_extrinsics: GP_MAX_PACKAGE_EXTRINSICS,
      availability_timeout: 5,
      val_count: attesterCount,
      max_authorizer_code_size: GP_MAX_AUTHORIZER_CODE_SIZE,
      max_input: GP_MAX_PACKAGE_SIZE,
      max_service_code_size: GP_MAX_SERVICE_CODE_SIZE,
      basic_piece_len: 684,
      max_imports: GP_MAX_PACKAGE_IMPORTS,
      segment_piece_count: 6,
      max_report_elective_data: GP_MAX_REPORT_OUTPUT_SIZE,
      transfer_memo_size: 128,
      max_exports: GP_MAX_PACKAGE_EXPORTS,
      epoch_tail_start: 500,
    },
  };
}
