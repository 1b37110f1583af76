#!/usr/bin/env node
'use strict';
// `npm run bench -- <name> [args]`: runs one benchmark. Builds nothing: the sandbox benches run
// the compiled files under dist/bench (run `npm run build` first); queue-embedded runs its .ts
// through swc (bench/queue-embedded.run.cjs). Results and how to read them: docs/performance.md.
//   sandbox         plain V8 vs metered engine vs npm wasm-metering, per-job and pool costs
//                   [--reps N] [--quick] [--overhead-only]
//   fuzz            differential fuzzing, metered vs unmetered on binaryen -ttf modules
//                   [--cases N] [--seed S] [--size BYTES]
//   gas-calibration ns per gas of every opcode class, host call, adversarial shape and ordinary
//                   workload through SandboxPool; slowest/median ratio  [--reps N] [--target-ms MS] [--only TEXT]
//   queue-embedded  in-process queue driver vs BullMQ on PGlite  [jobs] [concurrency]
//   fairness        quiet tenant's latency, idle vs while another floods heavy packages (embedded server)
//                   [--quiet N] [--flood N] [--heavy-bytes B] [--gap-ms MS]
//   restart         `npm start` to /healthz: build skipped when up to date vs forced tsc  [rounds]
//   verified-download  pass-through vs the verifying stream of preimage downloads  [MiB] [reps]
//   registration-check  hostile shapes: in-process validation vs SandboxPool.check
//   cli-watch       jam --watch: status stream (SSE) vs polling on an embedded server  [packages per mode]
//   pvm-vectors     the 307 PVM test vectors on the interpreter and the translator (`pvm vectors: N/307 passed`),
//                   then both engines' speed on a counting and a memory loop  [--iterations N] [--reps R] [--no-speed]
//   accumulate-vectors  the 30 GP 0.7.2 accumulate STF vectors through the GP accumulation module
//                   (`accumulate vectors: N/30 passed`), then ms per vector; --db: also through the product's
//                   GP path (PostgreSQL + an executor), interleaved  [--reps R] [--db]
//   pvm-host-calls  PVM refine host calls: ns per gas of copies and inner-machine calls vs plain instructions
//                   [--rounds R]
//   pvm-translation PVM-to-Wasm translation cost (translate, compile, instantiate, first run, memory) for a
//                   real service and the largest hostile shapes under the translator's caps
//   pipeline        packages/s, CPU per package and latency: product (production + embedded) vs a bare
//                   BullMQ chain with the same fan-out (and + PostgreSQL), interleaved rounds
//                   [--packages N] [--rounds N] [--rate R] [--latency-packages N] [--no-embedded]
//                   [--base-root DIR] [--cpu-prof DIR] [--port-base PORT]
//   gateway         autocannon: GET /jam/packages/{hash} and dry-run POST vs a bare Fastify doing the least
//                   work of each  [--rounds N] [--seconds S] [--connections C]
//   scale           submit/read/list latency and query plans at 10^3 and 10^6 stored packages
//                   [--small N] [--large N] [--requests N]
//   upload          PUT /jam/preimages 64 MiB and 1 MiB vs raw Blake2b-256; gateway RSS  [--rounds N] [--small N]
//   guarantee-verify  strict rule vs ZIP 215 guarantee verification: honest, torsion, forged  [rounds] [per-round]
//   jip2-rpc        one storage read: JIP-2 serviceValue over WebSocket vs HTTP GET  [requests per round] [rounds]
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const benches = {
  sandbox: { file: path.join(root, 'dist', 'bench', 'sandbox-overhead.js'), built: true },
  'gas-calibration': { file: path.join(root, 'dist', 'bench', 'gas-calibration.js'), built: true },
  fuzz: { file: path.join(root, 'dist', 'bench', 'fuzz-differential.js'), built: true },
  'queue-embedded': { file: path.join(root, 'bench', 'queue-embedded.run.cjs'), built: false },
  fairness: { file: path.join(root, 'dist', 'bench', 'fairness.js'), built: true },
  restart: { file: path.join(root, 'bench', 'restart.run.cjs'), built: false },
  'verified-download': { file: path.join(root, 'dist', 'bench', 'verified-download.js'), built: true },
  'registration-check': { file: path.join(root, 'dist', 'bench', 'registration-check.js'), built: true },
  'cli-watch': { file: path.join(root, 'dist', 'bench', 'cli-watch.js'), built: true },
  'pvm-vectors': { file: path.join(root, 'dist', 'bench', 'pvm-vectors.js'), built: true },
  'accumulate-vectors': { file: path.join(root, 'dist', 'bench', 'accumulate-vectors.js'), built: true },
  'pvm-host-calls': { file: path.join(root, 'dist', 'bench', 'pvm-host-calls.js'), built: true },
  'pvm-translation': { file: path.join(root, 'dist', 'bench', 'pvm-translation.js'), built: true },
  pipeline: { file: path.join(root, 'dist', 'bench', 'pipeline.js'), built: true },
  gateway: { file: path.join(root, 'dist', 'bench', 'gateway.js'), built: true },
  scale: { file: path.join(root, 'dist', 'bench', 'scale.js'), built: true },
  upload: { file: path.join(root, 'dist', 'bench', 'upload.js'), built: true },
  'guarantee-verify': { file: path.join(root, 'dist', 'bench', 'guarantee-verify.js'), built: true },
  'jip2-rpc': { file: path.join(root, 'dist', 'bench', 'jip2-rpc.js'), built: true },
};

const [name, ...args] = process.argv.slice(2);
const bench = name === undefined ? undefined : benches[name];
if (bench === undefined) {
  console.error(`usage: npm run bench -- <${Object.keys(benches).join('|')}> [args]`);
  process.exit(2);
}
if (!fs.existsSync(bench.file)) {
  console.error(`bench: ${path.relative(root, bench.file)} is missing${bench.built ? '; run `npm run build` first' : ''}`);
  process.exit(2);
}
const r = spawnSync(process.execPath, [bench.file, ...args], { cwd: root, stdio: 'inherit' });
process.exit(r.status ?? 1);
