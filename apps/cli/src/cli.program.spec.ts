import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { encodeWorkPackage, initHashing, stringifyJamJson, workPackageToJson } from '@jam/domain';
import { fakeJam, startFakeServer, type FakeServer } from '../../../libs/client/src/testing/fake-jam-server';
import type { CliEnvironment } from './cli.context';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, defaultToken, runCli } from './cli.program';
import { demoPackage } from './commands/demo.command';

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
    expect(await hint(['--token=wrong-secret-flag', 'service', 'list'], { token: 'wrong-secret-env' })).toBe('jam: hint: the server refused the token given with --token');
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
    const seen = watch.stdout.trim().split('\n').map((l) => l.split(/\s+/).at(-1));
    expect(seen).toEqual(['refining', 'attesting', 'attested', 'accumulating', 'accumulated']);

    const storage = await jam(['storage', 'get', String(svc.id), 'words', '--utf8']);
    expect(storage.stdout).toMatch(/u64_le:\s+2\n/);
    expect(server.requests.at(-1)?.url.pathname).toBe(`/jam/services/${svc.id}/storage/0x776f726473`);

    const report = await jam(['report', 'get', hashA ?? '']);
    expect(report.stdout).toContain('(valid signatures: 2, threshold 2)');
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

  it('runs the whole flow and checks storage against the local count', async () => {
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
