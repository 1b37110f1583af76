import { spawn, type ChildProcess } from 'node:child_process';
import * as net from 'node:net';
import * as path from 'node:path';
import * as fs from 'node:fs';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');
export const MAIN_JS = path.join(REPO_ROOT, 'dist', 'apps', 'standalone', 'src', 'main.js');
export const JAM_CLI = path.join(REPO_ROOT, 'bin', 'jam.js');

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

  private constructor(readonly child: ChildProcess) {
    child.stdout!.on('data', (d: Buffer) => this.output.push(d.toString()));
    child.stderr!.on('data', (d: Buffer) => this.output.push(d.toString()));
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  /** Spawns `node main.js` with `env` (added to a minimal environment) and waits for `/healthz` when `port` is given. */
  static async start(env: Record<string, string>, opts: { port?: number; timeoutMs?: number } = {}): Promise<JamProcess> {
    if (!fs.existsSync(MAIN_JS)) throw new Error(`${MAIN_JS} missing: run npm run build`);
    const child = spawn(process.execPath, [MAIN_JS], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', JAM_LOG_LEVEL: 'info', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const p = new JamProcess(child);
    if (opts.port !== undefined) await p.waitHealthy(opts.port, opts.timeoutMs ?? 60_000);
    return p;
  }

  async waitHealthy(port: number, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let exitCode: number | null | undefined;
    void this.exited.then((c) => (exitCode = c));
    while (Date.now() < deadline) {
      if (exitCode !== undefined) throw new Error(`server exited with ${exitCode}:\n${this.output.join('')}`);
      try {
        const res = await fetch(`http://127.0.0.1:${port}/healthz`);
        if (res.ok) return;
      } catch {
        /* not up yet */
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`no /healthz on ${port} after ${timeoutMs} ms:\n${this.output.join('')}`);
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code. */
  async stop(graceMs = 15_000): Promise<number | null> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return this.child.exitCode;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }

  /** Waits for the process to exit by itself; rejects after `timeoutMs`. */
  async waitExit(timeoutMs: number): Promise<number | null> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`process still running after ${timeoutMs} ms:\n${this.output.join('')}`)), timeoutMs);
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** SIGKILL: a crash, no clean shutdown. */
  async kill(): Promise<void> {
    this.child.kill('SIGKILL');
    await this.exited;
  }
}

/** Runs the `jam` CLI to completion; resolves with its exit code and output. */
export function runCli(args: string[], env: Record<string, string> = {}, timeoutMs = 120_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
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
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`jam ${args.join(' ')} timed out after ${timeoutMs} ms\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** fetch with a bearer token against a base URL, returning status and parsed JSON (or text). */
export async function api(base: string, token: string | undefined, method: string, p: string, body?: string | Uint8Array | AsyncIterable<Uint8Array>, headers: Record<string, string> = {}) {
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
