/**
 * `jam init`, `jam build`, `jam run` in process, with this checkout's real compiler and sandbox
 * executors (needs `npm run build` for the executor entry). The full path to a server is in
 * test/e2e/service-guide.e2e-spec.ts; here: bad input gets a clear usage error or code, and
 * `--storage` carries state from one run to the next.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { initHashing } from '@jam/domain';
import type { CliEnvironment } from '../cli.context';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, runCli } from '../cli.program';

let cwd: string;
beforeAll(() => initHashing());
beforeEach(() => {
  cwd = mkdtempSync(path.join(tmpdir(), 'jam-sdk-cli-'));
});
afterEach(() => rmSync(cwd, { recursive: true, force: true }));

async function jam(argv: string[], env: Partial<CliEnvironment> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, {
    cwd,
    ...env,
    stdout: { write: (c: string | Uint8Array) => (stdout += String(c)) },
    stderr: { write: (c: string | Uint8Array) => (stderr += String(c)) },
  });
  return { code, stdout, stderr };
}

describe('jam init / build / run', () => {
  it('refuses to init into a directory that is not empty, and build/run of something that is not a project', async () => {
    writeFileSync(path.join(cwd, 'keep.txt'), 'x');
    const init = await jam(['init', '.']);
    expect(init).toMatchObject({ code: EXIT_USAGE, stdout: '' });
    expect(init.stderr).toBe('jam: usage: . exists and is not an empty directory\n');
    expect(readFileSync(path.join(cwd, 'keep.txt'), 'utf8')).toBe('x');

    expect((await jam(['build', '.'])).stderr).toMatch(/^jam: usage: \. is not a service project: no assembly\/index\.ts/);
    expect(await jam(['run', 'missing.wasm'])).toMatchObject({ code: EXIT_USAGE, stderr: 'jam: usage: no such file or directory: missing.wasm\n' });
    const badPayload = await jam(['run', 'keep.txt', '--payload', '0xabc']);
    expect(badPayload.code).toBe(EXIT_USAGE);
    expect(badPayload.stderr).toContain('expected 0x-prefixed hex bytes');
  });

  it('runs a PVM service (a JAM service blob, as jam-pvm-build makes) through the PVM engine, with its log lines', async () => {
    // the accumulate vectors' real test service (test/fixtures/jam-vectors/pvm-services): refine
    // greets its payload (PVM refine host calls); accumulate fetches its operand (GP accumulate
    // host calls) and stores the refine output under `last`
    const blob = path.resolve(__dirname, '../../../../test/fixtures/jam-vectors/pvm-services/test-service.jam');
    const r = await jam(['--json', 'run', blob, '--payload', '0x01']);
    expect(r.code).toBe(EXIT_OK);
    const out = JSON.parse(r.stdout);
    expect(out.refine.result).toBe('ok');
    expect(out.refine.output).toBe('0x48656c6c6f2001');
    expect(out.refine.gas_used).toBeGreaterThan(0);
    expect(out.refine.gas_used).toBeLessThan(out.refine.gas_limit);
    expect(out.refine.logs).toEqual(['[2] This is Refine in the Test Service 0h with payload len 1']);
    expect(out.accumulate.status).toBe('ok');
    expect(out.accumulate.writes).toEqual([{ key: '0x6c617374', value: '0x48656c6c6f2001' }]);
    expect(out.accumulate.logs).toEqual(['[2] This is Accumulate in the Test Service 0h with 1 items']);
    expect(r.stderr).toBe('');
  }, 120_000);

  it('runs the registration check first: a module the server would refuse is invalid_code with its reason', async () => {
    writeFileSync(path.join(cwd, 'not.wasm'), 'not wasm at all');
    const r = await jam(['run', 'not.wasm', '--payload', '0x01']);
    expect(r.code).toBe(EXIT_FAILURE);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(
      /^jam: invalid_code: the server would refuse this code \(code\): neither a WebAssembly module \(no \\0asm magic\) nor a valid JAM service blob/,
    );
  }, 120_000);

  it('init + run: --storage carries the service state from run to run; a bad storage file is a usage error', async () => {
    expect((await jam(['init', 'svc'])).code).toBe(EXIT_OK);
    const state = path.join(cwd, 'state.json');
    const first = await jam(['--json', 'run', 'svc', '--storage', 'state.json']);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(EXIT_OK);
    expect(JSON.parse(first.stdout)).toMatchObject({ refine: { result: 'ok', output: '0x48454c4c4f204a414d' }, accumulate: { status: 'ok' } });
    expect(JSON.parse(readFileSync(state, 'utf8'))).toEqual({ '0x636f756e74': '0x0100000000000000', '0x6c617374': '0x48454c4c4f204a414d' });

    const second = await jam(['run', 'svc', '--storage', 'state.json', '--payload', '0x6869']);
    expect(second.code).toBe(EXIT_OK);
    expect(second.stdout).toContain('  write 0x636f756e74 "count" = 0x0200000000000000 (u64 le 2)\n');
    expect(second.stdout).toContain('  write 0x6c617374 "last" = 0x4849 "HI"\n');
    expect(JSON.parse(readFileSync(state, 'utf8'))).toEqual({ '0x636f756e74': '0x0200000000000000', '0x6c617374': '0x4849' });

    writeFileSync(state, '["not", "an object"]');
    const bad = await jam(['run', 'svc', '--storage', 'state.json']);
    expect(bad).toMatchObject({ code: EXIT_USAGE, stderr: 'jam: usage: --storage state.json: expected a JSON object {"0xkey": "0xvalue"}\n' });

    // too little gas: out_of_gas, with where it ran out, and exit 1
    const starved = await jam(['run', 'svc', '--gas', '1000']);
    expect(starved.code).toBe(EXIT_FAILURE);
    expect(starved.stdout).toMatch(/^refine: out_of_gas, gas 1000 of 1000\n {2}trap: out_of_gas: out of gas/m);
  }, 300_000);

  it('a compile error is build_failed with the compiler diagnostics', async () => {
    expect((await jam(['init', 'broken'])).code).toBe(EXIT_OK);
    writeFileSync(path.join(cwd, 'broken', 'assembly', 'index.ts'), 'export function refine(a: i32, b: i32): i64 { return nope; }\n');
    const r = await jam(['build', 'broken']);
    expect(r.code).toBe(EXIT_FAILURE);
    expect(r.stderr).toMatch(/^jam: build_failed: asc failed \(exit 1\):/);
    expect(r.stderr).toContain("Cannot find name 'nope'");
  }, 120_000);
});
