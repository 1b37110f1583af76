#!/usr/bin/env node
// `npm run lint`: ESLint over the workspace (eslint.config.cjs), module boundaries included.
// @nx/enforce-module-boundaries reads Nx's cached project graph and silently skips itself when
// there is none (a fresh clone), so the graph is computed first and its presence checked.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const bin = (name) => path.join(root, 'node_modules', '.bin', name);
const env = { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true' };

const graph = spawnSync(bin('nx'), ['show', 'projects'], { cwd: root, env, encoding: 'utf8' });
if (graph.status !== 0) {
  process.stderr.write(graph.stdout + graph.stderr);
  console.error('lint: `nx show projects` failed; the module-boundary rule needs the project graph');
  process.exit(graph.status || 1);
}
const cached = path.join(root, '.nx', 'workspace-data', 'project-graph.json');
if (!fs.existsSync(cached)) {
  console.error(`lint: no Nx project graph at ${path.relative(root, cached)}; @nx/enforce-module-boundaries would be skipped`);
  process.exit(1);
}
const r = spawnSync(bin('eslint'), ['--max-warnings', '0', ...process.argv.slice(2), '.'], { cwd: root, env, stdio: 'inherit' });
process.exit(r.status ?? 1);
