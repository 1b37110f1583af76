import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { encodeWorkPackage, GP_PROTOCOL_VERSION, initHashing, stringifyJamJson, workPackageToJson } from '@jam/domain';
import { ENGINE_IDENTITY, PVM_ENGINE_IDENTITY } from '@jam/sandbox';
import { fakeJam, fakeJamAdmin, startFakeServer, type FakeJamOptions, type FakeServer } from '../../../libs/client/src/testing/fake-jam-server';
import type { CliEnvironment } from './cli.context';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, defaultToken, runCli } from './cli.program';
import { demoPackage } from './commands/demo.command';
import { cliVersion } from './cli.version';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

let server: FakeServer | undefined;
let cwd: string;
beforeAll(() => initHashing());
beforeEach(() => {
  cwd = mkdtempSync(path.join(tmpdir(), 'jam-cli-'));
});
afterEach(async () => {
  await server?.close();
  server = undefined;
  rmSync(cwd, { recursive: true, force: true });
});

async function jam(argv: string[], env: Partial<CliEnvironment> = {}): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, {
    cwd,
    ...(server ? { url: server.url } : {}),
    ...env,
    stdout: { write: (c: string | Uint8Array) => (stdout += typeof c === 'string' ? c : Buffer.from(c).toString('latin1')) },
    stderr: { write: (c: string | Uint8Array) => (stderr += String(c)) },
  });
  return { code, stdout, stderr };
}

