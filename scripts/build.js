#!/usr/bin/env node
// Builds everything `npm start` and `npm test` need, in order, skipping what is up to date:
//   1. example services (AssemblyScript -> Wasm) via scripts/build-services.js (skips a service
//      whose .wasm is newer than its sources)
//   2. TypeScript -> dist/ (incremental), then tsc-alias rewrites `@jam/<lib>` imports to relative
//      paths. Both are skipped when the inputs are exactly those of the last successful build:
//      dist/.build-inputs holds a SHA-256 over the path, size and mtime of every input (the .ts
//      files tsconfig.build.json includes, the tsconfig files, package-lock.json and this script).
//      Even an incremental tsc with nothing to do re-reads and re-checks the whole program
//      (15-20 s here), which made every `npm start` slow (docs/performance.md section 9).
// `node scripts/build.js --force` rebuilds TypeScript anyway.
// Exits non-zero on the first failing step.
'use strict';
const { spawnSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const bin = (name) => path.join(root, 'node_modules', '.bin', name);
const stampFile = path.join(root, 'dist', '.build-inputs');
const force = process.argv.includes('--force');

function run(label, cmd, args) {
  const t0 = Date.now();
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`build: ${label} failed (exit ${r.status ?? r.signal})`);
    process.exit(r.status || 1);
  }
  console.log(`build: ${label} ok (${Date.now() - t0} ms)`);
}

/**
 * The TypeScript build's inputs, as tsconfig.build.json selects them: every .ts under apps/, libs/
 * and bench/ except specs, test folders, libs/<lib>/src/testing and the queue contract suite.
 * Errs on the side of rebuilding: a new, deleted, touched or resized file changes the digest.
 */
function tscInputs(base = root) {
  const files = ['tsconfig.base.json', 'tsconfig.build.json', 'package-lock.json', path.join('scripts', 'build.js')];
  const excluded = (rel) =>
    rel.endsWith('.spec.ts') || /^libs\/[^/]+\/test\//.test(rel) || /^libs\/[^/]+\/src\/testing\//.test(rel) || rel === 'libs/queue/src/job-queue.contract.ts';
  const walk = (dir) => {
    for (const e of fs.readdirSync(path.join(base, dir), { withFileTypes: true })) {
      const rel = path.posix.join(dir, e.name);
      if (e.isDirectory()) {
        if (e.name !== 'node_modules' && e.name !== 'dist') walk(rel);
      } else if (e.name.endsWith('.ts') && !excluded(rel)) files.push(rel);
    }
  };
  for (const dir of ['apps', 'libs', 'bench']) if (fs.existsSync(path.join(base, dir))) walk(dir);
  return files.sort();
}

/** SHA-256 hex over `path size mtime` (whole ms) of every input (a missing file counts as `missing`). */
function inputsDigest(base = root) {
  const h = crypto.createHash('sha256');
  for (const rel of tscInputs(base)) {
    let st;
    try {
      st = fs.statSync(path.join(base, rel));
    } catch {
      st = null;
    }
    h.update(`${rel} ${st ? `${st.size} ${Math.trunc(st.mtimeMs)}` : 'missing'}\n`);
  }
  return h.digest('hex');
}

function main() {
  run('services', process.execPath, [path.join(root, 'scripts', 'build-services.js')]);

  const before = inputsDigest();
  // every entry point: the launcher, the CLI and each role's own (the project.json start targets)
  const entries = ['standalone', 'cli', 'gateway', 'refine-worker', 'attestation', 'accumulate-worker', 'janitor'];
  const outputs = entries.map((app) => path.join(root, 'dist', 'apps', app, 'src', 'main.js'));
  const upToDate = !force && outputs.every((f) => fs.existsSync(f)) && fs.existsSync(stampFile) && fs.readFileSync(stampFile, 'utf8').trim() === before;
  if (upToDate) {
    console.log('build: tsc up to date (inputs unchanged since the last build; --force rebuilds)');
    return;
  }
  // A failed or interrupted build must not leave a stamp that claims the output is current.
  fs.rmSync(stampFile, { force: true });
  run('tsc', bin('tsc'), ['-p', 'tsconfig.build.json']);
  run('tsc-alias', bin('tsc-alias'), ['-p', 'tsconfig.build.json']);
  // Stamp what was compiled; a file edited during the build changes the digest and rebuilds next time.
  if (inputsDigest() === before) fs.writeFileSync(stampFile, `${before}\n`);
}

if (require.main === module) main();
module.exports = { tscInputs, inputsDigest, stampFile };
