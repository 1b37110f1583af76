/**
 * Issue 9 items 2 and 3 end to end: a PVM service (a JAM service blob, not WebAssembly) uploaded,
 * registered through the real gateway and refined, attested (3 attesters, threshold 2) and
 * accumulated by the real pipeline (one production-mode process, PostgreSQL + Redis, every role).
 * Each report fetched from the API is checked without project code (`checkIndependently`):
 * decoded and re-encoded by typeberry (a second GP implementation), hashed by hash-wasm, its
 * engine identity read from auth_output by hand, and every guarantee verified by Node's Ed25519
 * over `jam_guarantee` ++ H(E(report)) with the keys of `GET /jam/attesters`. A service using the
 * GP refine host calls (`fetch`, `lookup`, `export`) exports a segment that a later package
 * imports; a blob that is neither format is refused with 422 `invalid_code` and its reason.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { verify } from 'node:crypto';
import { JamClient, type ReportInfo } from '@jam/client';
import { blake2b256, fromHex, GP_PROTOCOL_VERSION, GP_SEGMENT_SIZE, toHex, type WorkPackage } from '@jam/domain';
import { PVM_ENGINE_IDENTITY } from '@jam/sandbox';
import { PROCESS_TEST_TIMEOUT_MS, REPO_ROOT, api } from '../support/jam-server';
import { wordCountPackage } from '../support/fixtures';
import { independentBlake2b256, nodeEd25519Key } from '../support/independent-crypto';
import { startPipelineProcess, type PipelineProcess } from '../support/pipeline-process';
import { decodeReportWithTypeberry, type TypeberryReport } from '../support/typeberry-report';
import { echoService, PREIMAGE_EXPORT_LAYOUT, preimageExportService } from '../../libs/sandbox/test/pvm-service.builder';

jest.setTimeout(PROCESS_TEST_TIMEOUT_MS);

const TEST_SERVICE = path.join(REPO_ROOT, 'test/fixtures/jam-vectors/pvm-services/test-service.jam');

describe('PVM services through the pipeline', () => {
  let pipeline: PipelineProcess;
  let client: JamClient;

  beforeAll(async () => {
    pipeline = await startPipelineProcess('pvm');
    client = pipeline.client;
  });

  afterAll(async () => {
    await pipeline?.stop();
  });

  const finish = (pkg: WorkPackage) => pipeline.finish(pkg);

  /**
   * Every check of a served report that does not go through project code: typeberry decodes
   * E(report) and re-encodes it byte for byte; Blake2b-256 of those bytes (typeberry's and
   * hash-wasm's) is the served report hash; the engine identity is read from auth_output by hand;
   * and each attestation verifies under Node's Ed25519 over `jam_guarantee` ++ H(E(report))
   * (GP 0.7.2 eq. 11.26) with the key `GET /jam/attesters` serves for its attester.
   * @returns the report as typeberry decoded it
   */
  async function checkIndependently(r: ReportInfo, packageHash: string): Promise<TypeberryReport> {
    const decoded = decodeReportWithTypeberry(r.encoded);
    expect(decoded.gp_version).toBe(GP_PROTOCOL_VERSION);
    expect(decoded.reencoded_equal).toBe(true);
    const hash = await independentBlake2b256(Buffer.from(r.encoded.slice(2), 'hex'));
    expect(`0x${hash.toString('hex')}`).toBe(r.report_hash);
    expect(decoded.blake2b256).toBe(r.report_hash);
    expect(r.hash_format).toBe(2);
    expect(decoded.package_spec.hash).toBe(packageHash);
    // auth_output = 0x01 ++ ↕name ++ ↕version ++ E4(cost table) (docs/codec.md), read by hand
    const auth = Buffer.from(decoded.auth_output.slice(2), 'hex');
    expect(auth[0]).toBe(1);
    const nameLength = auth[1]!;
    const versionLength = auth[2 + nameLength]!;
    expect(auth.length).toBe(3 + nameLength + versionLength + 4);
    expect({
      name: auth.subarray(2, 2 + nameLength).toString('utf8'),
      version: auth.subarray(3 + nameLength, 3 + nameLength + versionLength).toString('utf8'),
      cost_table_version: auth.readUInt32LE(3 + nameLength + versionLength),
    }).toEqual({ ...PVM_ENGINE_IDENTITY });

    const set = await client.attesters();
    expect([set.attester_count, set.threshold]).toEqual([3, 2]);
    const message = Buffer.concat([Buffer.from('jam_guarantee', 'ascii'), hash]);
    const signers = new Set<number>();
    for (const a of r.attestations) {
      const key = set.attesters.find((x) => x.index === a.attester_index)!.public_key;
      expect(verify(null, message, nodeEd25519Key(key), Buffer.from(a.signature.slice(2), 'hex'))).toBe(true);
      signers.add(a.attester_index);
    }
    expect(signers.size).toBeGreaterThanOrEqual(set.threshold);
    expect(r.verdict).toBe('attested');
    return decoded;
  }

  it('registers a JAM service blob and runs its refine to accumulated: a report typeberry decodes and Node verifies, bound to the PVM engine', async () => {
    const code = echoService();
    const put = await client.putPreimage(code);
    const service = await client.createService({ code_hash: put.hash });
    const text = `hello from a PVM service ${pipeline.suffix}`;
    const pkg = wordCountPackage(service.id, blake2b256(code), text);
    const done = await finish(pkg);
    expect(done.status).toBe('accumulated');
    const report = await client.getReport(done.hash);
    expect(report.engine).toEqual({ ...PVM_ENGINE_IDENTITY });
    const decoded = await checkIndependently(report, done.hash);
    expect(decoded.results).toHaveLength(1);
    const digest = decoded.results[0]!;
    const payload = Buffer.from(text, 'utf8');
    expect(digest).toEqual({
      service_id: String(service.id),
      code_hash: `0x${(await independentBlake2b256(code)).toString('hex')}`,
      payload_hash: `0x${(await independentBlake2b256(payload)).toString('hex')}`,
      accumulate_gas: '1000000',
      result_kind: '0',
      ok: `0x${payload.toString('hex')}`,
      // 10 instructions, one host call (10 gas) and 1 gas per 4 bytes it copied, the same on every attester
      gas_used: String(20 + Math.ceil(payload.length / 4)),
      imports: '0',
      extrinsic_count: '0',
      extrinsic_size: '0',
      exports: '0',
    });
    expect([decoded.package_spec.exports_count, decoded.package_spec.exports_root]).toEqual(['0', `0x${'00'.repeat(32)}`]);
    expect(decoded.segment_root_lookup).toEqual([]);
  });

  it('registers the real test-service blob (jam-pvm-build output) and refines it to a deterministic result', async () => {
    const code = new Uint8Array(fs.readFileSync(TEST_SERVICE));
    const put = await client.putPreimage(code);
    const service = await client.createService({ code_hash: put.hash });
    const done = await finish(wordCountPackage(service.id, blake2b256(code), 'payload'));
    // the whole package record on failure, so its failure code and detail are in the message
    expect([done.status, done.status === 'accumulated' ? undefined : await client.getPackage(done.hash)]).toEqual(['accumulated', undefined]);
    const report = await client.getReport(done.hash);
    expect(report.engine.name).toBe(PVM_ENGINE_IDENTITY.name);
    // it decodes the refine arguments and the protocol constants (`fetch` 0) and greets its payload
    const digest = (report.report as { results: { result: { ok?: string }; refine_load: { gas_used: string | number } }[] }).results[0]!;
    expect(digest.result).toEqual({ ok: toHex(new TextEncoder().encode('Hello payload')) });
    expect(BigInt(digest.refine_load.gas_used as string | number)).toBeGreaterThan(0n);
    const decoded = await checkIndependently(report, done.hash);
    expect([decoded.results[0]!.ok, decoded.results[0]!.gas_used]).toEqual([digest.result.ok, String(digest.refine_load.gas_used)]);
  });

  it('runs a PVM service using fetch, lookup and export: its segment is stored and a later package imports it', async () => {
    const code = preimageExportService();
    const service = await client.createService({ code_hash: (await client.putPreimage(code)).hash });
    const extrinsic = new TextEncoder().encode(`an extrinsic the service looks up, ${pipeline.suffix} `.padEnd(100, '.'));
    await client.putPreimage(extrinsic);
    const h = blake2b256(extrinsic);
    const itemOf = (pkg: WorkPackage) => ({ ...pkg.items[0]!, payload: h, extrinsic: [{ hash: h, len: extrinsic.length }], export_count: 1 });
    const L = PREIMAGE_EXPORT_LAYOUT;
    const output = async (hash: string) => {
      const report = (await client.getReport(hash)).report as { results: { result: { ok?: string } }[]; package_spec: { exports_count: number } };
      const ok = report.results[0]!.result.ok;
      if (ok === undefined) throw new Error(`refine did not end ok: ${JSON.stringify(report.results[0]!.result)}`);
      const rw = fromHex(ok, L.size);
      const v = new DataView(rw.buffer, rw.byteOffset);
      return { rw, results: [0, 1, 2, 3, 4].map((k) => v.getBigUint64(16 * k, true)), exportsCount: report.package_spec.exports_count };
    };

    const exporter = wordCountPackage(service.id, blake2b256(code), '');
    exporter.items[0] = itemOf(exporter);
    const a = await finish(exporter);
    expect(a.status).toBe('accumulated');
    const first = await output(a.hash);
    // fetch (32-byte payload), lookup (the extrinsic by its hash), export (segment 0), no import (NONE), fetch of the extrinsic
    expect(first.results).toEqual([32n, BigInt(extrinsic.length), 0n, (1n << 64n) - 1n, BigInt(extrinsic.length)]);
    expect(first.rw.slice(L.preimage, L.preimage + extrinsic.length)).toEqual(extrinsic);
    expect(first.exportsCount).toBe(1);
    // the exported segment: the 1,024 bytes looked up (the extrinsic, then zeros) zero-padded to W_G;
    // a one-segment constant-depth root is H("leaf" ++ segment) (GP 0.7.2 eq. E.4), hashed here by hash-wasm
    const segment = Buffer.alloc(GP_SEGMENT_SIZE);
    segment.set(extrinsic);
    const rootA = `0x${(await independentBlake2b256('leaf', segment)).toString('hex')}`;
    const decodedA = await checkIndependently(await client.getReport(a.hash), a.hash);
    expect([decodedA.package_spec.exports_count, decodedA.package_spec.exports_root]).toEqual(['1', rootA]);
    expect([decodedA.results[0]!.extrinsic_count, decodedA.results[0]!.extrinsic_size, decodedA.results[0]!.exports]).toEqual(['1', '100', '1']);

    // a second package imports segment 0 of the first by its package hash (GP ImportSpec, bit 15 set)
    const importer = wordCountPackage(service.id, blake2b256(code), '');
    importer.items[0] = { ...itemOf(importer), import_segments: [{ tree_root: fromHex(a.hash, 32), index: 0x8000 }] };
    const b = await finish(importer);
    expect(b.status).toBe('accumulated');
    const second = await output(b.hash);
    expect(second.results[3]).toBe(BigInt(GP_SEGMENT_SIZE));
    expect(second.rw.slice(L.imported, L.imported + 64)).toEqual(extrinsic.slice(0, 64));
    const decodedB = await checkIndependently(await client.getReport(b.hash), b.hash);
    expect(decodedB.results[0]!.imports).toBe('1');
    expect(decodedB.segment_root_lookup).toEqual([{ work_package_hash: a.hash, segment_tree_root: rootA }]);
  });

  it('refuses code that is neither WebAssembly nor a JAM service blob with 422 invalid_code and the reason', async () => {
    const bad = Uint8Array.from([...echoService(), 0]);
    const put = await client.putPreimage(bad);
    const r = await api(pipeline.base, pipeline.token, 'POST', '/jam/services', JSON.stringify({ code_hash: put.hash }), {
      'Content-Type': 'application/json',
    });
    expect(r.status).toBe(422);
    expect(r.json.error.code).toBe('invalid_code');
    expect(r.json.error.details.reason).toBe('neither a WebAssembly module (no \\0asm magic) nor a valid JAM service blob: 1 bytes after the code blob');
    expect(toHex(blake2b256(bad))).toBe(put.hash);
  });
});