describe('jam argument handling', () => {
  it('exits 0 for --help and 2 for usage errors, without touching the server', async () => {
    server = await startFakeServer(fakeJam().handler);
    expect((await jam(['--help'])).code).toBe(EXIT_OK);
    expect((await jam(['--help'])).stdout).toContain('Exit codes');
    // a user whose server runs on another port learns both ways to reach it
    expect((await jam(['--help'])).stdout.replace(/\s+/g, ' ')).toMatch(/env JAM_URL, else http:\/\/127\.0\.0\.1:\$JAM_PORT/);
    expect((await jam(['frobnicate'])).code).toBe(EXIT_USAGE);
    expect((await jam(['preimage'])).code).toBe(EXIT_USAGE);
    expect((await jam(['preimage', 'get'])).code).toBe(EXIT_USAGE);
    const badHash = await jam(['package', 'status', '0x12']);
    expect(badHash.code).toBe(EXIT_USAGE);
    expect(badHash.stderr).toContain('32-byte hex hash');
    expect((await jam(['service', 'get', 'abc'])).code).toBe(EXIT_USAGE);
    expect((await jam(['package', 'list', '1', '--status', 'done'])).code).toBe(EXIT_USAGE);
    const badKey = await jam(['storage', 'get', '1', 'words']);
    expect(badKey.code).toBe(EXIT_USAGE);
    expect(badKey.stderr).toContain('--utf8');
    expect((await jam(['preimage', 'put', 'missing.bin'])).code).toBe(EXIT_USAGE);
    // a shortened hash copied from docs is neither a hash nor a file: say so, not just ENOENT
    const short = await jam(['service', 'create', '--code', '0x34dcea87...']);
    expect(short.code).toBe(EXIT_USAGE);
    expect(short.stderr).toContain('0x34dcea87... is neither a full preimage hash (0x and 64 hex digits) nor a file that exists');
    expect((await jam(['--url', 'ftp://x', 'health'])).code).toBe(EXIT_USAGE);
    expect(server.requests).toHaveLength(0);
  });

  it('finds the dev token in JAM_DATA_DIR when it is set, as the server writes it there', () => {
    mkdirSync(path.join(cwd, 'other-data'));
    writeFileSync(path.join(cwd, 'other-data', 'dev-token'), 'jam_dev_other\n');
    mkdirSync(path.join(cwd, '.jam-data'));
    writeFileSync(path.join(cwd, '.jam-data', 'dev-token'), 'jam_dev_default\n');
    expect(defaultToken({ cwd, dataDir: 'other-data', stdout: process.stdout, stderr: process.stderr }).token).toBe('jam_dev_other');
    expect(defaultToken({ cwd, stdout: process.stdout, stderr: process.stderr }).token).toBe('jam_dev_default');
  });

  it('never prints the token in --help, whichever source it comes from', async () => {
    mkdirSync(path.join(cwd, '.jam-data'));
    writeFileSync(path.join(cwd, '.jam-data', 'dev-token'), 'jam_dev_secret-from-file\n');
    const fromFile = await jam(['--help']);
    expect(fromFile.stdout).toContain('bearer token');
    expect(fromFile.stdout).not.toContain('secret-from-file');
    expect((await jam(['--help'], { token: 'secret-from-env' })).stdout).not.toContain('secret-from-env');
  });

  it('takes the token from --token, else JAM_TOKEN, else .jam-data/dev-token in the working directory', async () => {
    server = await startFakeServer(fakeJam().handler);
    mkdirSync(path.join(cwd, '.jam-data'));
    writeFileSync(path.join(cwd, '.jam-data', 'dev-token'), 'from-file\n');
    await jam(['service', 'list']);
    await jam(['service', 'list'], { token: 'from-env' });
    await jam(['--token', 'from-flag', 'service', 'list'], { token: 'from-env' });
    expect(server.requests.map((r) => r.headers.authorization)).toEqual(['Bearer from-file', 'Bearer from-env', 'Bearer from-flag']);
  });

  it('prints the server code and message and exits 1 for an API error, with a hint for unauthorized', async () => {
    server = await startFakeServer(fakeJam({ token: 'right' }).handler);
    const r = await jam(['--token', 'wrong', 'service', 'get', '5']);
    expect(r.code).toBe(EXIT_FAILURE);
    expect(r.stderr).toContain('jam: unauthorized: missing or unknown bearer token');
    expect(r.stderr).toContain('jam: hint: the server refused the token given with --token');

    const j = await jam(['--token', 'right', '--json', 'service', 'get', '5']);
    expect(j.code).toBe(EXIT_FAILURE);
    expect(JSON.parse(j.stderr)).toEqual({ error: { code: 'not_found', message: 'no service 5' } });
  });

  it('says on 401 where the refused token came from (flag, JAM_TOKEN, dev-token file or none), never the token', async () => {
    server = await startFakeServer(fakeJam({ token: 'right' }).handler);
    const hint = async (argv: string[], env: Partial<CliEnvironment> = {}) => {
      const r = await jam(argv, env);
      expect(r.code).toBe(EXIT_FAILURE);
      expect(r.stderr).not.toContain('wrong-secret');
      return r.stderr.split('\n').find((l) => l.startsWith('jam: hint: '));
    };
    const devToken = path.join(cwd, '.jam-data', 'dev-token');
    expect(await hint(['service', 'list'])).toBe(`jam: hint: no token was sent: pass --token or set JAM_TOKEN (the embedded server writes one to ${devToken})`);
    mkdirSync(path.join(cwd, '.jam-data'));
    writeFileSync(devToken, 'wrong-secret-file\n');
    expect(await hint(['service', 'list'])).toContain(`the server refused the dev token read from ${devToken}`);
    expect(await hint(['service', 'list'], { token: 'wrong-secret-env' })).toContain('the server refused the token in JAM_TOKEN');
    expect(await hint(['--token=wrong-secret-flag', 'service', 'list'], { token: 'wrong-secret-env' })).toBe(
      'jam: hint: the server refused the token given with --token',
    );
    // the demo reports its own failure line, and still says which token was refused
    expect(await hint(['demo'], { token: 'wrong-secret-env' })).toContain('the server refused the token in JAM_TOKEN');
  });

  it('exits 1 naming the URL when no server listens', async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const { port } = probe.address() as AddressInfo;
    await new Promise<void>((r) => probe.close(() => r()));
    const r = await jam(['health'], { url: `http://127.0.0.1:${port}` });
    expect(r.code).toBe(EXIT_FAILURE);
    expect(r.stderr).toContain(`http://127.0.0.1:${port}/healthz`);
    expect(r.stderr).toContain('npm start');
  });
});

