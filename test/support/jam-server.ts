import { spawn, type ChildProcess } from 'node:child_process';
import * as net from 'node:net';
import * as path from 'node:path';
import * as fs from 'node:fs';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');
export const MAIN_JS = path.join(REPO_ROOT, 'dist', 'apps', 'standalone', 'src', 'main.js');
export const JAM_CLI = path.join(REPO_ROOT, 'bin', 'jam.js');

/**
 * Waits in tests are bounded by progress, not by the wall clock (the machine may be shared and busy:
 * docs/architecture.md section 13 records absolute times tripling at load 20-30 on 2 cores). A wait fails when the thing
 * it waits on has shown no progress for its stall bound (ms), or after MAX_WAIT_MS in any case,
 * so a process that keeps working but never gets there cannot hang the suite. On an idle machine
 * nothing waits longer than before: every wait returns as soon as its condition holds.
 */
export const MAX_WAIT_MS = 15 * 60_000;

/**
 * Jest timeout (ms) of a hook or test that starts processes or waits on them: above MAX_WAIT_MS,
 * so the progress-bounded waits inside decide, and a real stall fails with their diagnosis.
 */
export const PROCESS_TEST_TIMEOUT_MS = MAX_WAIT_MS + 5 * 60_000;

/** USER_HZ of Linux /proc (100 on every mainstream architecture). */
const CLOCK_TICKS_PER_S = 100;

/** CPU time (utime + stime of the process and its reaped children, clock ticks) of `pid`; undefined when gone or off Linux. */
export function cpuTicks(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // after the command: state(0) ... utime(11) stime(12) cutime(13) cstime(14)
    return Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
  } catch {
    return undefined;
  }
}

/**
 * Polls `probe` every `intervalMs` until it returns a value. Fails when `progress()` (any value
 * that changes while the awaited work advances: output length, CPU time, statuses seen) stayed
 * the same for `stallMs`, or after `maxMs` (default MAX_WAIT_MS).
 * @throws Error naming `what`, how long it waited and `diagnose()`
 */
export async function untilProgress<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  opts: { progress: () => unknown; stallMs: number; maxMs?: number; intervalMs?: number; diagnose?: () => string },
): Promise<T> {
  const started = Date.now();
  const maxMs = opts.maxMs ?? MAX_WAIT_MS;
  let last = JSON.stringify(opts.progress());
  let lastChange = started;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    const now = Date.now();
    const p = JSON.stringify(opts.progress());
    if (p !== last) {
      last = p;
      lastChange = now;
    }
    if (now - lastChange > opts.stallMs || now - started > maxMs) {
      const why = now - started > maxMs ? `after ${maxMs} ms` : `no progress for ${opts.stallMs} ms (waited ${now - started} ms)`;
      throw new Error(`timed out waiting for ${what}: ${why}${opts.diagnose ? `\n${opts.diagnose()}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 200));
  }
}

/** A free TCP port on 127.0.0.1 (bound then released). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/** A real `jam` server process started from the build output. */
export class JamProcess {
  readonly output: string[] = [];
  private exited: Promise<number | null>;
  private outputBytes = 0;
  private exitCode: number | null | undefined;

