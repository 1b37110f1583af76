/**
 * GP-valid guarantees and honest exports/imports (issue 9 items 1 and 5), end to end over HTTP
 * with real processes: PostgreSQL + Redis, one process for the gateway, attestation, accumulate
 * and janitor roles and one refine-worker process holding 3 attester keys (threshold 2).
 *
 * The checks do not go through the product's code: each report fetched from the API is decoded
 * by a minimal GP decoder written from the Gray Paper for this test (test/support/gp-report-reader.ts),
 * its hash is Blake2b-256 computed with hash-wasm directly, and every attestation is verified with
 * Node's own `crypto.verify` over `jam_guarantee ++ H(E(report))` (GP 0.7.2 eq. 11.26) under the
 * keys served by `GET /jam/attesters`.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createHash, createPublicKey, randomBytes, verify } from 'node:crypto';
import { Client } from 'pg';
import Redis from 'ioredis';
import { JamApiError, JamClient, type ReportInfo } from '@jam/client';
import { blake2b256, initHashing, packageHash, toHex, type WorkPackage } from '@jam/domain';
import { exampleServicePath } from '@jam/sandbox';
import { JamProcess, PROCESS_TEST_TIMEOUT_MS, freePort } from '../support/jam-server';
import { wordCountPackage } from '../support/fixtures';
import { deleteKeys } from '../support/redis';
import { readWorkReport } from '../support/gp-report-reader';
import { independentBlake2b256, nodeEd25519Key } from '../support/independent-crypto';

jest.setTimeout(PROCESS_TEST_TIMEOUT_MS);

const PG_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = 'redis://127.0.0.1:6379';
const SEGMENT = 4104;

const h256 = independentBlake2b256;

/** GP appendix E eq. E.4 for up to 4 segments, written out for this test. */
async function segmentsRootOf(segments: Buffer[]): Promise<Buffer> {
  const zero = Buffer.alloc(32);
  if (segments.length === 0) return zero;
  const leaves = await Promise.all(segments.map((s) => h256('leaf', s)));
  if (leaves.length === 1) return leaves[0]!;
  while (leaves.length < (leaves.length <= 2 ? 2 : 4)) leaves.push(zero);
  if (leaves.length === 2) return h256('node', leaves[0]!, leaves[1]!);
  return h256('node', await h256('node', leaves[0]!, leaves[1]!), await h256('node', leaves[2]!, leaves[3]!));
}

