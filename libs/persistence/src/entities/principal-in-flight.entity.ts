import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * Row of `principal_in_flight`: one of 16 shards of a submitter's in-flight counters (packages in
 * `pending`..`accumulating` and the sum of their declared refine gas), kept exact by the trigger
 * `work_package_in_flight_count` (schema owner: migrations/1769000000000-in-flight-counters.ts).
 * Read only by summing a principal's shards; never written by application code.
 */
@Entity({ name: 'principal_in_flight' })
export class PrincipalInFlightEntity {
  @PrimaryColumn({ type: 'text' })
  principal!: string;

  /** First byte of the package hash mod 16. */
  @PrimaryColumn({ type: 'smallint' })
  shard!: number;

  /** int8 arrives from `pg` as a decimal string. */
  @Column({ type: 'bigint' })
  packages!: string;

  /** Gas; numeric arrives from `pg` as a decimal string. */
  @Column({ type: 'numeric', name: 'refine_gas' })
  refineGas!: string;
}
