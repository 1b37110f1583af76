/**
 * `jam ... --watch`: following a package over its status stream (JamClient.followPackage,
 * server-sent events) vs polling (JamClient.waitForPackage, 500 ms interval), against one real
 * embedded server started from dist/ (PGlite, in-process queue) in a temp dir.
 *
 * Per mode, for the same kind of one-item word-count package: HTTP requests the watcher sent per
 * package, how long after the server committed `accumulated` (the package's updated_at) the
 * watcher saw it ("notice delay", ms; same machine, same clock), and submit-to-seen time (ms).
 * Modes alternate package by package so load changes hit both alike.
 * Run: npm run build && node dist/bench/cli-watch.js [packages per mode = 10]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { JamClient, type PackageInfo } from '@jam/client';
import { processEnvironment } from '@jam/config';
import { blake2b256, initHashing, type WorkPackage } from '@jam/domain';
import { repoRoot } from './repo-root';

const PER_MODE = Number(process.argv[2] ?? 10);
const root = repoRoot();

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

function pkg(service: number, codeHash: Uint8Array, text: string): WorkPackage {
  const zero = new Uint8Array(32);
  return {
    authorization: new Uint8Array(0),
    auth_code_host: service,
    auth_code_hash: codeHash,
    authorizer_config: new Uint8Array(0),
    context: { anchor: zero, state_root: zero, beefy_root: zero, lookup_anchor: zero, lookup_anchor_slot: 0, prerequisites: [] },
    items: [
      {
        service,
        code_hash: codeHash,
        payload: new TextEncoder().encode(text),
        refine_gas_limit: 10_000_000n,
        accumulate_gas_limit: 1_000_000n,
        import_segments: [],
        extrinsic: [],
        export_count: 0,
      },
    ],
  };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

async function main(): Promise<void> {
  await initHashing();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'jam-bench-watch-'));
  const port = await freePort();
  const child = spawn(process.execPath, [path.join(root, 'dist/apps/standalone/src/main.js')], {
    cwd: root,
    env: {
      PATH: processEnvironment()['PATH'] ?? '',
      HOME: processEnvironment()['HOME'] ?? '/tmp',
      JAM_DATA_DIR: dataDir,
      JAM_PORT: String(port),
      JAM_LOG_LEVEL: 'warn',
      JAM_RPC_PORT: '0',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  try {
    const base = `http://127.0.0.1:${port}`;
    for (let up = false; !up;) {
      up = await fetch(`${base}/healthz`).then(
        (r) => r.ok,
        () => false,
      );
      if (!up) await new Promise((r) => setTimeout(r, 250));
    }
    const token = readFileSync(path.join(dataDir, 'dev-token'), 'utf8').trim();
    let requests = 0;
    const counting: typeof fetch = (input, init) => {
      requests++;
      return fetch(input, init);
    };
    const setup = new JamClient({ baseUrl: base, token });
    const watcher = new JamClient({ baseUrl: base, token, fetch: counting });
    const code = new Uint8Array(readFileSync(path.join(root, 'services/word-count/build/word-count.wasm')));
    const { hash: codeHash } = await setup.putPreimage(code);
    const service = await setup.createService({ code_hash: codeHash });
    const results: Record<'stream' | 'poll', { requests: number[]; notice: number[]; total: number[] }> = {
      stream: { requests: [], notice: [], total: [] },
      poll: { requests: [], notice: [], total: [] },
    };
    for (let i = 0; i < 2 * PER_MODE; i++) {
      const mode = i % 2 === 0 ? 'stream' : 'poll';
      const started = Date.now();
      const { hash } = await setup.submitPackage(pkg(service.id, blake2b256(code), `run ${i} ${randomBytes(4).toString('hex')} a b c`));
      requests = 0;
      let seenAt = 0;
      const onStatus = (p: PackageInfo): void => {
        if (p.status === 'accumulated') seenAt = Date.now();
      };
      let fellBack = false;
      const final =
        mode === 'stream'
          ? await watcher.followPackage(hash, { timeoutMs: 120_000, onStatus, onFallback: () => (fellBack = true) })
          : await watcher.waitForPackage(hash, { timeoutMs: 120_000, onStatus });
      if (final.status !== 'accumulated' || fellBack) throw new Error(`package ${hash}: ${final.status}${fellBack ? ' (stream fell back)' : ''}`);
      results[mode].requests.push(requests);
      results[mode].notice.push(seenAt - Date.parse(final.updated_at));
      results[mode].total.push(seenAt - started);
    }
    console.log(`cli-watch: ${PER_MODE} packages per mode, one-item word-count packages, embedded server`);
    console.log('mode    requests/pkg (median, max)   notice delay ms (median, max)   submit->seen ms (median)');
    for (const mode of ['stream', 'poll'] as const) {
      const r = results[mode];
      console.log(
        `${mode.padEnd(6)}  ${String(median(r.requests)).padStart(6)} ${String(Math.max(...r.requests)).padStart(6)}              ` +
          `${String(median(r.notice)).padStart(6)} ${String(Math.max(...r.notice)).padStart(6)}                 ${String(median(r.total)).padStart(6)}`,
      );
    }
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
