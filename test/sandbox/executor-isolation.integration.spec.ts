/**
 * Isolation of the executor processes (docs/sandbox.md): what an executor can see of the process
 * that started it, and that a crash stays with its own job. Linux only (/proc). Needs `npm run build`.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, readFileSync, readdirSync, readlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SandboxPool, exampleServicePath, validateServiceCode } from '@jam/sandbox';
import { hostile, refineRequest, wat2wasm } from './sandbox-test.helpers';

function descriptors(pid: number | 'self'): Map<number, string> {
  const out = new Map<number, string>();
  for (const name of readdirSync(`/proc/${pid}/fd`)) {
    try {
      out.set(Number(name), readlinkSync(`/proc/${pid}/fd/${name}`));
    } catch {
      // closed while listing
    }
  }
  return out;
}

describe('executor isolation', () => {
  const secret = `jam-test-secret-${randomBytes(12).toString('hex')}`;
  const secretFile = path.join(os.tmpdir(), `jam-sandbox-secret-${process.pid}.txt`);
  let secretFd: number;
  let pool: SandboxPool;

  beforeAll(async () => {
    // the parent looks like a real worker: a secret in its environment and an open secret file
    process.env['JAM_TEST_SECRET'] = secret;
    writeFileSync(secretFile, secret);
    secretFd = openSync(secretFile, 'r');
    pool = new SandboxPool({ size: 2 });
    await pool.start();
  });

  afterAll(async () => {
    await pool.close();
    closeSync(secretFd);
    unlinkSync(secretFile);
    delete process.env['JAM_TEST_SECRET'];
  });

  it('runs guest code in separate processes, children of this one', () => {
    const pids = pool.executorPids();
    expect(pids).toHaveLength(2);
    for (const pid of pids) {
      expect(pid).not.toBe(process.pid);
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      expect(Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])).toBe(process.pid);
    }
  });

  it("gives executors an empty environment (only Node's own IPC variables) and no secret in argv", () => {
    expect(process.env['JAM_TEST_SECRET']).toBe(secret);
    for (const pid of pool.executorPids()) {
      const environ = readFileSync(`/proc/${pid}/environ`, 'utf8');
      expect(environ).not.toContain(secret);
      const names = environ
        .split('\0')
        .filter(Boolean)
        .map((kv) => kv.slice(0, kv.indexOf('=')));
      expect(names.sort()).toEqual(['NODE_CHANNEL_FD', 'NODE_CHANNEL_SERIALIZATION_MODE']);
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      expect(cmdline).not.toContain(secret);
      expect(cmdline).not.toContain(secretFile);
    }
  });

  it("leaves executors no descriptor but stdio on /dev/null, the IPC socket and Node's own pipes and event fds", () => {
    expect(descriptors('self').get(secretFd)).toBe(secretFile);
    const parentPipes = new Set([...descriptors('self').values()].filter((t) => t.startsWith('pipe:') || t.startsWith('socket:')));
    for (const pid of pool.executorPids()) {
      const fds = descriptors(pid);
      expect([fds.get(0), fds.get(1), fds.get(2)]).toEqual(['/dev/null', '/dev/null', '/dev/null']);
      const sockets = [...fds.entries()].filter(([, t]) => t.startsWith('socket:'));
      expect(sockets.map(([fd]) => fd)).toEqual([3]);
      for (const [fd, target] of fds) {
        expect(target).not.toBe(secretFile);
        // no regular file, directory or device other than /dev/null
        expect({ fd, target, ok: target === '/dev/null' || /^(pipe|socket):\[\d+\]$/.test(target) || target.startsWith('anon_inode:') }).toEqual({
          fd,
          target,
          ok: true,
        });
        // pipes and sockets are the executor's own, not inherited from this process
        if (fd !== 3) expect({ fd, target, inherited: parentPipes.has(target) }).toEqual({ fd, target, inherited: false });
      }
    }
  });

  it('gives guests no way to name a clock, randomness, the filesystem or the network: only "jam" host functions exist', async () => {
    expect(() => validateServiceCode(new Uint8Array(0))).toThrow();
    const wasi: [string, string][] = [
      ['clock_time_get', '(param i32 i64 i32) (result i32)'],
      ['random_get', '(param i32 i32) (result i32)'],
      ['path_open', '(param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)'],
      ['sock_accept', '(param i32 i32 i32) (result i32)'],
    ];
    for (const [name, sig] of wasi) {
      for (const module of ['wasi_snapshot_preview1', 'env', 'jam']) {
        const code = await wat2wasm(`(module (import "${module}" "${name}" (func ${sig})) (memory (export "memory") 1)
          (func (export "refine") (param i32 i32) (result i64) (i64.const 0)) (func (export "accumulate") (param i32) (result i64) (i64.const 0)))`);
        const reason = module === 'jam' ? `unknown host function: jam.${name}` : `import outside "jam": ${module}.${name}`;
        expect(() => validateServiceCode(code)).toThrow(expect.objectContaining({ code: 'invalid_code', message: reason }));
      }
    }
  });

  it('a crashed executor fails only its own job; the other job finishes and the executor is replaced', async () => {
    const crashPool = new SandboxPool({ size: 2, wallClockMs: 60_000 });
    await crashPool.start();
    try {
      const [victim, survivor] = crashPool.executorPids() as [number, number];
      const loop = crashPool.refine(await refineRequest(await hostile('infinite-loop'), new Uint8Array(0), (1n << 62n) - 1n));
      const wordCount = new Uint8Array(readFileSync(exampleServicePath('word-count')));
      const ok = crashPool.refine(await refineRequest(wordCount, new TextEncoder().encode('a b c')));
      await new Promise((r) => setTimeout(r, 200));
      process.kill(victim, 'SIGKILL');
      await expect(loop).rejects.toThrow(/sandbox executor failed: sandbox executor exited with SIGKILL/);
      expect((await ok).result).toEqual({ ok: Uint8Array.of(3, 0, 0, 0, 0, 0, 0, 0) });
      // the replacement comes up and serves; the survivor is untouched
      // a fork + ready takes tens of ms on an idle machine and seconds on a busy one: the bound is a backstop, the loop ends when it is up
      for (let i = 0; i < 3000 && crashPool.executorPids().length < 2; i++) await new Promise((r) => setTimeout(r, 20));
      const pids = crashPool.executorPids();
      expect(pids).toHaveLength(2);
      expect(pids).toContain(survivor);
      expect(pids).not.toContain(victim);
      const again = await Promise.all([1, 2].map(async () => crashPool.refine(await refineRequest(wordCount, new TextEncoder().encode('x y')))));
      for (const o of again) expect(o.result).toEqual({ ok: Uint8Array.of(2, 0, 0, 0, 0, 0, 0, 0) });
    } finally {
      await crashPool.close();
    }
  });

  it('retries a replacement executor that dies before it is ready, with backoff, instead of shrinking the pool', async () => {
    const p = new SandboxPool({ size: 1, wallClockMs: 60_000 });
    await p.start();
    try {
      const [first] = p.executorPids() as [number];
      const others = new Set(pool.executorPids());
      /** Executors forked by this process that are not online in either pool: still starting. */
      const starting = (): number[] => {
        const online = new Set([...p.executorPids(), ...others]);
        const out: number[] = [];
        for (const name of readdirSync('/proc')) {
          if (!/^\d+$/.test(name) || online.has(Number(name))) continue;
          try {
            const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
            const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
            if (Number(f[1]) === process.pid && f[0] !== 'Z' && readFileSync(`/proc/${name}/cmdline`, 'utf8').includes('executor.process.js'))
              out.push(Number(name));
          } catch {
            // gone meanwhile
          }
        }
        return out;
      };
      process.kill(first, 'SIGKILL');
      // every replacement is killed before it reports ready, for a while (the OOM killer, a failed fork)
      const killed = new Set<number>([first]);
      const until = Date.now() + 1500;
      while (Date.now() < until) {
        for (const pid of starting()) {
          if (killed.has(pid)) continue;
          killed.add(pid);
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // exited meanwhile
          }
        }
        await new Promise((r) => setTimeout(r, 5));
      }
      expect(killed.size - 1).toBeGreaterThanOrEqual(1);
      // the slot is kept and respawned after its backoff: the pool serves again with one executor
      const wordCount = new Uint8Array(readFileSync(exampleServicePath('word-count')));
      const out = await p.refine(await refineRequest(wordCount, new TextEncoder().encode('a b')));
      expect(out.result).toEqual({ ok: Uint8Array.of(2, 0, 0, 0, 0, 0, 0, 0) });
      expect(p.executorPids()).toHaveLength(1);
      expect(killed.has(p.executorPids()[0]!)).toBe(false);
    } finally {
      await p.close();
    }
  });
  // The per-job round trip is measured by `npm run bench -- sandbox` (docs/performance.md section 3),
  // not asserted here: a timing bound failed this suite whenever the machine was busy.
});
