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
// They live in sdk/asc-options.json, shared with `jam build` (apps/cli/src/service-project/), so a
// service built outside the repository gets exactly the examples' compiler options.
const OPTIONS_FILE = path.join(root, 'sdk', 'asc-options.json');
const OPTIONS = JSON.parse(fs.readFileSync(OPTIONS_FILE, 'utf8'));
const FLAGS = ['--runtime', OPTIONS.runtime, ...OPTIONS.flags];
// `import ... from "@jam/service-sdk"` resolves to sdk/@jam/service-sdk (asc's --path works like node_modules).
const SDK_PATH = path.join(root, 'sdk');

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
    const sourcesTime = Math.max(newestMtime(path.join(dir, 'assembly')), newestMtime(SDK_PATH), fs.statSync(__filename).mtimeMs);
    if (fs.existsSync(out) && fs.statSync(out).mtimeMs > sourcesTime) {
      console.log(`build-services: ${name} up to date`);
      continue;
    }
    asc ??= (await import('assemblyscript/asc')).default;
    fs.mkdirSync(path.dirname(out), { recursive: true });
    const stderr = [];
    const { error } = await asc.main(
      [path.relative(root, path.join(dir, 'assembly', 'index.ts')), '--outFile', path.relative(root, out), ...FLAGS, '--path', path.relative(root, SDK_PATH)],
      {
        stdout: { write: (s) => (process.stdout.write(s), true) },
        stderr: { write: (s) => (stderr.push(String(s)), true) },
      },
    );
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
