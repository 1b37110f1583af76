/**
 * The `jam` CLI against one real server process (embedded mode: PGlite and the in-process queue),
 * run as a user runs it (`node bin/jam.js`): `--watch` follows GET /jam/packages/{hash}/events
 * (server-sent events) to accumulation, and the admin commands go through the real admin token
 * guard, quota table and audit log. Needs `npm run build`.
 */
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { blake2b256, encodeWorkPackage, initHashing, PACKAGE_STATUSES } from '@jam/domain';
import { wordCountPackage } from '../support/fixtures';
import { JamProcess, REPO_ROOT, freePort, runCli } from '../support/jam-server';

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

describe('jam CLI against a real server', () => {
  const adminToken = `ops-${randomBytes(16).toString('hex')}`;
  let dataDir: string;
  let base: string;
  let server: JamProcess;
  /** CLI environment: the server's URL and data dir (the CLI reads the dev token there) */
  let cli: Record<string, string>;

  beforeAll(async () => {
    await initHashing();
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'jam-e2e-cli-'));
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    server = await JamProcess.start(
      { JAM_DATA_DIR: dataDir, JAM_PORT: String(port), JAM_ADMIN_TOKENS: `ops=${sha256(adminToken)}`, JAM_SANDBOX_POOL_SIZE: '1' },
      { port, timeoutMs: 120_000 },
    );
    cli = { JAM_URL: base, JAM_DATA_DIR: dataDir };
  }, 150_000);

  afterAll(async () => {
    await server?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('submit --watch follows the status stream to accumulated, in pipeline order, without falling back to polling', async () => {
    const wasm = path.join(REPO_ROOT, 'services/word-count/build/word-count.wasm');
    const put = await runCli(['preimage', 'put', wasm], cli);
    expect(put.code).toBe(0);
    const codeHash = put.stdout.trim();
    const created = await runCli(['--json', 'service', 'create', '--code', codeHash], cli);
    expect(created.code).toBe(0);
    const serviceId = (JSON.parse(created.stdout) as { id: number }).id;
    const file = path.join(dataDir, 'p.bin');
    fs.writeFileSync(
      file,
      encodeWorkPackage(wordCountPackage(serviceId, blake2b256(fs.readFileSync(wasm)), `alpha beta gamma ${randomBytes(4).toString('hex')}`)),
    );

    const watched = await runCli(['package', 'submit', file, '--watch', '--timeout', '120'], cli, 150_000);

    expect(watched.stderr).toBe('');
    expect(watched.code).toBe(0);
    const lines = watched.stdout
      .trim()
      .split('\n')
      .map((l) => l.split(/\s+/));
    const hash = lines[0]?.[1] ?? '';
    expect(hash).toMatch(/^0x[0-9a-f]{64}$/);
    const seen = lines.map((l) => l.at(-1) ?? '');
    expect(seen.at(-1)).toBe('accumulated');
    // each status once, in pipeline order (a change the server coalesced may be skipped, never repeated)
    const order = seen.map((s) => PACKAGE_STATUSES.indexOf(s as never));
    expect(order.every((o, i) => o >= 0 && (i === 0 || o > order[i - 1]!))).toBe(true);
    expect((await runCli(['storage', 'get', String(serviceId), 'words', '--utf8'], cli)).stdout).toMatch(/u64_le:\s+4\n/);

    // a finished package: the stream gives its status at once and ends
    const again = await runCli(['--json', 'package', 'status', hash, '--watch'], cli);
    expect(again.code).toBe(0);
    expect(again.stderr).toBe('');
    expect(JSON.parse(again.stdout)).toMatchObject({ hash, status: 'accumulated' });
  }, 200_000);

  it('admin quota set/list and the audit log work with the admin token, and refuse others with a hint', async () => {
    const admin = { ...cli, JAM_ADMIN_TOKEN: adminToken };
    const set = await runCli(['admin', 'quota', 'set', 'bob', '3'], admin);
    expect(set.stderr).toBe('');
    expect(set.code).toBe(0);
    expect(set.stdout).toMatch(/^max_pending_packages: 3$/m);
    const list = await runCli(['--json', 'admin', 'quota', 'list'], admin);
    expect(JSON.parse(list.stdout)).toMatchObject({ items: [{ principal: 'bob', max_pending_packages: 3 }] });

    const audit = await runCli(['--json', 'admin', 'audit', '--action', 'quota.set'], admin);
    expect(audit.code).toBe(0);
    const entries = (JSON.parse(audit.stdout) as { items: { outcome: string; target: string; actor_token_hash: string }[] }).items;
    expect(entries).toEqual([expect.objectContaining({ outcome: 'success', target: 'PUT /admin/quotas/bob', actor_token_hash: `0x${sha256(adminToken)}` })]);

    // the dev token (a /jam token) is not an admin token
    const devToken = fs.readFileSync(path.join(dataDir, 'dev-token'), 'utf8').trim();
    const refused = await runCli(['admin', '--admin-token', devToken, 'quota', 'list'], cli);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('jam: unauthorized: not an admin token');
    expect(refused.stderr).toContain("jam: hint: the server refused the admin token from --admin-token: it must be one of the server's admin_tokens");
    expect(refused.stderr).not.toContain(devToken);

    const missing = await runCli(['admin', 'delegate', 'add', '4000000000', 'dave'], admin);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`jam: hint: service 4000000000 does not exist on ${base}`);
  }, 60_000);
});
