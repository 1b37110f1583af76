/**
 * Gateway throughput (issue 8; docs/performance.md, "Gateway throughput"): autocannon against the
 * product's gateway and against a bare Fastify server doing the least work of each route, in one
 * run, interleaved rounds.
 *
 * - `GET /jam/packages/{hash}` (authenticated, authz on) vs bare Fastify `GET /packages/:hash`: one
 *   indexed SELECT of the same row in the same PostgreSQL database;
 * - `POST /jam/packages?dry_run=true` (a word-count package as JSON) vs bare Fastify `POST /dryrun`:
 *   JSON.parse + Blake2b-256 of the same body.
 * The gateway runs in production mode (PostgreSQL + Redis, one process per role; only the gateway is
 * loaded) with rate limits raised out of the way. Each case: `--connections` connections for
 * `--seconds` s after a 2 s warm-up. Prints requests/s per round, the medians, JSON to
 * bench/results/gateway.json (or `--json FILE`) and last the lines `gateway get/fastify ratio: X`
 * and `gateway dryrun/fastify ratio: X` (medians of the rounds).
 *
 * Run (after `npm run build`): npm run bench -- gateway [--rounds 3] [--seconds 8] [--connections 16]
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import autocannon from 'autocannon';
import { initHashing, stringifyJamJson, workPackageToJson } from '@jam/domain';
import { repoRoot } from './repo-root';
import { freePort, median, numberArg, register, startCluster, submit, waitAccumulated, workPackage } from './support/jam-cluster';

const root = repoRoot();
const ROUNDS = numberArg('rounds', 3);
const SECONDS = numberArg('seconds', 8);
const CONNECTIONS = numberArg('connections', 16);
const JSON_OUT = (() => {
  const i = process.argv.indexOf('--json');
  return i < 0 ? path.join(root, 'bench', 'results', 'gateway.json') : path.resolve(process.argv[i + 1] ?? 'gateway.json');
})();

interface Case {
  name: string;
  url: string;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: string;
  /** Status every response must have. */
  expect: number;
}

/** Requests/s of one autocannon run; throws when any response had another status or errored. */
async function load(c: Case, seconds: number): Promise<number> {
  const result = await autocannon({
    url: c.url,
    method: c.method,
    headers: c.headers,
    ...(c.body !== undefined ? { body: c.body } : {}),
    connections: CONNECTIONS,
    duration: seconds,
    expectBody: undefined,
  } as autocannon.Options);
  const bad = result.errors + result.timeouts + result.non2xx;
  if (bad > 0 && c.expect < 300)
    throw new Error(`${c.name}: ${result.errors} errors, ${result.timeouts} timeouts, ${result.non2xx} non-2xx of ${result.requests.total}`);
  return result.requests.total / seconds;
}

async function main(): Promise<void> {
  await initHashing();
  const cluster = await startCluster({ label: 'gateway', production: true, principals: ['bench'], serverRoot: root });
  const barePort = await freePort();
  const bare = spawn(process.execPath, [path.join(root, 'dist', 'bench', 'gateway-bare.server.js'), String(barePort), cluster.databaseUrl!], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    await new Promise<void>((resolve, reject) => {
      bare.once('exit', (code) => reject(new Error(`bare fastify exited ${code}`)));
      bare.stdout!.once('data', () => resolve());
    });
    const token = cluster.tokens['bench']!;
    const code = new Uint8Array(readFileSync(path.join(root, 'services', 'word-count', 'build', 'word-count.wasm')));
    const tenant = await register(cluster.api, 'bench', token, code);
    const pkg = workPackage(tenant, new TextEncoder().encode('the quick brown fox jumps over the lazy dog'), 10_000_000n);
    const hash = await submit(cluster.api, tenant, pkg);
    await waitAccumulated(cluster.api, tenant, [hash], 10 * 60_000);
    const json = stringifyJamJson(workPackageToJson(pkg));
    const auth = { Authorization: `Bearer ${token}` };
    const gw = `http://127.0.0.1:${cluster.port}`;
    const fy = `http://127.0.0.1:${barePort}`;
    const pairs: Array<[Case, Case]> = [
      [
        { name: 'gateway get', url: `${gw}/jam/packages/${hash}`, method: 'GET', headers: auth, expect: 200 },
        { name: 'fastify get', url: `${fy}/packages/${hash}`, method: 'GET', headers: {}, expect: 200 },
      ],
      [
        {
          name: 'gateway dryrun',
          url: `${gw}/jam/packages?dry_run=true`,
          method: 'POST',
          headers: { ...auth, 'content-type': 'application/json' },
          body: json,
          expect: 200,
        },
        { name: 'fastify dryrun', url: `${fy}/dryrun`, method: 'POST', headers: { 'content-type': 'application/json' }, body: json, expect: 200 },
      ],
    ];
    console.log(`gateway bench: ${CONNECTIONS} connections, ${SECONDS} s per case, ${ROUNDS} interleaved rounds; dry-run body ${json.length} bytes`);
    const rps: Record<string, number[]> = {};
    for (const [a, b] of pairs) for (const c of [a, b]) await load(c, 2); // warm-up
    for (let round = 1; round <= ROUNDS; round++) {
      const line: string[] = [];
      for (const [a, b] of pairs) {
        for (const c of round % 2 === 1 ? [a, b] : [b, a]) {
          const r = await load(c, SECONDS);
          (rps[c.name] ??= []).push(r);
          line.push(`${c.name} ${r.toFixed(0)}/s`);
        }
      }
      console.log(`round ${round}: ${line.join('  ')}`);
    }
    const m = (n: string): number => median(rps[n] ?? []);
    const getRatio = m('gateway get') / m('fastify get');
    const dryRatio = m('gateway dryrun') / m('fastify dryrun');
    console.log(
      `medians: ${Object.keys(rps)
        .map((k) => `${k} ${m(k).toFixed(0)}/s`)
        .join('  ')}`,
    );
    mkdirSync(path.dirname(JSON_OUT), { recursive: true });
    writeFileSync(JSON_OUT, JSON.stringify({ rounds: ROUNDS, seconds: SECONDS, connections: CONNECTIONS, rps, getRatio, dryRatio }, null, 2));
    console.log(`JSON: ${path.relative(process.cwd(), JSON_OUT)}`);
    console.log(`gateway get/fastify ratio: ${getRatio.toFixed(3)}`);
    console.log(`gateway dryrun/fastify ratio: ${dryRatio.toFixed(3)}`);
  } finally {
    if (bare.exitCode === null) {
      const exited = new Promise((r) => bare.once('exit', r));
      bare.kill('SIGTERM');
      await exited;
    }
    await cluster.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
