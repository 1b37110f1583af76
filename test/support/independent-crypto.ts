import { createPublicKey, type KeyObject } from 'node:crypto';
import { blake2b } from 'hash-wasm';

/**
 * Blake2b-256 (RFC 7693, unkeyed, 32-byte digest) of the concatenated parts (strings as ASCII),
 * by hash-wasm directly: not through libs/domain, so a test can check the product's hashes.
 */
export async function independentBlake2b256(...parts: (Uint8Array | string)[]): Promise<Buffer> {
  const data = Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'ascii') : Buffer.from(p))));
  return Buffer.from(await blake2b(data, 256), 'hex');
}

/**
 * A raw 32-byte Ed25519 public key (`0x` + 64 hex digits, as `GET /jam/attesters` serves it) as a
 * Node KeyObject, through JWK (RFC 8037), for `crypto.verify(null, message, key, signature)`.
 * @throws Error from Node when the key is not 32 bytes
 */
export function nodeEd25519Key(publicKeyHex: string): KeyObject {
  const x = Buffer.from(publicKeyHex.replace(/^0x/, ''), 'hex').toString('base64url');
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' });
}
