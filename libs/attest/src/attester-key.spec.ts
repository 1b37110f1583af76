import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadOrCreateAttesterKeys, publicKeyFromRaw, rawPublicKey } from './attester-key';

describe('attester keys', () => {
  let dir: string;
  beforeEach(() => {
    dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'jam-keys-')), 'keys');
  });
  afterEach(() => fs.rmSync(path.dirname(dir), { recursive: true, force: true }));

  it('creates one PKCS#8 PEM per index, mode 0600, in a 0700 directory, and nothing else', () => {
    const keys = loadOrCreateAttesterKeys(dir, [0, 2]);
    expect(keys.map((k) => k.index)).toEqual([0, 2]);
    expect(fs.readdirSync(dir).sort()).toEqual(['attester-0.pem', 'attester-2.pem']);
    expect(fs.statSync(dir).mode & 0o777).toBe(0o700);
    for (const f of fs.readdirSync(dir)) {
      expect(fs.statSync(path.join(dir, f)).mode & 0o777).toBe(0o600);
      expect(fs.readFileSync(path.join(dir, f), 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    }
    for (const k of keys) {
      expect(k.publicKey.length).toBe(32);
      expect(k.privateKey.asymmetricKeyType).toBe('ed25519');
    }
    expect(Buffer.from(keys[0]!.publicKey).equals(Buffer.from(keys[1]!.publicKey))).toBe(false);
  });

  it('reloads identical keys on later calls without rewriting the files', () => {
    const first = loadOrCreateAttesterKeys(dir, [0, 1]);
    const before = fs.readdirSync(dir).map((f) => [f, fs.readFileSync(path.join(dir, f), 'utf8'), fs.statSync(path.join(dir, f)).mtimeMs] as const);
    const second = loadOrCreateAttesterKeys(dir, [0, 1]);
    const after = fs.readdirSync(dir).map((f) => [f, fs.readFileSync(path.join(dir, f), 'utf8'), fs.statSync(path.join(dir, f)).mtimeMs] as const);
    expect(after).toEqual(before);
    for (let i = 0; i < 2; i++) {
      expect(Buffer.from(second[i]!.publicKey).equals(Buffer.from(first[i]!.publicKey))).toBe(true);
      // The reloaded private key signs what the first public key verifies.
      const msg = Buffer.from(`m${i}`);
      expect(crypto.verify(null, msg, publicKeyFromRaw(first[i]!.publicKey), crypto.sign(null, msg, second[i]!.privateKey))).toBe(true);
    }
  });

  it('adds a missing index without touching existing keys', () => {
    const [k0] = loadOrCreateAttesterKeys(dir, [0]);
    const [again, k1] = loadOrCreateAttesterKeys(dir, [0, 1]);
    expect(Buffer.from(again!.publicKey).equals(Buffer.from(k0!.publicKey))).toBe(true);
    expect(k1!.index).toBe(1);
  });

  it('refuses a key file that is not Ed25519', () => {
    fs.mkdirSync(dir, { recursive: true });
    const { privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
    fs.writeFileSync(path.join(dir, 'attester-0.pem'), privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
    expect(() => loadOrCreateAttesterKeys(dir, [0])).toThrow(/not an Ed25519 key/);
  });

  it('round-trips raw public keys through KeyObjects and refuses other lengths', () => {
    const [k] = loadOrCreateAttesterKeys(dir, [0]);
    expect(Buffer.from(rawPublicKey(publicKeyFromRaw(k!.publicKey))).equals(Buffer.from(k!.publicKey))).toBe(true);
    expect(() => publicKeyFromRaw(new Uint8Array(31))).toThrow(/32 bytes/);
  });

  it('refuses a key file readable by other users (sandbox executors run as one), allows group-readable Secret mounts', () => {
    loadOrCreateAttesterKeys(dir, [0]);
    const file = path.join(dir, 'attester-0.pem');
    fs.chmodSync(file, 0o644);
    expect(() => loadOrCreateAttesterKeys(dir, [0])).toThrow(/mode 644: attester keys must not be readable by other users \(chmod 600/);
    fs.chmodSync(file, 0o440);
    expect(loadOrCreateAttesterKeys(dir, [0])).toHaveLength(1);
  });

  it('opens only the key files of its own indexes: the others may be absent or anything at all', () => {
    const [k0] = loadOrCreateAttesterKeys(dir, [0]);
    fs.writeFileSync(path.join(dir, 'attester-1.pem'), 'not a key', { mode: 0o644 });
    const [again] = loadOrCreateAttesterKeys(dir, [0]);
    expect(Buffer.from(again!.publicKey).equals(Buffer.from(k0!.publicKey))).toBe(true);
    expect(fs.readdirSync(dir).sort()).toEqual(['attester-0.pem', 'attester-1.pem']);
  });
});
