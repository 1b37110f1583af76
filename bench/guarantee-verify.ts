/**
 * Cost of guarantee verification under ZIP 215 (issue 9 item 1): the old strict rule (canonical
 * encodings and small-order checks, then OpenSSL) vs `verifyGuarantee` on honest signatures (the
 * OpenSSL fast path), on signatures OpenSSL refuses that ZIP 215 accepts (a torsion R: the
 * noble point-arithmetic path) and on forged signatures that every rule refuses (the cost an
 * attacker can make a verifier pay per bad signature). Interleaved rounds, median per second.
 * Run: npm run build && npm run bench -- guarantee-verify [rounds=5] [per-round=2000]
 */
import * as crypto from 'node:crypto';
import { guaranteeMessage } from '@jam/domain';
import {
  ED25519_L,
  isCanonicalPointEncoding,
  isCanonicalScalar,
  isSmallOrderPointEncoding,
  publicKeyFromRaw,
  rawPublicKey,
  signGuarantee,
  verifyGuarantee,
  type AttesterKey,
} from '@jam/attest';

const ROUNDS = Number(process.argv[2] ?? 5);
const N = Number(process.argv[3] ?? 2000);

function strictVerify(publicKey: Uint8Array, h: Uint8Array, signature: Uint8Array): boolean {
  if (!isCanonicalScalar(signature.subarray(32)) || !isCanonicalPointEncoding(publicKey) || isSmallOrderPointEncoding(publicKey)) return false;
  const r = signature.subarray(0, 32);
  if (!isCanonicalPointEncoding(r) || isSmallOrderPointEncoding(r)) return false;
  try {
    return crypto.verify(null, guaranteeMessage(h), publicKeyFromRaw(publicKey), signature);
  } catch {
    return false;
  }
}

const le = (b: Uint8Array) => b.reduceRight((n, x) => (n << 8n) | BigInt(x), 0n);
const le32 = (n: bigint) => Uint8Array.from({ length: 32 }, (_, i) => Number((n >> BigInt(8 * i)) & 0xffn));

/** R = identity, S = k*a: valid under ZIP 215 and OpenSSL's cofactorless rule too; non-canonical R (y = p + 1) only under ZIP 215. */
function torsionSignature(key: AttesterKey, h: Uint8Array): Uint8Array {
  const der = key.privateKey.export({ format: 'der', type: 'pkcs8' });
  const d = crypto
    .createHash('sha512')
    .update(der.subarray(der.length - 32))
    .digest();
  d[0]! &= 248;
  d[31] = (d[31]! & 127) | 64;
  const r = Buffer.from('eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', 'hex');
  const k = le(crypto.createHash('sha512').update(r).update(key.publicKey).update(guaranteeMessage(h)).digest()) % ED25519_L;
  return new Uint8Array(Buffer.concat([r, le32((k * le(d.subarray(0, 32))) % ED25519_L)]));
}

function rate(fn: (i: number) => boolean, expect: boolean): number {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) if (fn(i) !== expect) throw new Error('unexpected verification result');
  return N / (Number(process.hrtime.bigint() - t0) / 1e9);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function main(): void {
  const privateKey = crypto.generateKeyPairSync('ed25519').privateKey;
  const key: AttesterKey = { index: 0, privateKey, publicKey: rawPublicKey(privateKey) };
  const hashes = Array.from({ length: N }, (_, i) => new Uint8Array(crypto.createHash('sha256').update(`r${i}`).digest()));
  const honest = hashes.map((h) => signGuarantee(key, h));
  const torsion = hashes.map((h) => torsionSignature(key, h));
  const forged = honest.map((s) => Uint8Array.from(s, (b, i) => (i === 40 ? b ^ 1 : b)));
  const cases = {
    'strict rule (before), honest': () => rate((i) => strictVerify(key.publicKey, hashes[i]!, honest[i]!), true),
    'ZIP 215, honest (OpenSSL fast path)': () => rate((i) => verifyGuarantee(key.publicKey, hashes[i]!, honest[i]!), true),
    'ZIP 215, non-canonical torsion R (noble path)': () => rate((i) => verifyGuarantee(key.publicKey, hashes[i]!, torsion[i]!), true),
    'strict rule (before), forged': () => rate((i) => strictVerify(key.publicKey, hashes[i]!, forged[i]!), false),
    'ZIP 215, forged (both paths)': () => rate((i) => verifyGuarantee(key.publicKey, hashes[i]!, forged[i]!), false),
  };
  const results = new Map<string, number[]>(Object.keys(cases).map((k) => [k, []]));
  for (let round = 0; round < ROUNDS; round++) for (const [name, run] of Object.entries(cases)) results.get(name)!.push(run());
  console.log(`guarantee verification, ${ROUNDS} interleaved rounds of ${N}, median per second:`);
  for (const [name, xs] of results) console.log(`  ${name.padEnd(48)} ${Math.round(median(xs)).toLocaleString('en')} /s`);
}

main();
