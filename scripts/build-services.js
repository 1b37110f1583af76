#!/usr/bin/env node
'use strict';
// Compiles every services/<name>/assembly/index.ts (AssemblyScript) to
// services/<name>/build/<name>.wasm with fixed, deterministic flags (docs/service-abi.md).
// A service is skipped when its .wasm is newer than its sources and this script.
// Exits non-zero on the first failing service.
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const servicesDir = path.join(root, 'services');

// Flags are part of the output's identity: changing them changes code hashes of the examples.
// - stub runtime: no GC, nothing runs at start (the ABI forbids a start function)
// - abort= : aborts become a plain `unreachable` trap (no "env" import)
// - nontrapping-f2i disabled: float instructions are rejected by the validator anyway
// - mutable-globals disabled: services import and export no globals
const FLAGS = [
  '--runtime',
  'stub',
  '--optimizeLevel',
  '3',
  '--shrinkLevel',
  '0',
  '--converge',
  '--use',
  'abort=',
  '--disable',
  'nontrapping-f2i',
  '--disable',
  'mutable-globals',
];

function newestMtime(dir) {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : fs.statSync(p).mtimeMs);
  }
  return newest;
}

async function main() {
  if (!fs.existsSync(servicesDir)) return;
  const names = fs
    .readdirSync(servicesDir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && fs.existsSync(path.join(servicesDir, d.name, 'assembly', 'index.ts')))
    .map((d) => d.name)
    .sort();
  let asc;
  for (const name of names) {
    const dir = path.join(servicesDir, name);
    const out = path.join(dir, 'build', `${name}.wasm`);
    const sourcesTime = Math.max(newestMtime(path.join(dir, 'assembly')), fs.statSync(__filename).mtimeMs);
    if (fs.existsSync(out) && fs.statSync(out).mtimeMs > sourcesTime) {
      console.log(`build-services: ${name} up to date`);
      continue;
    }
    asc ??= (await import('assemblyscript/asc')).default;
    fs.mkdirSync(path.dirname(out), { recursive: true });
    const stderr = [];
    const { error } = await asc.main([path.relative(root, path.join(dir, 'assembly', 'index.ts')), '--outFile', path.relative(root, out), ...FLAGS], {
      stdout: { write: (s) => (process.stdout.write(s), true) },
      stderr: { write: (s) => (stderr.push(String(s)), true) },
    });
    if (error) {
      console.error(stderr.join(''));
      console.error(`build-services: ${name} failed: ${error.message}`);
      process.exit(1);
    }
    console.log(`build-services: ${name} -> ${path.relative(root, out)} (${fs.statSync(out).size} bytes)`);
  }
}

main().catch((e) => {
  console.error(`build-services: ${e.stack || e}`);
  process.exit(1);
});
