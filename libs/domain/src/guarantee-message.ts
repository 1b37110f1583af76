/*
 * WARNING: signature format. Changing the context string or the layout invalidates every
 * stored attestation and splits attesters running different versions.
 */
import { DomainError } from './domain-error';
import type { Hash } from './work-types';

/** ASCII `jam_guarantee` (13 bytes, no `$` prefix): the GP 0.7.2 guarantee signing context X_G (appendix I.4.5). */
export const GUARANTEE_CONTEXT: Uint8Array = new TextEncoder().encode('jam_guarantee');

/**
 * The Ed25519 message an attester signs for a report: `jam_guarantee` ++ reportHash (45 bytes),
 * GP 0.7.2 eq. 11.26, where the report hash is H(E(report)) (`reportHash`; stored reports of
 * hash format 1 keep their legacy hash, which their signatures cover the same way).
 *
 * @throws DomainError('invalid_encoding') when `reportHash` is not 32 bytes.
 */
export function guaranteeMessage(reportHash: Hash): Uint8Array {
  if (!(reportHash instanceof Uint8Array) || reportHash.length !== 32) {
    throw new DomainError('invalid_encoding', 'reportHash: must be 32 bytes', { path: 'reportHash' });
  }
  const out = new Uint8Array(GUARANTEE_CONTEXT.length + 32);
  out.set(GUARANTEE_CONTEXT, 0);
  out.set(reportHash, GUARANTEE_CONTEXT.length);
  return out;
}
