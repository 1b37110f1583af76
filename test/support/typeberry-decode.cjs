/**
 * Decodes a GP 0.7.2 work report with typeberry (`@typeberry/lib`, a second JAM implementation,
 * MPL-2.0), in a plain Node process: the library is ESM, which Node 20.19+ `require`s but Jest's
 * CommonJS module registry cannot load, so tests run this script as a child process
 * (`decodeReportWithTypeberry` in test/support/typeberry-report.ts).
 *
 * stdin: the `0x` hex of E(report). stdout: one JSON object (numbers as decimal strings, bytes as
 * `0x` hex) with every field of the report as typeberry reads it, `reencoded_equal` (typeberry's
 * own encoding of what it decoded equals the input byte for byte) and `blake2b256` (typeberry's
 * Blake2b-256 of the input). Exit 1 with the error on stderr when typeberry cannot decode it.
 * Nothing here imports project code.
 */
'use strict';
const { Decoder, Encoder } = require('@typeberry/lib/codec');
const { WorkReport } = require('@typeberry/lib/block');
const { tinyChainSpec } = require('@typeberry/lib/config');
const { Blake2b } = require('@typeberry/lib/hash');
const utils = require('@typeberry/lib/utils');

const hex = (b) => `0x${Buffer.from(b.raw ?? b).toString('hex')}`;
const str = (n) => String(n);

async function main() {
  const input = require('node:fs').readFileSync(0, 'utf8').trim();
  const bytes = new Uint8Array(Buffer.from(input.replace(/^0x/, ''), 'hex'));
  const report = Decoder.decodeObject(WorkReport.Codec, bytes, tinyChainSpec);
  const reencoded = Encoder.encodeObject(WorkReport.Codec, report, tinyChainSpec);
  const blake = await Blake2b.createHasher();
  const s = report.workPackageSpec;
  const c = report.context;
  const out = {
    gp_version: utils.CURRENT_VERSION,
    reencoded_equal: Buffer.from(reencoded.raw).equals(Buffer.from(bytes)),
    blake2b256: hex(blake.hashBytes(bytes)),
    package_spec: {
      hash: hex(s.hash),
      length: str(s.length),
      erasure_root: hex(s.erasureRoot),
      exports_root: hex(s.exportsRoot),
      exports_count: str(s.exportsCount),
    },
    context: {
      anchor: hex(c.anchor),
      state_root: hex(c.stateRoot),
      beefy_root: hex(c.beefyRoot),
      lookup_anchor: hex(c.lookupAnchor),
      lookup_anchor_slot: str(c.lookupAnchorSlot),
      prerequisites: c.prerequisites.map(hex),
    },
    core_index: str(report.coreIndex),
    authorizer_hash: hex(report.authorizerHash),
    auth_gas_used: str(report.authorizationGasUsed),
    auth_output: hex(report.authorizationOutput),
    segment_root_lookup: report.segmentRootLookup.map((l) => ({ work_package_hash: hex(l.workPackageHash), segment_tree_root: hex(l.segmentTreeRoot) })),
    results: Array.from(report.results).map((r) => ({
      service_id: str(r.serviceId),
      code_hash: hex(r.codeHash),
      payload_hash: hex(r.payloadHash),
      accumulate_gas: str(r.gas),
      result_kind: str(r.result.kind),
      ok: r.result.okBlob === undefined || r.result.okBlob === null ? null : hex(r.result.okBlob),
      gas_used: str(r.load.gasUsed),
      imports: str(r.load.importedSegments),
      extrinsic_count: str(r.load.extrinsicCount),
      extrinsic_size: str(r.load.extrinsicSize),
      exports: str(r.load.exportedSegments),
    })),
  };
  process.stdout.write(JSON.stringify(out));
}

main().catch((err) => {
  process.stderr.write(`${err && err.stack ? err.stack : String(err)}\n`);
  process.exit(1);
});