describe('jam commands against a fake server', () => {
  it('puts and gets a preimage; files over 1 MiB show progress on stderr', async () => {
    const fake = fakeJam();
    server = await startFakeServer(fake.handler);
    writeFileSync(path.join(cwd, 'small.txt'), 'hello');
    writeFileSync(path.join(cwd, 'big.bin'), Buffer.alloc(3 * 1024 * 1024, 7));

    const small = await jam(['preimage', 'put', 'small.txt']);
    const big = await jam(['preimage', 'put', 'big.bin']);
    const hash = small.stdout.trim();

    expect(small.code).toBe(EXIT_OK);
    expect(hash).toMatch(/^0x[0-9a-f]{64}$/);
    expect(small.stderr).not.toContain('%');
    expect(big.code).toBe(EXIT_OK);
    expect(big.stderr).toContain('100% 3.0/3.0 MiB');
    expect(fake.state.preimages.get(big.stdout.trim())?.length).toBe(3 * 1024 * 1024);

    expect((await jam(['preimage', 'get', hash])).stdout).toBe('hello');
    expect((await jam(['preimage', 'get', hash, '-o', 'out.txt'])).code).toBe(EXIT_OK);
    expect(JSON.parse((await jam(['--json', 'preimage', 'put', 'small.txt'])).stdout)).toEqual({ hash, length: 5, created: false });
  });

  it('creates a service from a wasm file, submits packages as JSON and binary, and watches one', async () => {
    const fake = fakeJam();
    server = await startFakeServer(fake.handler);
    writeFileSync(path.join(cwd, 'svc.wasm'), Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]));

    const created = await jam(['--json', 'service', 'create', '--code', 'svc.wasm']);
    expect(created.code).toBe(EXIT_OK);
    const svc = JSON.parse(created.stdout) as { id: number; code_hash: string };
    const codeHash = Buffer.from(svc.code_hash.slice(2), 'hex');
    const pkgA = demoPackage(svc.id, codeHash, [new TextEncoder().encode('one two')]);
    const pkgB = demoPackage(svc.id, codeHash, [new TextEncoder().encode('three')]);
    writeFileSync(path.join(cwd, 'a.json'), stringifyJamJson(workPackageToJson(pkgA), 2));
    writeFileSync(path.join(cwd, 'b.bin'), encodeWorkPackage(pkgB));
    writeFileSync(path.join(cwd, 'broken.json'), '{"items": [');

    const dry = await jam(['package', 'submit', 'a.json', '--dry-run']);
    expect(dry.code).toBe(EXIT_OK);
    expect(dry.stderr).toContain('no problems');
    expect(fake.state.packages.size).toBe(0);

    const a = await jam(['package', 'submit', 'a.json']);
    const [hashA, status] = a.stdout.trim().split(' ');
    expect(hashA).toBe(dry.stdout.trim());
    expect(status).toBe('pending');

    const b = await jam(['package', 'submit', 'b.bin']);
    expect(b.code).toBe(EXIT_OK);
    expect(server.requests.at(-1)?.headers['content-type']).toBe('application/octet-stream');
    expect((await jam(['package', 'submit', 'broken.json'])).code).toBe(EXIT_USAGE);

    const watch = await jam(['package', 'status', hashA ?? '', '--watch']);
    expect(watch.code).toBe(EXIT_OK);
    const seen = watch.stdout
      .trim()
      .split('\n')
      .map((l) => l.split(/\s+/).at(-1));
    // the status stream starts with the current status (the fake moves one step per event)
    expect(seen).toEqual(['pending', 'refining', 'attesting', 'attested', 'accumulating', 'accumulated']);

    const storage = await jam(['storage', 'get', String(svc.id), 'words', '--utf8']);
    expect(storage.stdout).toMatch(/u64_le:\s+2\n/);
    expect(server.requests.at(-1)?.url.pathname).toBe(`/jam/services/${svc.id}/storage/0x776f726473`);

    const report = await jam(['report', 'get', hashA ?? '']);
    expect(report.stdout).toContain('(valid signatures: 2, threshold 2)');
    expect(report.stdout).toContain('legacy format 1 (not checked)');

    const attesters = await jam(['attesters']);
    expect(attesters.code).toBe(EXIT_OK);
    expect(attesters.stdout).toMatch(
      /^threshold 2 of 2; signed message: jam_guarantee \+\+ blake2b256\(E\(report\)\)\n {2}attester 0 0x[0-9a-f]{64}\n {2}attester 1 0x[0-9a-f]{64}\n$/,
    );
    expect(server.requests.at(-1)?.url.pathname).toBe('/jam/attesters');
  });

  it('exits 1 when a watched package ends failed', async () => {
    const fake = fakeJam({ failMarker: 'BOOM' });
    server = await startFakeServer(fake.handler);
    writeFileSync(path.join(cwd, 'svc.wasm'), Buffer.from([0, 0x61, 0x73, 0x6d]));
    const svc = JSON.parse((await jam(['--json', 'service', 'create', '--code', 'svc.wasm'])).stdout) as { id: number; code_hash: string };
    const pkg = demoPackage(svc.id, Buffer.from(svc.code_hash.slice(2), 'hex'), [new TextEncoder().encode('BOOM')]);
    writeFileSync(path.join(cwd, 'p.bin'), encodeWorkPackage(pkg));

    const r = await jam(['package', 'submit', 'p.bin', '--watch']);

    expect(r.code).toBe(EXIT_FAILURE);
    expect(r.stdout.trim().split('\n').at(-1)).toMatch(/failed$/);
    expect(r.stderr).toContain('package_failed');
    expect(r.stderr).toContain('refine_sandbox_failure: refine trapped');
  });
});

