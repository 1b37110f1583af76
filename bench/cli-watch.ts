/**
 * `jam ... --watch`: following a package over its status stream (JamClient.followPackage,
 * server-sent events) vs polling (JamClient.waitForPackage, 500 ms interval), against one real
 * embedded server started from dist/ (PGlite, in-process queue) in a temp dir by
 * bench/support/jam-cluster.ts.
 *
 * Per mode, for the same kind of one-item word-count package: HTTP requests the watcher sent per
 * package, how long after the server committed `accumulated` (the package's updated_at) the
 * watcher saw it ("notice delay", ms; same machine, same clock), and submit-to-seen time (ms).
 * Modes alternate package by package so load changes hit both alike.
 * Run: npm run build && node dist/bench/cli-watch.js [packages per mode = 10]
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { JamClient, type PackageInfo } from '@jam/client';
import { initHashing } from '@jam/domain';
import { repoRoot } from './repo-root';
import { median, register, startCluster, workPackage } from './support/jam-cluster';

const PER_MODE = Number(process.argv[2] ?? 10);
const root = repoRoot();

async function main(): Promise<void> {
  await initHashing();
  const cluster = await startCluster({ label: 'watch', production: false, principals: ['bench'], serverRoot: root });
  try {
    const base = cluster.api.base;
    const token = cluster.tokens['bench']!;
    let requests = 0;
    const counting: typeof fetch = (input, init) => {
      requests++;
      return fetch(input, init);
    };
    const setup = new JamClient({ baseUrl: base, token });
    const watcher = new JamClient({ baseUrl: base, token, fetch: counting });
    const code = new Uint8Array(readFileSync(path.join(root, 'services/word-count/build/word-count.wasm')));
    const tenant = await register(cluster.api, 'bench', token, code);
    const results: Record<'stream' | 'poll', { requests: number[]; notice: number[]; total: number[] }> = {
      stream: { requests: [], notice: [], total: [] },
      poll: { requests: [], notice: [], total: [] },
    };
    for (let i = 0; i < 2 * PER_MODE; i++) {
      const mode = i % 2 === 0 ? 'stream' : 'poll';
      const started = Date.now();
      const payload = new TextEncoder().encode(`run ${i} ${randomBytes(4).toString('hex')} a b c`);
      const { hash } = await setup.submitPackage(workPackage(tenant, payload, 10_000_000n));
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
    await cluster.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
