import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A JSON value as stored in a `jsonb` column. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** Row of `audit_log`: one administrative or security-relevant action. Append-only. */
@Entity({ name: 'audit_log' })
export class AuditLogEntity {
  /** bigint identity as a decimal string. */
  @PrimaryColumn({ type: 'bigint' })
  id!: string;

  @Column({ type: 'timestamptz' })
  at!: Date;

  /** Blake2b-256 of the bearer token that acted (never the token), 32 bytes; null if anonymous. */
  @Column({ type: 'bytea', name: 'actor_token_hash', nullable: true })
  actorTokenHash!: Buffer | null;

  @Column({ type: 'text' })
  action!: string;

  @Column({ type: 'text', nullable: true })
  target!: string | null;

  @Column({ type: 'text' })
  outcome!: string;

  @Column({ type: 'jsonb' })
  details!: { [key: string]: JsonValue };
}
