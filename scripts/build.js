#!/usr/bin/env node
// Builds everything `npm start` and `npm test` need, in order:
//   1. example services (AssemblyScript -> Wasm) via scripts/build-services.js
//   2. TypeScript -> dist/ (incremental), then tsc-alias rewrites `@jam/<lib>` imports to relative paths
// Exits non-zero on the first failing step.
'use strict';
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const bin = (name) => path.join(root, 'node_modules', '.bin', name);

function run(label, cmd, args) {
  const t0 = Date.now();
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`build: ${label} failed (exit ${r.status ?? r.signal})`);
    process.exit(r.status || 1);
  }
  console.log(`build: ${label} ok (${Date.now() - t0} ms)`);
}

run('services', process.execPath, [path.join(root, 'scripts', 'build-services.js')]);
run('tsc', bin('tsc'), ['-p', 'tsconfig.build.json']);
run('tsc-alias', bin('tsc-alias'), ['-p', 'tsconfig.build.json']);
