// Restart time of `npm start` (build, then start embedded) until /healthz answers, with the
// build skipping up-to-date TypeScript (now) and with it forced (`--force`: what every start did
// before scripts/build.js kept a stamp of its inputs). The two variants alternate in one run so
// the machine's load affects both alike; the data directory is created by a first, unmeasured
// start (PGlite's first start is slower). Usage: node bench/restart.run.cjs [rounds, default 3]
// Results: docs/performance.md section 9.
'use strict';
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const root = path.join(__dirname, '..');
const rounds = Number(process.argv[2] ?? 3);
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'jam-bench-restart-'));

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Starts `node scripts/build.js [--force] && node dist/.../main.js` (what `npm start` runs); resolves with ms to a 200 from /healthz. */
async function start(force) {
  const port = await freePort();
  const t0 = performance.now();
  const child = spawn('sh', ['-c', `node scripts/build.js${force ? ' --force' : ''} >/dev/null && exec node dist/apps/standalone/src/main.js`], {
    cwd: root,
    env: { ...process.env, JAM_DATA_DIR: dataDir, JAM_PORT: String(port), JAM_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  let exited = false;
  child.once('exit', () => (exited = true));
  for (;;) {
    if (exited) throw new Error('server exited before it was healthy');
    try {
      if ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok) break;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const ms = performance.now() - t0;
  child.kill('SIGTERM');
  await new Promise((r) => (exited ? r() : child.once('exit', r)));
  return ms;
}

(async () => {
  await start(false);
  const results = { 'up to date (skip tsc)': [], 'forced tsc (before)': [] };
  for (let i = 0; i < rounds; i++) {
    results['forced tsc (before)'].push(await start(true));
    results['up to date (skip tsc)'].push(await start(false));
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  console.log(
    `load average at end: ${os
      .loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')}`,
  );
  for (const [name, xs] of Object.entries(results))
    console.log(`${name}: median ${(median(xs) / 1000).toFixed(1)} s  (${xs.map((x) => (x / 1000).toFixed(1)).join(', ')})`);
  console.log(`ratio forced / skip: ${(median(results['forced tsc (before)']) / median(results['up to date (skip tsc)'])).toFixed(1)}x`);
  fs.rmSync(dataDir, { recursive: true, force: true });
})().catch((err) => {
  console.error(err);
  fs.rmSync(dataDir, { recursive: true, force: true });
  process.exit(1);
});
