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

  /** SHA-256 of the bearer token that acted (never the token; the digest form tokens are configured in), 32 bytes; null if no token was presented. */
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
