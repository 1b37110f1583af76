/**
 * Fair sharing between tenants (issue 7 part 4, docs/fairness.md, "Express refine queues"): a
 * short package never waits for a refine queue slot held by a long refine. One real `jam` process
 * from the build, run twice: embedded (PGlite, in-process queue) and production (every role in one
 * process on PostgreSQL and BullMQ on Redis), each with ONE refine slot per attester queue
 * (`refine_concurrency` 1) and ONE general executor (`sandbox_pool_size` 1) beside the express one.
 *
 * Tenant A submits two long packages (a refine that loops until its 4.9e9 gas run out: seconds of
 * guest time per attester, a legal `out_of_gas` result). Once A's first package is refining, its
 * jobs hold every attester's only general slot and its second waits behind them. Tenant B then
 * submits one word-count package (1e7 refine gas, short). B's package must be accumulated while
 * A's first package is still refining, before any of its three long calls could have freed two
 * slots: before express queues, B's refine jobs waited in the same queues for those slots, so B
 * was accumulated only after A's first package had two attestations (`attested` or later).
 * Ordering, not time, is asserted; every wait is bounded by progress.
 * Needs `npm run build` (the process runs dist/).
 */
import * as fs from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import * as os from 'node:os';
import * as path from 'node:path';
import { blake2b256, encodeWorkPackage, initHashing, packageHash, toHex, type WorkPackage } from '@jam/domain';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { createTestRedis, type TestRedis } from '../support/redis';
import { JamProcess, PROCESS_TEST_TIMEOUT_MS, REPO_ROOT, api, freePort, untilProgress } from '../support/jam-server';
import { wordCountPackage } from '../support/fixtures';
import { HOSTILE_DIR, wat2wasm } from '../sandbox/sandbox-test.helpers';

jest.setTimeout(PROCESS_TEST_TIMEOUT_MS);

/** Refine gas of a long package: just below G_R = 5e9 (gas), seconds of guest time per call. */
const LONG_GAS = 4_900_000_000n;
/** A status print-out or the server's output must change within this bound (ms) while a wait lasts. */
const STALL_MS = 120_000;

/** A one-item package of `service` running `codeHash` with `refineGas` (gas); the payload makes it unique. */
function longPackage(serviceId: number, codeHash: Uint8Array, payload: string): WorkPackage {
  const pkg = wordCountPackage(serviceId, codeHash, payload);
  return { ...pkg, items: pkg.items.map((item) => ({ ...item, refine_gas_limit: LONG_GAS })) };
}

