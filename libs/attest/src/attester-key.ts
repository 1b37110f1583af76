import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** An attester's Ed25519 key pair. `publicKey` is the raw 32-byte key (RFC 8032). */
export interface AttesterKey {
  index: number;
  publicKey: Uint8Array;
  privateKey: crypto.KeyObject;
}

// DER prefix of an Ed25519 SubjectPublicKeyInfo; the raw 32-byte key follows (RFC 8410).
const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/** Raw 32-byte public key of an Ed25519 KeyObject. */
export function rawPublicKey(key: crypto.KeyObject): Uint8Array {
  const der = crypto.createPublicKey(key).export({ format: 'der', type: 'spki' });
  return new Uint8Array(der.subarray(SPKI_ED25519_PREFIX.length));
}

/** KeyObject for a raw 32-byte Ed25519 public key. @throws Error if not 32 bytes. */
export function publicKeyFromRaw(raw: Uint8Array): crypto.KeyObject {
  if (raw.length !== 32) throw new Error(`Ed25519 public key must be 32 bytes, got ${raw.length}`);
  return crypto.createPublicKey({ key: Buffer.concat([SPKI_ED25519_PREFIX, raw]), format: 'der', type: 'spki' });
}

/**
 * Loads attester keys `attester-<i>.pem` (PKCS#8) for the given indexes from `dir`, creating
 * missing ones (mode 0600) so they persist across restarts. Keys are never logged.
 * @throws on unreadable or non-Ed25519 key files.
 */
export function loadOrCreateAttesterKeys(dir: string, indexes: readonly number[]): AttesterKey[] {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  return indexes.map((index) => {
    const file = path.join(dir, `attester-${index}.pem`);
    let privateKey: crypto.KeyObject;
    if (fs.existsSync(file)) {
      privateKey = crypto.createPrivateKey(fs.readFileSync(file));
      if (privateKey.asymmetricKeyType !== 'ed25519') throw new Error(`${file} is not an Ed25519 key`);
    } else {
      privateKey = crypto.generateKeyPairSync('ed25519').privateKey;
      const tmp = `${file}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
      fs.renameSync(tmp, file);
    }
    return { index, privateKey, publicKey: rawPublicKey(privateKey) };
  });
}
