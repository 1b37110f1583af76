import { Column, Entity, PrimaryColumn } from 'typeorm';

/** Row of `gp_account`: a GP 0.7.2 service account's fields (section 9); u64 values as decimal strings. (migration 1770500000000) */
@Entity({ name: 'gp_account' })
export class GpAccountEntity {
  @PrimaryColumn({ type: 'bigint', name: 'service_id' })
  serviceId!: string;

  /** The tenant (`service.owner`) whose accumulations see this account; accounts `new` creates get their creator's. */
  @Column({ type: 'text', name: 'owner' })
  owner!: string;

  @Column({ type: 'bytea', name: 'code_hash' })
  codeHash!: Buffer;

  @Column({ type: 'numeric', name: 'balance', precision: 20, scale: 0 })
  balance!: string;

  @Column({ type: 'numeric', name: 'min_item_gas', precision: 20, scale: 0 })
  minItemGas!: string;

  @Column({ type: 'numeric', name: 'min_memo_gas', precision: 20, scale: 0 })
  minMemoGas!: string;

  @Column({ type: 'numeric', name: 'bytes', precision: 20, scale: 0 })
  bytes!: string;

  @Column({ type: 'numeric', name: 'deposit_offset', precision: 20, scale: 0 })
  depositOffset!: string;

  @Column({ type: 'bigint', name: 'items' })
  items!: string;

  @Column({ type: 'bigint', name: 'creation_slot' })
  creationSlot!: string;

  @Column({ type: 'bigint', name: 'last_accumulation_slot' })
  lastAccumulationSlot!: string;

  @Column({ type: 'bigint', name: 'parent_service' })
  parentService!: string;
}