describe('jam demo', () => {
  function wasmFile(): string {
    writeFileSync(path.join(cwd, 'word-count.wasm'), Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]));
    return 'word-count.wasm';
  }

  it('runs the whole flow, following each package on its status stream, and checks storage against the local count', async () => {
    const fake = fakeJam();
    server = await startFakeServer(fake.handler);

    const r = await jam(['demo', '--wasm', wasmFile()]);

    expect(r.stderr).toBe('');
    expect(r.code).toBe(EXIT_OK);
    expect(r.stdout).toContain('equals the local hash');
    expect(r.stdout).toContain('2/2 valid attestations (threshold 2)');
    expect(r.stdout.trim().split('\n').at(-1)).toMatch(/^demo: OK: 3 packages accumulated, words=\d+, items=6$/);
    expect(fake.state.services.size).toBe(1);
    expect([...fake.state.packages.values()].map((p) => p.pkg.items.length)).toEqual([1, 2, 3]);
    // followed over server-sent events: one stream per package, no polling
    const follows = server.requests
      .map((q) => q.url.pathname)
      .filter((p) => /^\/jam\/packages\/0x[0-9a-f]{64}(\/events)?$/.test(p))
      .map((p) => (p.endsWith('/events') ? 'stream' : 'poll'));
    expect(follows).toEqual(['stream', 'stream', 'stream']);
  });

  it('falls back to polling, with a note on stderr, when the gateway has no status stream', async () => {
    server = await startFakeServer(fakeJam({ noEvents: true }).handler);
    const r = await jam(['demo', '--wasm', wasmFile()]);
    expect(r.code).toBe(EXIT_OK);
    expect(r.stderr).toContain('status stream of package 1 unavailable');
    expect(r.stdout.trim().split('\n').at(-1)).toMatch(/^demo: OK: 3 packages accumulated/);
  });

  it('fails with exit 1 when the stored total differs from the local count', async () => {
    server = await startFakeServer(fakeJam({ wordsSkew: 1n }).handler);
    const r = await jam(['demo', '--wasm', wasmFile()]);
    expect(r.code).toBe(EXIT_FAILURE);
    expect(r.stdout.trim().split('\n').at(-1)).toMatch(/^demo: FAILED: storage words=\d+, items=6; a local count gives words=\d+, items=6$/);
  });

  it('fails with a clear message when the service is not built', async () => {
    server = await startFakeServer(fakeJam().handler);
    const r = await jam(['demo', '--wasm', 'nope.wasm']);
    expect(r.code).toBe(EXIT_FAILURE);
    expect(r.stdout).toContain('demo: FAILED: --wasm nope.wasm: no such file');
  });

  it('exits 1 with demo: FAILED when a package fails', async () => {
    server = await startFakeServer(fakeJam({ failMarker: 'Refine is' }).handler);
    const r = await jam(['demo', '--wasm', wasmFile()]);
    expect(r.code).toBe(EXIT_FAILURE);
    expect(r.stdout).toMatch(/demo: FAILED: package 2 0x[0-9a-f]{64} ended failed \(refine_sandbox_failure: refine trapped\)/);
  });
});