  private constructor(readonly child: ChildProcess) {
    const keep = (d: Buffer) => {
      this.output.push(d.toString());
      this.outputBytes += d.length;
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    void this.exited.then((c) => (this.exitCode = c));
  }

  /**
   * What changes while this process works: bytes it printed and whole seconds of CPU it used (an
   * idle process's timers use far less than a second of CPU per stall bound, a starting or busy
   * one far more). A process that neither prints nor computes for a stall bound is hung.
   */
  progress(): { outputBytes: number; cpuSeconds: number | undefined } {
    const ticks = cpuTicks(this.child.pid);
    return { outputBytes: this.outputBytes, cpuSeconds: ticks === undefined ? undefined : Math.floor(ticks / CLOCK_TICKS_PER_S) };
  }

  /** The last `chars` characters of the output, for failure messages. */
  tail(chars = 6000): string {
    return this.output.join('').slice(-chars);
  }

  /**
   * Spawns `node main.js` with `env` (added to a minimal environment) and waits for `/healthz` when
   * `port` is given; `timeoutMs` is the stall bound of that wait (see {@link waitHealthy}).
   */
  static async start(env: Record<string, string>, opts: { port?: number; timeoutMs?: number } = {}): Promise<JamProcess> {
    if (!fs.existsSync(MAIN_JS)) throw new Error(`${MAIN_JS} missing: run npm run build`);
    const child = spawn(process.execPath, [MAIN_JS], {
      cwd: REPO_ROOT,
      // JAM_RPC_PORT=0: no JIP-2 listener unless a test asks for one on a free port (never the shared default 19800).
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', JAM_LOG_LEVEL: 'info', JAM_RPC_PORT: '0', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const p = new JamProcess(child);
    if (opts.port !== undefined) await p.waitHealthy(opts.port, opts.timeoutMs ?? 60_000);
    return p;
  }

  /**
   * Waits until `/healthz` on `port` answers 200. Bounded by progress: fails when the process
   * exited, or printed nothing and used no CPU for `stallMs` (a start that keeps logging or
   * computing, e.g. PGlite creating its database on a busy machine, is alive), or after MAX_WAIT_MS.
   * @throws Error with the process output
   */
  async waitHealthy(port: number, stallMs: number): Promise<void> {
    await untilProgress(
      `/healthz on ${port}`,
      async () => {
        if (this.exitCode !== undefined) throw new Error(`server exited with ${this.exitCode}:\n${this.output.join('')}`);
        try {
          const res = await fetch(`http://127.0.0.1:${port}/healthz`);
          if (res.ok) return true;
        } catch {
          /* not up yet */
        }
        return undefined;
      },
      { progress: () => this.progress(), stallMs, diagnose: () => this.output.join('') },
    );
  }

  /**
   * SIGTERM, then SIGKILL once the process has made no progress (output, CPU) for `graceMs` (a
   * shutdown still draining on a busy machine is not cut short); resolves with the exit code.
   */
  async stop(graceMs = 15_000): Promise<number | null> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return this.child.exitCode;
    this.child.kill('SIGTERM');
    try {
      await untilProgress('a clean shutdown', async () => (this.exitCode !== undefined ? true : undefined), {
        progress: () => this.progress(),
        stallMs: graceMs,
        maxMs: 4 * graceMs,
      });
    } catch {
      this.child.kill('SIGKILL');
    }
    return this.exited;
  }

  /**
   * Waits for the process to exit by itself. Bounded by progress: rejects once it has printed
   * nothing and used no CPU for `stallMs`, or after MAX_WAIT_MS.
   */
  async waitExit(stallMs: number): Promise<number | null> {
    await untilProgress('the process to exit', async () => (this.exitCode !== undefined ? true : undefined), {
      progress: () => this.progress(),
      stallMs,
      diagnose: () => `process still running:\n${this.output.join('')}`,
    });
    return this.exited;
  }

  /** SIGKILL: a crash, no clean shutdown. */
  async kill(): Promise<void> {
    this.child.kill('SIGKILL');
    await this.exited;
  }
}

/**
 * Runs the `jam` CLI to completion; resolves with its exit code and output. Bounded by progress:
 * the CLI is killed once it printed nothing and used no CPU for `stallMs` while `watch` (the
 * server it talks to, if given) made no progress either, or after MAX_WAIT_MS.
 */
export function runCli(
  args: string[],
  env: Record<string, string> = {},
  stallMs = 120_000,
  watch?: JamProcess,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [JAM_CLI, ...args], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    let exited = false;
    const waiting = untilProgress(`jam ${args.join(' ')}`, async () => (exited ? true : undefined), {
      progress: () => [stdout.length, stderr.length, Math.floor((cpuTicks(child.pid) ?? 0) / CLOCK_TICKS_PER_S), watch?.progress()],
      stallMs,
      diagnose: () => `${stdout}\n${stderr}`,
    });
    waiting.catch((err: Error) => {
      child.kill('SIGKILL');
      reject(err);
    });
    child.once('exit', (code) => {
      exited = true;
      resolve({ code, stdout, stderr });
    });
  });
}

/** fetch with a bearer token against a base URL, returning status and parsed JSON (or text). */
export async function api(
  base: string,
  token: string | undefined,
  method: string,
  p: string,
  body?: string | Uint8Array | AsyncIterable<Uint8Array>,
  headers: Record<string, string> = {},
) {
  const res = await fetch(`${base}${p}`, {
    method,
    body: body as never,
    headers: { ...(token ? { Authorization: `Bearer ${token}` } : {}), ...headers },
    ...(body !== undefined && typeof body !== 'string' && !(body instanceof Uint8Array) ? { duplex: 'half' } : {}),
  } as RequestInit);
  const text = await res.text();
  let json: unknown;
  try {
    json = text.length > 0 ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json: json as any };
}