describe('GP guarantees and exports, end to end (3 attesters, threshold 2)', () => {
  const suffix = randomBytes(4).toString('hex');
  const dbName = `jam_gpguar_${suffix}`;
  const prefix = `jamgpguar${suffix}`;
  const token = `e2e-${randomBytes(16).toString('hex')}`;
  let tmp: string;
  let port: number;
  let admin: Client;
  let redis: Redis;
  let client: JamClient;
  const procs: JamProcess[] = [];
  const logs = () => procs.map((p, i) => `--- process ${i} ---\n${p.output.join('').slice(-4000)}`).join('\n');

  const env = (roles: string, extra: Record<string, string> = {}) => ({
    DATABASE_URL: `postgres://postgres@127.0.0.1:5432/${dbName}`,
    REDIS_URL,
    JAM_QUEUE_PREFIX: prefix,
    JAM_ROLES: roles,
    JAM_PORT: String(port),
    JAM_DATA_DIR: path.join(tmp, 'data'),
    JAM_BLOB_DIR: path.join(tmp, 'blobs'),
    JAM_KEYS_DIR: path.join(tmp, 'keys'),
    JAM_ALLOWED_TOKENS: `e2e=${createHash('sha256').update(token).digest('hex')}`,
    JAM_ATTESTERS: '3',
    JAM_ATTESTATION_THRESHOLD: '2',
    JAM_SANDBOX_POOL_SIZE: '1',
    ...extra,
  });

  async function register(name: string): Promise<{ id: number; code: Uint8Array }> {
    const code = new Uint8Array(fs.readFileSync(exampleServicePath(name)));
    const put = await client.putPreimage(code);
    const service = await client.createService({ code_hash: put.hash });
    return { id: service.id, code };
  }

  async function run(pkg: WorkPackage): Promise<{ hash: string; status: string; report: ReportInfo }> {
    const { hash } = await client.submitPackage(pkg);
    expect(hash).toBe(toHex(packageHash(pkg)));
    const done = await client.waitForPackage(hash, { timeoutMs: 600_000 }).catch((err: unknown) => {
      throw new Error(`${String(err)}\n${logs()}`);
    });
    return { hash, status: done.status, report: await client.getReport(hash) };
  }

  /** Every check of a served report that does not use project code; @returns the decoded report. */
  async function checkIndependently(r: ReportInfo) {
    const encoded = Buffer.from(r.encoded.slice(2), 'hex');
    const decoded = readWorkReport(encoded);
    const hash = await h256(encoded);
    expect(`0x${hash.toString('hex')}`).toBe(r.report_hash);
    expect(r.hash_format).toBe(2);
    expect(`0x${decoded.packageHash.toString('hex')}`).toBe(r.package_hash);
    // auth_output: layout tag 1, then the engine identity
    expect(decoded.authOutput[0]).toBe(1);
    expect(decoded.authOutput.toString('latin1')).toContain('jam-wasm-metered');
    const set = await client.attesters();
    expect(set.threshold).toBe(2);
    expect(set.attesters.map((a) => a.index)).toEqual([0, 1, 2]);
    const message = Buffer.concat([Buffer.from('jam_guarantee', 'ascii'), hash]);
    let valid = 0;
    for (const a of r.attestations) {
      const key = set.attesters.find((x) => x.index === a.attester_index)!.public_key;
      expect(verify(null, message, nodeEd25519Key(key), Buffer.from(a.signature.slice(2), 'hex'))).toBe(true);
      valid++;
    }
    expect(valid).toBeGreaterThanOrEqual(2);
    return decoded;
  }

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'jam-gpguar-'));
    port = await freePort();
    admin = new Client({ connectionString: PG_ADMIN_URL });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${dbName}`);
    redis = new Redis(REDIS_URL);
    await initHashing();
    // The gateway runs the migrations first; the refine worker then registers the 3 attester keys.
    procs.push(await JamProcess.start(env('gateway,attestation,accumulate-worker,janitor'), { port, timeoutMs: 60_000 }));
    procs.push(await JamProcess.start(env('refine-worker', { JAM_ATTESTER_INDEXES: '0,1,2' })));
    client = new JamClient({ baseUrl: `http://127.0.0.1:${port}`, token });
  }, PROCESS_TEST_TIMEOUT_MS);

  afterAll(async () => {
    await Promise.all(procs.map((p) => p.stop()));
    await deleteKeys(redis, prefix);
    redis.disconnect();
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await admin.end();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('a word-count package is accumulated; its report decodes with an independent GP decoder, hashes to H(E(report)) and every guarantee verifies under Node with the served keys', async () => {
    const wc = await register('word-count');
    const { status, report } = await run(wordCountPackage(wc.id, blake2b256(wc.code), 'one two three four'));
    expect(status).toBe('accumulated');
    expect(report.verdict).toBe('attested');
    const decoded = await checkIndependently(report);
    expect(decoded.results).toHaveLength(1);
    expect(decoded.results[0]!.resultCode).toBe(0);
    expect(decoded.results[0]!.output!.readBigUInt64LE(0)).toBe(4n);
    expect(decoded.exportsCount).toBe(0);
    expect(decoded.exportsRoot.equals(Buffer.alloc(32))).toBe(true);
    // the served attester key is the refine process's own
    const pem = fs.readFileSync(path.join(tmp, 'keys', 'attester-0.pem'));
    const own = createPublicKey(pem).export({ format: 'der', type: 'spki' }).subarray(12);
    expect((await client.attesters()).attesters[0]!.public_key).toBe(`0x${own.toString('hex')}`);
  });

  it('export_count enforced: word-count declaring 3 exports (it exports none) gives bad_exports and 3 zero segments', async () => {
    const wc = await register('word-count');
    const pkg = wordCountPackage(wc.id, blake2b256(wc.code), 'bad exports');
    pkg.items[0]!.export_count = 3;
    const { status, report } = await run(pkg);
    expect(status).toBe('accumulated');
    const decoded = await checkIndependently(report);
    expect(decoded.results[0]!.resultCode).toBe(3);
    expect(decoded.results[0]!.exports).toBe(3n);
    expect(decoded.exportsCount).toBe(3);
    const zeros = [0, 1, 2].map(() => Buffer.alloc(SEGMENT));
    expect(decoded.exportsRoot.equals(await segmentsRootOf(zeros))).toBe(true);
  });

  it('exported segments are held and imported by segments root or package hash; unknown imports and prerequisites are refused with 422', async () => {
    const seg = await register('segments');
    const codeHash = blake2b256(seg.code);
    const payload = Buffer.from(`segment payload ${suffix}`);
    const exporter = wordCountPackage(seg.id, codeHash, '');
    exporter.items[0]!.payload = new Uint8Array(payload);
    exporter.items[0]!.export_count = 1;
    const a = await run(exporter);
    expect(a.status).toBe('accumulated');
    const decodedA = await checkIndependently(a.report);
    const segment = Buffer.concat([payload, Buffer.alloc(SEGMENT - payload.length)]);
    expect(decodedA.exportsCount).toBe(1);
    expect(decodedA.exportsRoot.equals(await segmentsRootOf([segment]))).toBe(true);

    // by segments root
    const byRoot = wordCountPackage(seg.id, codeHash, '');
    byRoot.items[0]!.import_segments = [{ tree_root: new Uint8Array(decodedA.exportsRoot), index: 0 }];
    const b = await run(byRoot);
    expect(b.status).toBe('accumulated');
    const decodedB = await checkIndependently(b.report);
    expect(decodedB.results[0]!.resultCode).toBe(0);
    expect(decodedB.results[0]!.output!.equals(segment.subarray(0, 32))).toBe(true);
    expect(decodedB.results[0]!.imports).toBe(1n);

    // by package hash (bit 15 of the index): the report's segment-root lookup names the exporter
    const byPackage = wordCountPackage(seg.id, codeHash, '');
    byPackage.items[0]!.import_segments = [{ tree_root: Buffer.from(a.hash.slice(2), 'hex'), index: 0x8000 }];
    const c = await run(byPackage);
    expect(c.status).toBe('accumulated');
    const decodedC = await checkIndependently(c.report);
    expect(decodedC.results[0]!.output!.equals(segment.subarray(0, 32))).toBe(true);
    expect(decodedC.segmentRootLookup.map((l) => [l.packageHash.toString('hex'), l.segmentTreeRoot.toString('hex')])).toEqual([
      [a.hash.slice(2), decodedA.exportsRoot.toString('hex')],
    ]);

    // refused at submission: an invented root, an index past the exports, an unknown prerequisite
    const refused = async (pkg: WorkPackage) => {
      const err = await client.submitPackage(pkg).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(JamApiError);
      return err as JamApiError;
    };
    const invented = wordCountPackage(seg.id, codeHash, '');
    invented.items[0]!.import_segments = [{ tree_root: new Uint8Array(randomBytes(32)), index: 0 }];
    const e1 = await refused(invented);
    expect([e1.status, e1.code, e1.details?.['path']]).toEqual([422, 'unknown_import_segment', 'items[0].import_segments[0]']);
    expect(e1.message).toContain(toHex(invented.items[0]!.import_segments[0]!.tree_root));
    const pastEnd = wordCountPackage(seg.id, codeHash, '');
    pastEnd.items[0]!.import_segments = [{ tree_root: new Uint8Array(decodedA.exportsRoot), index: 1 }];
    expect((await refused(pastEnd)).code).toBe('unknown_import_segment');
    const prereq = wordCountPackage(seg.id, codeHash, '');
    prereq.context.prerequisites = [new Uint8Array(randomBytes(32))];
    const e3 = await refused(prereq);
    expect([e3.status, e3.code, e3.details?.['path']]).toEqual([422, 'unknown_prerequisite', 'context.prerequisites[0]']);
    // an accumulated prerequisite is accepted
    const withPrereq = wordCountPackage(seg.id, codeHash, '');
    withPrereq.context.prerequisites = [Buffer.from(a.hash.slice(2), 'hex')];
    expect((await run(withPrereq)).status).toBe('accumulated');
  });
});