describe.each([['embedded'], ['production']] as const)('fair sharing (%s): a short package is not held behind long refines', (mode) => {
  const tokens = { alice: `a-${randomBytes(16).toString('hex')}`, bob: `b-${randomBytes(16).toString('hex')}` };
  let tmp = '';
  let base = '';
  let server: JamProcess | undefined;
  let database: TestDatabase | undefined;
  let redis: TestRedis | undefined;

  beforeAll(async () => {
    await initHashing();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'jam-e2e-fair-'));
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const digest = (t: string) => createHash('sha256').update(t).digest('hex');
    let backing: Record<string, string> = {};
    if (mode === 'production') {
      database = await createTestDatabase('e2e_fair');
      redis = createTestRedis('fair');
      backing = { DATABASE_URL: database.url, REDIS_URL: redis.url, JAM_QUEUE_PREFIX: redis.prefix, JAM_BLOB_DIR: path.join(tmp, 'blobs') };
    }
    server = await JamProcess.start(
      {
        ...backing,
        JAM_PORT: String(port),
        JAM_DATA_DIR: path.join(tmp, 'data'),
        JAM_ALLOWED_TOKENS: `alice=${digest(tokens.alice)},bob=${digest(tokens.bob)}`,
        JAM_REFINE_CONCURRENCY: '1',
        JAM_SANDBOX_POOL_SIZE: '1',
        JAM_SANDBOX_EXPRESS_EXECUTORS: '1',
        // a long call on a loaded machine must end by gas, not by the wall-clock backstop
        JAM_SANDBOX_WALL_CLOCK_MS: '600000',
      },
      { port, timeoutMs: 90_000 },
    );
  }, PROCESS_TEST_TIMEOUT_MS);

  afterAll(async () => {
    // A's long refines may still run: do not wait for them.
    await server?.kill();
    await redis?.cleanup();
    await database?.drop();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  }, PROCESS_TEST_TIMEOUT_MS);

  /** Uploads `code` and registers it as a service of `token`'s principal. @returns the service id */
  async function register(token: string, code: Uint8Array): Promise<number> {
    const hash = toHex(blake2b256(code));
    const put = await api(base, token, 'PUT', `/jam/preimages/${hash}`, code, { 'Content-Type': 'application/octet-stream' });
    expect(put.status).toBeLessThan(300);
    const svc = await api(base, token, 'POST', '/jam/services', JSON.stringify({ code_hash: hash }), { 'Content-Type': 'application/json' });
    expect(svc.status).toBeLessThan(300);
    return svc.json.id as number;
  }

  async function submit(token: string, pkg: WorkPackage): Promise<string> {
    const r = await api(base, token, 'POST', '/jam/packages', encodeWorkPackage(pkg), { 'Content-Type': 'application/octet-stream' });
    expect(r.status).toBe(202);
    expect(r.json.hash).toBe(toHex(packageHash(pkg)));
    return r.json.hash as string;
  }

  async function statusOf(token: string, hash: string): Promise<string> {
    const r = await api(base, token, 'GET', `/jam/packages/${hash}`);
    if (r.status !== 200) throw new Error(`GET /jam/packages/${hash} answered ${r.status}: ${r.text}`);
    return r.json.status as string;
  }

  /** Waits until package `hash` has status `want`; fails when it ends otherwise or nothing moves for STALL_MS. */
  async function waitStatus(token: string, hash: string, want: string, seen: string[]): Promise<void> {
    await untilProgress(
      `package ${hash} to be ${want}`,
      async () => {
        const s = await statusOf(token, hash);
        if (seen[seen.length - 1] !== s) seen.push(s);
        if (s === want) return true;
        if (['accumulated', 'failed', 'disputed'].includes(s)) throw new Error(`package ${hash} ended ${s}, not ${want}`);
        return undefined;
      },
      { progress: () => [seen, server!.progress()], stallMs: STALL_MS, intervalMs: 100, diagnose: () => server!.tail() },
    );
  }

  it("accumulates B's short package while A's long package still holds every attester's only general slot", async () => {
    const spin = await wat2wasm(fs.readFileSync(path.join(HOSTILE_DIR, 'infinite-loop.wat'), 'utf8'), 'infinite-loop.wat');
    const wordCount = new Uint8Array(fs.readFileSync(path.join(REPO_ROOT, 'services/word-count/build/word-count.wasm')));
    const a = await register(tokens.alice, spin);
    const b = await register(tokens.bob, wordCount);

    const long1 = await submit(tokens.alice, longPackage(a, blake2b256(spin), `long 1 ${mode}`));
    const long2 = await submit(tokens.alice, longPackage(a, blake2b256(spin), `long 2 ${mode}`));
    const longSeen: string[] = [];
    await waitStatus(tokens.alice, long1, 'refining', longSeen);

    const short = await submit(tokens.bob, wordCountPackage(b, blake2b256(wordCount), `the quiet tenant ${mode}`));
    await waitStatus(tokens.bob, short, 'accumulated', []);

    // A's first package has not got two attestations yet (one long call per attester, all on the
    // one general executor), and its second still waits for a slot.
    expect(await statusOf(tokens.alice, long1)).toBe('refining');
    expect(await statusOf(tokens.alice, long2)).toBe('pending');
  });
});
