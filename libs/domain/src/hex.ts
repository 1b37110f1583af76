import { DomainError } from './domain-error';

const HEX_DIGITS = '0123456789abcdef';
const HEX_BODY = /^[0-9a-fA-F]*$/;

/**
 * Lowercase hex with a `0x` prefix, the wire form of every byte field (docs/architecture.md section 2).
 * `toHex(new Uint8Array([1, 171]))` is `'0x01ab'`; an empty array gives `'0x'`.
 */
export function toHex(bytes: Uint8Array): string {
  let out = '0x';
  for (const b of bytes) out += HEX_DIGITS[b >> 4]! + HEX_DIGITS[b & 15]!;
  return out;
}

/**
 * Strict hex decoding: the `0x` prefix is required, the digit count must be even and only
 * `[0-9a-fA-F]` are allowed. With `expectedLength` (bytes) the decoded length must match.
 *
 * @throws DomainError('invalid_hex') naming the problem; `details` carries `expectedLength`.
 */
export function fromHex(s: string, expectedLength?: number): Uint8Array {
  if (typeof s !== 'string') throw new DomainError('invalid_hex', 'hex value must be a string');
  if (!s.startsWith('0x')) throw new DomainError('invalid_hex', 'hex value must start with 0x');
  const body = s.slice(2);
  if (body.length % 2 !== 0) throw new DomainError('invalid_hex', 'hex value must have an even number of digits');
  if (!HEX_BODY.test(body)) throw new DomainError('invalid_hex', 'hex value contains a non-hex character');
  const len = body.length / 2;
  if (expectedLength !== undefined && len !== expectedLength) {
    throw new DomainError('invalid_hex', `hex value must be ${expectedLength} bytes, got ${len}`, { expectedLength, length: len });
  }
  const out = new Uint8Array(len);
  for (let i = 0; i < len; i++) out[i] = parseInt(body.slice(2 * i, 2 * i + 2), 16);
  return out;
}