describe('jam --watch over the status stream', () => {
  /** A fake server with one service and one submitted package; returns the package hash. */
  async function submitted(options: FakeJamOptions = {}, text = 'one two'): Promise<string> {
    server = await startFakeServer(fakeJam(options).handler);
    writeFileSync(path.join(cwd, 'svc.wasm'), Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]));
    const svc = JSON.parse((await jam(['--json', 'service', 'create', '--code', 'svc.wasm'])).stdout) as { id: number; code_hash: string };
    writeFileSync(
      path.join(cwd, 'p.bin'),
      encodeWorkPackage(demoPackage(svc.id, Buffer.from(svc.code_hash.slice(2), 'hex'), [new TextEncoder().encode(text)])),
    );
    return (await jam(['package', 'submit', 'p.bin'])).stdout.split(' ')[0] as string;
  }
  const statusRequests = (hash: string) => (server?.requests ?? []).filter((r) => r.url.pathname === `/jam/packages/${hash}`).length;
  const streamRequests = (hash: string) => (server?.requests ?? []).filter((r) => r.url.pathname === `/jam/packages/${hash}/events`).length;
  const statuses = (stdout: string) =>
    stdout
      .trim()
      .split('\n')
      .map((l) => l.split(/\s+/).at(-1));
  const ALL = ['pending', 'refining', 'attesting', 'attested', 'accumulating', 'accumulated'];

  it('follows GET /jam/packages/{hash}/events with no polling, one line per status', async () => {
    const hash = await submitted();
    const r = await jam(['package', 'status', hash, '--watch']);
    expect(r.code).toBe(EXIT_OK);
    expect(statuses(r.stdout)).toEqual(ALL);
    expect(r.stdout.trim().split('\n')[0]).toMatch(new RegExp(`^\\d\\d:\\d\\d:\\d\\d\\.\\d{3}  ${hash}  pending$`));
    expect(r.stderr).toBe('');
    expect(streamRequests(hash)).toBe(1);
    expect(statusRequests(hash)).toBe(0);
    const events = server!.requests.find((q) => q.url.pathname.endsWith('/events'))!;
    expect(events.headers.accept).toBe('text/event-stream');
  });

  it('prints one JSON line per status under --json, as polling did', async () => {
    const hash = await submitted();
    const r = await jam(['--json', 'package', 'status', hash, '--watch']);
    expect(r.code).toBe(EXIT_OK);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { hash: string; status: string });
    expect(lines.map((l) => l.status)).toEqual(ALL);
    expect(lines.every((l) => l.hash === hash)).toBe(true);
    expect(r.stderr).toBe('');
  });

  it('falls back to polling when the stream breaks, printing each status once and a note on stderr', async () => {
    const hash = await submitted({ eventsBreakAfter: 2 });
    const r = await jam(['package', 'status', hash, '--watch']);
    expect(r.code).toBe(EXIT_OK);
    expect(statuses(r.stdout)).toEqual(ALL);
    expect(r.stderr).toMatch(/^jam: note: status stream unavailable \(.*\); polling instead\n$/);
    expect(streamRequests(hash)).toBe(1);
    expect(statusRequests(hash)).toBeGreaterThan(0);
  });

  it('falls back to polling against a gateway without the stream route (404)', async () => {
    const hash = await submitted({ noEvents: true });
    const r = await jam(['package', 'status', hash, '--watch']);
    expect(r.code).toBe(EXIT_OK);
    // the fake's poll moves one step per read, so polling alone starts one step on
    expect(statuses(r.stdout)).toEqual(ALL.slice(1));
    expect(r.stderr).toContain('polling instead');
  });

  it('exits 1 with the failure when a streamed package ends failed, from submit --watch too', async () => {
    server = await startFakeServer(fakeJam({ failMarker: 'BOOM' }).handler);
    writeFileSync(path.join(cwd, 'svc.wasm'), Buffer.from([0, 0x61, 0x73, 0x6d]));
    const svc = JSON.parse((await jam(['--json', 'service', 'create', '--code', 'svc.wasm'])).stdout) as { id: number; code_hash: string };
    writeFileSync(
      path.join(cwd, 'p.bin'),
      encodeWorkPackage(demoPackage(svc.id, Buffer.from(svc.code_hash.slice(2), 'hex'), [new TextEncoder().encode('BOOM')])),
    );
    const r = await jam(['package', 'submit', 'p.bin', '--watch']);
    expect(r.code).toBe(EXIT_FAILURE);
    expect(statuses(r.stdout)).toEqual(['pending', 'refining', 'failed']);
    expect(r.stderr).toBe(`jam: package_failed: package ${r.stdout.split(/\s+/)[1]} ended failed: refine_sandbox_failure: refine trapped\n`);
    expect(server.requests.filter((q) => q.url.pathname.endsWith('/events'))).toHaveLength(1);
  });

  it('does not fall back on a refused token: exit 1 with the unauthorized hint, one request', async () => {
    server = await startFakeServer(fakeJam({ token: 'right' }).handler);
    const hash = `0x${'ab'.repeat(32)}`;
    const r = await jam(['--token', 'wrong', 'package', 'status', hash, '--watch']);
    expect(r.code).toBe(EXIT_FAILURE);
    expect(r.stderr).toContain('jam: unauthorized: missing or unknown bearer token');
    expect(r.stderr).toContain('jam: hint: the server refused the token given with --token');
    expect(r.stderr).not.toContain('polling');
    expect(server.requests.map((q) => q.url.pathname)).toEqual([`/jam/packages/${hash}/events`]);
  });
});

