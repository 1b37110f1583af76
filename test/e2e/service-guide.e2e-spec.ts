/**
 * docs/service-guide.md, followed as written: `jam init` a project in a temporary directory outside
 * the repository (nothing edited), `jam build`, `jam run` locally (gas, result, writes and log
 * lines printed), `jam deploy` to a real running server (embedded mode), `jam package submit
 * --watch` to `accumulated`, `jam storage get` of the value, and `jam report get` showing the
 * guest's log lines kept beside the report. Then the guide's "When it traps" section: the same
 * empty payload traps locally and on the server, and both say where. Needs `npm run build`.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { JamProcess, PROCESS_TEST_TIMEOUT_MS, REPO_ROOT, freePort, runCli } from '../support/jam-server';

interface RunJson {
  code_hash: string;
  refine: {
    result: string;
    output?: string;
    gas_used: number;
    logs: string[];
    trap?: { kind: string; frames: { function: number; offset: number }[]; where: string };
  };
  accumulate: { status: string; gas_used: number; writes: { key: string; value: string | null }[]; logs: string[] };
}

interface ReportJson {
  report: { results: { result: Record<string, unknown>; refine_load: { gas_used: number } }[] };
  guest_log: { item_index: number; service_id: number; logs: string[]; trap: { kind: string; frames: { function: number; offset: number }[] } | null }[];
}

const hex = (s: string) => `0x${Buffer.from(s, 'utf8').toString('hex')}`;

describe('docs/service-guide.md: a new service from jam init to an accumulated package', () => {
  let work: string;
  let dataDir: string;
  let server: JamProcess;
  let cli: Record<string, string>;
  let project: string;

  beforeAll(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'jam-guide-'));
    expect(path.relative(REPO_ROOT, work).startsWith('..')).toBe(true); // outside the repository
    dataDir = path.join(work, 'server-data');
    project = path.join(work, 'hello-service');
    const port = await freePort();
    server = await JamProcess.start({ JAM_DATA_DIR: dataDir, JAM_PORT: String(port), JAM_SANDBOX_POOL_SIZE: '1' }, { port, timeoutMs: 120_000 });
    cli = { JAM_URL: `http://127.0.0.1:${port}`, JAM_DATA_DIR: dataDir };
  }, PROCESS_TEST_TIMEOUT_MS);

  afterAll(async () => {
    await server?.stop();
    fs.rmSync(work, { recursive: true, force: true });
  });

  it(
    'init, build, run, deploy, submit, read the storage value and the report log',
    async () => {
      // 1. jam init
      const init = await runCli(['init', project], cli);
      expect(init.stderr).toBe('');
      expect(init.code).toBe(0);
      for (const f of ['assembly/index.ts', 'package.json', 'work-package.json', 'README.md']) expect(fs.existsSync(path.join(project, f))).toBe(true);
      expect(fs.readFileSync(path.join(project, 'assembly/index.ts'), 'utf8')).toContain('from "@jam/service-sdk"');

      // 2. jam build
      const build = await runCli(['build', project], cli);
      expect(build.code).toBe(0);
      expect(build.stdout).toMatch(/^built: .*build\/service\.wasm \(\d+ bytes\)\n$/);
      expect((await runCli(['build', project], cli)).stdout).toMatch(/^up to date: /);

      // 3. jam run: refine then accumulate locally, with the guest's log lines
      const run = await runCli(['run', project, '--payload', hex('hello jam')], cli);
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/^refine: ok, gas \d+ of 10000000$/m);
      expect(run.stdout).toContain('  output: 0x48454c4c4f204a414d "HELLO JAM"\n');
      expect(run.stdout).toContain('  log [2] refine: item 0, 9 bytes\n');
      expect(run.stdout).toMatch(/^accumulate: ok, gas \d+ of 1000000$/m);
      expect(run.stdout).toContain('  write 0x636f756e74 "count" = 0x0100000000000000 (u64 le 1)\n');
      expect(run.stdout).toContain('  write 0x6c617374 "last" = 0x48454c4c4f204a414d "HELLO JAM"\n');
      expect(run.stdout).toContain('  log [2] accumulate: last = HELLO JAM\n');
      const local = JSON.parse((await runCli(['--json', 'run', project, '--payload', hex('hello jam')], cli)).stdout) as RunJson;
      expect(local.refine).toMatchObject({ result: 'ok', output: hex('HELLO JAM') });

      // 4. jam deploy: upload, register, fill in work-package.json
      const deploy = await runCli(['deploy', project], cli);
      expect(deploy.stderr).toBe('');
      expect(deploy.code).toBe(0);
      const serviceId = Number(/^service (\d+) registered, code (0x[0-9a-f]{64})/m.exec(deploy.stdout)?.[1]);
      expect(Number.isInteger(serviceId)).toBe(true);
      expect(deploy.stdout).toContain(`code ${local.code_hash}`);
      expect(deploy.stdout).toContain('next: jam package submit ');
      const wp = JSON.parse(fs.readFileSync(path.join(project, 'work-package.json'), 'utf8')) as { items: { service: number; code_hash: string }[] };
      expect(wp.items[0]).toMatchObject({ service: serviceId, code_hash: local.code_hash });

      // 5. jam package submit --watch
      const submit = await runCli(['package', 'submit', path.join(project, 'work-package.json'), '--watch', '--timeout', '600'], cli, 600_000, server);
      expect(submit.code).toBe(0);
      expect(submit.stdout.trim().split('\n').at(-1)).toMatch(/ accumulated$/);
      const packageHash = /0x[0-9a-f]{64}/.exec(submit.stdout)?.[0] as string;

      // 6. jam storage get
      const last = await runCli(['storage', 'get', String(serviceId), 'last', '--utf8'], cli);
      expect(last.code).toBe(0);
      expect(last.stdout).toMatch(/utf8:\s+"HELLO JAM"/);
      expect((await runCli(['storage', 'get', String(serviceId), 'count', '--utf8'], cli)).stdout).toMatch(/u64_le:\s+1\n/);

      // 7. jam report get: the log lines are kept beside the report; the server's refine gas is jam run's
      const report = await runCli(['report', 'get', packageHash], cli);
      expect(report.code).toBe(0);
      expect(report.stdout).toContain(`item 0 (service ${serviceId}):\n  log [2] refine: item 0, 9 bytes\n`);
      const reportJson = JSON.parse((await runCli(['--json', 'report', 'get', packageHash], cli)).stdout) as ReportJson;
      expect(reportJson.guest_log).toEqual([{ item_index: 0, service_id: serviceId, logs: ['[2] refine: item 0, 9 bytes'], trap: null }]);
      expect(reportJson.report.results[0]?.refine_load.gas_used).toBe(local.refine.gas_used);
    },
    PROCESS_TEST_TIMEOUT_MS,
  );

  it(
    '"When it traps": an empty payload panics locally and on the server, and both say where',
    async () => {
      // locally
      const run = await runCli(['--json', 'run', project, '--payload', '0x'], cli);
      expect(run.code).toBe(1);
      const local = JSON.parse(run.stdout) as RunJson;
      expect(local.refine.result).toBe('panic');
      expect(local.refine.logs).toEqual(['[0] refine: empty payload']);
      expect(local.refine.trap?.kind).toBe('unreachable');
      expect(local.refine.trap?.frames.length).toBeGreaterThan(0);
      expect(local.refine.trap?.where).toMatch(/^unreachable in function \d+ at 0x[0-9a-f]+/);
      const text = await runCli(['run', project, '--payload', '0x'], cli);
      expect(text.code).toBe(1);
      expect(text.stdout).toMatch(/^refine: panic, gas \d+ of 10000000\n {2}trap: unreachable: unreachable in function \d+ at 0x[0-9a-f]+/m);
      expect(text.stdout).toContain('  log [0] refine: empty payload\n');

      // on the server: the guide's one-line change to work-package.json ("payload": "0x")
      const file = path.join(project, 'work-package.json');
      const wp = JSON.parse(fs.readFileSync(file, 'utf8')) as { items: { payload: string }[] };
      wp.items[0]!.payload = '0x';
      fs.writeFileSync(file, JSON.stringify(wp, null, 2));
      const submit = await runCli(['package', 'submit', file, '--watch', '--timeout', '600'], cli, 600_000, server);
      expect(submit.code).toBe(0); // a panic is the item's result; the package still accumulates
      const packageHash = /0x[0-9a-f]{64}/.exec(submit.stdout)?.[0] as string;
      const report = JSON.parse((await runCli(['--json', 'report', 'get', packageHash], cli)).stdout) as ReportJson;
      expect(Object.keys(report.report.results[0]?.result ?? {})).toEqual(['panic']);
      expect(report.guest_log[0]?.logs).toEqual(['[0] refine: empty payload']);
      expect(report.guest_log[0]?.trap).toEqual({ kind: 'unreachable', message: 'unreachable', frames: local.refine.trap?.frames });
      expect((await runCli(['report', 'get', packageHash], cli)).stdout).toMatch(/ {2}trap: unreachable: unreachable in function \d+ at 0x/);
    },
    PROCESS_TEST_TIMEOUT_MS,
  );
});
