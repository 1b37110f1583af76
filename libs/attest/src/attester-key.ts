import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LRUCache } from 'lru-cache';

/** An attester's Ed25519 key pair. `publicKey` is the raw 32-byte key (RFC 8032). */
export interface AttesterKey {
  index: number;
  publicKey: Uint8Array;
  privateKey: crypto.KeyObject;
}

// DER prefix of an Ed25519 SubjectPublicKeyInfo; the raw 32-byte key follows (RFC 8410).
const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/**
 * Raw 32-byte public key of an Ed25519 KeyObject (private or public).
 * @throws Error when the key is not Ed25519.
 */
export function rawPublicKey(key: crypto.KeyObject): Uint8Array {
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`expected an Ed25519 key, got ${key.asymmetricKeyType ?? key.type}`);
  const pub = key.type === 'public' ? key : crypto.createPublicKey(key);
  const der = pub.export({ format: 'der', type: 'spki' });
  return new Uint8Array(der.subarray(SPKI_ED25519_PREFIX.length));
}

/** KeyObject for a raw 32-byte Ed25519 public key. @throws Error if not 32 bytes. */
export function publicKeyFromRaw(raw: Uint8Array): crypto.KeyObject {
  if (raw.length !== 32) throw new Error(`Ed25519 public key must be 32 bytes, got ${raw.length}`);
  return crypto.createPublicKey({ key: Buffer.concat([SPKI_ED25519_PREFIX, raw]), format: 'der', type: 'spki' });
}

/** Most parsed public keys {@link cachedPublicKeyFromRaw} keeps (entries; the attester set is far smaller). */
export const PUBLIC_KEY_CACHE_ENTRIES = 1024;

// raw key (hex) -> KeyObject: a pure function of the 32 bytes, so entries never go stale.
const parsedPublicKeys = new LRUCache<string, crypto.KeyObject>({ max: PUBLIC_KEY_CACHE_ENTRIES });

/**
 * {@link publicKeyFromRaw} memoised by the raw bytes (least recently used of at most
 * {@link PUBLIC_KEY_CACHE_ENTRIES} kept): verifying every attestation rebuilt the key object from its
 * DER encoding (6.7% of the attestation process, issue 8). The KeyObject is immutable.
 * @throws Error if not 32 bytes.
 */
export function cachedPublicKeyFromRaw(raw: Uint8Array): crypto.KeyObject {
  if (raw.length !== 32) throw new Error(`Ed25519 public key must be 32 bytes, got ${raw.length}`);
  const id = Buffer.from(raw.buffer, raw.byteOffset, raw.length).toString('hex');
  let key = parsedPublicKeys.get(id);
  if (key === undefined) {
    key = publicKeyFromRaw(raw);
    parsedPublicKeys.set(id, key);
  }
  return key;
}

/**
 * Loads attester keys `attester-<i>.pem` (PKCS#8 PEM) for the given indexes from `dir`, creating
 * missing ones (file mode 0600, directory 0700 when created) so they persist across restarts.
 * Creation is create-if-absent (hard link of a fully written temp file), so processes starting
 * together on a shared `dir` all end up with the key on disk, never one each. Keys are never logged.
 * Only the files of `indexes` are opened: a refine process serving attester 0 needs (and reads)
 * attester-0.pem alone, the others may be absent (docs/security.md, "Attester keys").
 * @throws on unreadable or non-Ed25519 key files, and on a key file any user may read (mode bits
 *   for "other" set, e.g. 0644): sandbox executors run as an unprivileged user (docs/sandbox.md)
 *   and must not be able to open a key. Group bits are allowed (Kubernetes Secret mounts are 0440).
 */
export function loadOrCreateAttesterKeys(dir: string, indexes: readonly number[]): AttesterKey[] {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  return indexes.map((index) => {
    const file = path.join(dir, `attester-${index}.pem`);
    if (!fs.existsSync(file)) createKeyFileIfAbsent(file);
    const mode = fs.statSync(file).mode & 0o777;
    if ((mode & 0o007) !== 0) throw new Error(`${file} has mode ${mode.toString(8)}: attester keys must not be readable by other users (chmod 600 ${file})`);
    const privateKey = crypto.createPrivateKey(fs.readFileSync(file));
    if (privateKey.asymmetricKeyType !== 'ed25519') throw new Error(`${file} is not an Ed25519 key`);
    // A = aB with a clamped secret scalar: never a small-order key (docs/security.md, "Guarantee signatures").
    return { index, privateKey, publicKey: rawPublicKey(privateKey) };
  });
}

/** Writes a new Ed25519 key to `file` unless one appeared meanwhile (EEXIST keeps the existing one). */
function createKeyFileIfAbsent(file: string): void {
  const pem = crypto.generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' });
  const tmp = `${file}.${process.pid}.${crypto.randomBytes(6).toString('hex')}.tmp`;
  const fd = fs.openSync(tmp, 'wx', 0o600);
  try {
    fs.writeFileSync(fd, pem);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  try {
    fs.linkSync(tmp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}