describe('jam admin', () => {
  const ADMIN = 'adm-secret-1';

  it('manages delegates and quotas with the admin token from --admin-token or JAM_ADMIN_TOKEN, never the /jam token', async () => {
    const fake = fakeJamAdmin({ adminToken: ADMIN });
    server = await startFakeServer(fake.handler);
    const add = await jam(['--token', 'jam-token', 'admin', '--admin-token', ADMIN, 'delegate', 'add', '7', 'dave']);
    expect(add.code).toBe(EXIT_OK);
    expect(add.stdout).toMatch(/^delegates: dave$/m);
    expect(fake.state.services.get(7)).toEqual(['dave']);

    const set = await jam(['admin', 'quota', 'set', 'bob', '0'], { adminToken: ADMIN });
    expect(set.code).toBe(EXIT_OK);
    expect(set.stdout).toMatch(/^max_pending_packages: 0$/m);
    expect((await jam(['admin', 'quota', 'set', 'carol', 'default'], { adminToken: ADMIN })).stdout).toMatch(/^max_pending_packages: default$/m);
    expect(fake.state.quotas).toEqual(
      new Map([
        ['bob', 0],
        ['carol', null],
      ]),
    );

    const list = await jam(['--json', 'admin', 'quota', 'list'], { adminToken: ADMIN });
    expect(JSON.parse(list.stdout)).toMatchObject({
      items: [
        { principal: 'bob', max_pending_packages: 0 },
        { principal: 'carol', max_pending_packages: null },
      ],
      default_max_pending_packages: 1000,
    });
    expect((await jam(['admin', 'quota', 'remove', 'bob'], { adminToken: ADMIN })).stdout).toBe('removed the override of bob\n');
    expect((await jam(['admin', 'quota', 'remove', 'bob'], { adminToken: ADMIN })).stdout).toBe('bob had no override\n');
    expect((await jam(['admin', 'delegate', 'remove', '7', 'dave'], { adminToken: ADMIN })).stdout).toMatch(/^delegates: -$/m);

    // only the admin token reaches /admin, never the /jam token
    const auths = server.requests.map((q) => q.headers.authorization);
    expect(new Set(auths)).toEqual(new Set([`Bearer ${ADMIN}`]));
  });

  it('lists and resolves disputes, and reads the audit log filtered by action', async () => {
    const fake = fakeJamAdmin({ adminToken: ADMIN });
    server = await startFakeServer(fake.handler);
    const env = { adminToken: ADMIN };
    const disputed = `0x${'11'.repeat(32)}`;
    const list = await jam(['admin', 'dispute', 'list'], env);
    expect(list.stdout).toContain(`${disputed}  services 7  by alice`);
    expect(list.stdout).toContain(`  report 0x${'aa'.repeat(32)}  signers 1/2`);

    const other = await jam(['admin', 'dispute', 'resolve', disputed, '--accept', `0x${'cc'.repeat(32)}`], env);
    expect(other.code).toBe(EXIT_FAILURE);
    expect(other.stderr).toContain('jam: invalid_request: report 0x');
    const accepted = await jam(['admin', 'dispute', 'resolve', disputed, '--accept', `0x${'AA'.repeat(32)}`], env);
    expect(accepted.code).toBe(EXIT_OK);
    expect(accepted.stdout).toMatch(/^status: +attested$/m);
    expect(fake.state.resolved).toEqual([{ hash: disputed, body: { decision: 'accept', report_hash: `0x${'aa'.repeat(32)}` } }]);

    const failed = `0x${'22'.repeat(32)}`;
    const retried = await jam(['admin', 'package', 'retry', failed], env);
    expect(retried.code).toBe(EXIT_OK);
    expect(retried.stdout).toMatch(/^status: +pending$/m);
    expect(fake.state.failed.size).toBe(0);
    const gone = await jam(['admin', 'package', 'retry', failed], env);
    expect(gone.stderr).toBe(`jam: not_found: no package ${failed}\njam: hint: package ${failed} does not exist on ${server.url}\n`);

    const audit = await jam(['--json', 'admin', 'audit', '--action', 'dispute.resolve'], env);
    expect(audit.code).toBe(EXIT_OK);
    expect((JSON.parse(audit.stdout) as { items: { outcome: string }[] }).items.map((e) => e.outcome)).toEqual(['success', 'failure']);
    const text = await jam(['admin', 'audit'], env);
    expect(text.stdout.split('\n')[0]).toMatch(/^ +\d+ {2}\S+ {2}audit\.list +success {2}0xcdcdcdcdcdcd {2}GET \/admin\/audit$/);
  });

  it('says what to check on 401, 403 and 404, and refuses a missing token or contradictory flags before any request', async () => {
    const fake = fakeJamAdmin({ adminToken: ADMIN });
    server = await startFakeServer(fake.handler);
    const none = await jam(['admin', 'quota', 'list'], { token: 'jam-token' });
    expect(none.code).toBe(EXIT_USAGE);
    expect(none.stderr).toBe('jam: usage: no admin token: pass --admin-token or set JAM_ADMIN_TOKEN (an admin token, not the /jam token)\n');
    const both = await jam(['admin', 'dispute', 'resolve', `0x${'11'.repeat(32)}`, '--reject', '--accept', `0x${'aa'.repeat(32)}`], { adminToken: ADMIN });
    expect(both.code).toBe(EXIT_USAGE);
    expect((await jam(['admin', 'delegate', 'add', '7', 'bad/name'], { adminToken: ADMIN })).code).toBe(EXIT_USAGE);
    expect(server.requests).toHaveLength(0);

    const wrong = await jam(['admin', 'quota', 'list'], { adminToken: 'not-it' });
    expect(wrong.code).toBe(EXIT_FAILURE);
    expect(wrong.stderr).toContain('jam: unauthorized: not an admin token');
    expect(wrong.stderr).toContain("jam: hint: the server refused the admin token from JAM_ADMIN_TOKEN: it must be one of the server's admin_tokens");
    const flag = await jam(['admin', '--admin-token', 'not-it', 'audit'], { adminToken: ADMIN });
    expect(flag.stderr).toContain('the server refused the admin token from --admin-token');

    const missing = await jam(['admin', 'delegate', 'add', '8', 'dave'], { adminToken: ADMIN });
    expect(missing.code).toBe(EXIT_FAILURE);
    expect(missing.stderr).toBe(`jam: not_found: no service 8\njam: hint: service 8 does not exist on ${server.url}\n`);
    const json = await jam(['--json', 'admin', 'delegate', 'add', '8', 'dave'], { adminToken: ADMIN });
    expect(JSON.parse(json.stderr)).toEqual({ error: { code: 'not_found', message: 'no service 8' } });

    await server.close();
    server = await startFakeServer(fakeJamAdmin({ adminToken: ADMIN, forbidden: true }).handler);
    const forbidden = await jam(['admin', 'dispute', 'list'], { adminToken: ADMIN });
    expect(forbidden.code).toBe(EXIT_FAILURE);
    expect(forbidden.stderr).toContain('jam: forbidden: this address may not use the admin API');
    expect(forbidden.stderr).toContain("must be in the server's admin_ip_allowlist (JAM_ADMIN_IP_ALLOWLIST");
  });

  it('has help text on every admin command', async () => {
    for (const argv of [
      ['admin'],
      ['admin', 'delegate'],
      ['admin', 'delegate', 'add'],
      ['admin', 'delegate', 'remove'],
      ['admin', 'quota'],
      ['admin', 'quota', 'list'],
      ['admin', 'quota', 'set'],
      ['admin', 'quota', 'remove'],
      ['admin', 'dispute'],
      ['admin', 'dispute', 'list'],
      ['admin', 'dispute', 'resolve'],
      ['admin', 'package'],
      ['admin', 'package', 'retry'],
      ['admin', 'audit'],
    ]) {
      const r = await jam([...argv, '--help']);
      expect(r.code).toBe(EXIT_OK);
      expect(r.stdout).toMatch(new RegExp(`^Usage: jam ${argv.join(' ')}`));
      // a description line under the usage line
      expect(r.stdout.split('\n')[2]?.length).toBeGreaterThan(10);
    }
  });
});

