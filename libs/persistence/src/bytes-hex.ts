import { DomainError } from '@jam/domain';

const HASH_HEX = /^0x[0-9a-fA-F]{64}$/;
const ANY_HEX = /^0x(?:[0-9a-fA-F]{2})*$/;

/**
 * Converts a `0x`-prefixed 32-byte hex hash (64 hex digits, either case) to the 32 bytes
 * stored in `bytea` columns.
 * @throws DomainError `invalid_hex` when the string is not exactly `0x` + 64 hex digits.
 */
export function hashToBytes(hex: string, field = 'hash'): Buffer {
  if (!HASH_HEX.test(hex)) {
    throw new DomainError('invalid_hex', `${field} must be 0x followed by 64 hex digits`, { field });
  }
  return Buffer.from(hex.slice(2), 'hex');
}

/**
 * Converts `0x`-prefixed hex of any even length (for example a 64-byte signature) to bytes.
 * @throws DomainError `invalid_hex` when the string is not `0x` + an even number of hex digits,
 *   or when `expectedBytes` is given and the length differs.
 */
export function hexToBytes(hex: string, field: string, expectedBytes?: number): Buffer {
  if (!ANY_HEX.test(hex) || (expectedBytes !== undefined && hex.length !== 2 + expectedBytes * 2)) {
    const want = expectedBytes === undefined ? 'an even number of' : `${expectedBytes * 2}`;
    throw new DomainError('invalid_hex', `${field} must be 0x followed by ${want} hex digits`, { field });
  }
  return Buffer.from(hex.slice(2), 'hex');
}

/** Lowercase `0x` hex of a byte string: the only hash form the repository API returns. */
export function bytesToHex(bytes: Uint8Array): string {
  return '0x' + Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** A plain `Uint8Array` view of a driver `Buffer`, so callers never depend on Node's Buffer API. */
export function toUint8Array(buf: Uint8Array): Uint8Array {
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** A `Buffer` view (no copy) of caller bytes, which the `pg` driver sends as `bytea`. */
export function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
