#!/usr/bin/env node
// Builds the publishable `@jam/client` package (README "Using the client from another project")
// into dist/packages/client/:
//   1. tsc -p libs/client/tsconfig.package.json: libs/client/src and the libs/domain and
//      libs/http-contract (routes, wire schemas) modules it
//      imports, as CommonJS + .d.ts (the tests' fake server in src/testing is not part of it);
//   2. tsc-alias rewrites `@jam/domain` and `@jam/http-contract` to relative paths in the .js and .d.ts files, so the
//      package resolves everything inside itself (a consumer has no @jam/domain);
//   3. libs/client/package.json and README.md are copied, and the runtime dependencies
//      (hash-wasm, lossless-json: the ones libs/domain imports; zod: the contract's schemas) are copied from this repository's
//      node_modules as bundleDependencies, so the tarball installs without a registry. Their
//      versions must equal the repository's (checked here), so client and server hash alike.
// `node scripts/build-client-package.js --pack <dir>` then runs `npm pack` into <dir> and prints
// the tarball's path on the last line of stdout. Exits non-zero on the first failing step.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const lib = path.join(root, 'libs', 'client');
const stage = path.join(root, 'dist', 'packages', 'client');

function run(label, cmd, args, cwd = root) {
  const r = spawnSync(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
  if (r.status !== 0) {
    process.stderr.write(r.stdout ?? '');
    console.error(`build-client-package: ${label} failed (exit ${r.status ?? r.signal})`);
    process.exit(r.status || 1);
  }
  return r.stdout;
}

const bin = (name) => path.join(root, 'node_modules', '.bin', name);
fs.rmSync(stage, { recursive: true, force: true });
run('tsc', bin('tsc'), ['-p', path.join(lib, 'tsconfig.package.json')]);
run('tsc-alias', bin('tsc-alias'), ['-p', path.join(lib, 'tsconfig.package.json')]);
const leftover = spawnSync('grep', ['-rlE', `(require\\(|from |import\\()['"]@jam/`, path.join(stage, 'dist')], { encoding: 'utf8' }).stdout.trim();
if (leftover !== '') {
  console.error(`build-client-package: @jam/ imports left after tsc-alias in:\n${leftover}`);
  process.exit(1);
}

const manifest = JSON.parse(fs.readFileSync(path.join(lib, 'package.json'), 'utf8'));
for (const dep of manifest.bundleDependencies) {
  const from = path.join(root, 'node_modules', ...dep.split('/'));
  const installed = JSON.parse(fs.readFileSync(path.join(from, 'package.json'), 'utf8')).version;
  if (installed !== manifest.dependencies[dep]) {
    console.error(`build-client-package: ${dep} is ${installed} in node_modules but ${manifest.dependencies[dep]} in libs/client/package.json`);
    process.exit(1);
  }
  fs.cpSync(from, path.join(stage, 'node_modules', ...dep.split('/')), { recursive: true });
}
fs.copyFileSync(path.join(lib, 'package.json'), path.join(stage, 'package.json'));
fs.copyFileSync(path.join(lib, 'README.md'), path.join(stage, 'README.md'));
console.log(`build-client-package: ${manifest.name}@${manifest.version} in ${path.relative(root, stage)}`);

const packAt = process.argv.indexOf('--pack');
if (packAt >= 0) {
  const dest = path.resolve(process.argv[packAt + 1] ?? '.');
  fs.mkdirSync(dest, { recursive: true });
  const out = run('npm pack', 'npm', ['pack', '--json', '--pack-destination', dest], stage);
  const [{ filename }] = JSON.parse(out);
  console.log(path.join(dest, filename));
}