describe('jam --version', () => {
  it('prints the package version, the Gray Paper version and both engines of the build (Wasm and PVM)', async () => {
    const pkg = JSON.parse(readFileSync(path.resolve(__dirname, '../../../package.json'), 'utf8')) as { version: string };
    const r = await jam(['--version']);
    expect(r.code).toBe(EXIT_OK);
    const [first, protocol, wasm, pvm] = r.stdout.trim().split('\n');
    expect(first).toBe(`jam ${pkg.version}`);
    expect(protocol).toContain(`Gray Paper ${GP_PROTOCOL_VERSION}`);
    expect(wasm).toBe(`engines:  ${ENGINE_IDENTITY.name} ${ENGINE_IDENTITY.version}, cost table v${ENGINE_IDENTITY.cost_table_version} (WebAssembly services)`);
    expect(pvm).toBe(
      `          ${PVM_ENGINE_IDENTITY.name} ${PVM_ENGINE_IDENTITY.version}, cost table v${PVM_ENGINE_IDENTITY.cost_table_version} (JAM service blobs, PVM)`,
    );
    expect((await jam(['-V'])).stdout).toBe(r.stdout);
    const j = await jam(['--json', 'version']);
    expect(JSON.parse(j.stdout)).toEqual(cliVersion());
    expect(cliVersion().engines).toEqual([
      { format: 'wasm', ...ENGINE_IDENTITY },
      { format: 'jam-pvm', ...PVM_ENGINE_IDENTITY },
    ]);
    expect(cliVersion().cli).toBe(pkg.version);
    expect(cliVersion('/').cli).toBe('unknown');
  });
});
