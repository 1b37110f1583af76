/**
 * The OS user of the executor processes (docs/sandbox.md, "Executor user"): guest code never runs
 * as the worker's user, so it cannot open the attester keys (0600) or anything else of ours.
 * Linux only (/proc). Needs `npm run build`. The switch needs root: as root (this machine, the
 * Docker image's build) the pools below switch; as any other user the boot error is what is proved.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadOrCreateAttesterKeys } from '@jam/attest';
import { DEFAULT_EXECUTOR_ID, SandboxPool, exampleServicePath, executorEntryPath, resolveExecutorIdentity } from '@jam/sandbox';
import { refineRequest } from './sandbox-test.helpers';

/** Fields of /proc/<pid>/status as their whitespace-separated values. */
function status(pid: number): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const line of readFileSync(`/proc/${pid}/status`, 'utf8').split('\n')) {
    const colon = line.indexOf(':');
    if (colon > 0)
      out.set(
        line.slice(0, colon),
        line
          .slice(colon + 1)
          .trim()
          .split(/\s+/)
          .filter(Boolean),
      );
  }
  return out;
}

/** Tries to read `file` from a fresh process with exactly these credentials (no supplementary groups, as libuv sets them for executors). */
function readAs(id: { uid: number; gid: number }, file: string): { status: number | null; stderr: string } {
  const r = spawnSync(process.execPath, ['-e', `require('fs').readFileSync(${JSON.stringify(file)})`], { uid: id.uid, gid: id.gid, env: {}, encoding: 'utf8' });
  return { status: r.status, stderr: r.stderr };
}

const root = process.getuid!() === 0;

/** Whether uid/gid `id` can enter every directory above the built executor entry and read it (the pool's own rule). */
function reachableBy(id: { uid: number; gid: number }): boolean {
  let p = path.resolve(executorEntryPath());
  let need = 0o4;
  for (;;) {
    const st = statSync(p);
    const bits = st.uid === id.uid ? (st.mode >> 6) & 7 : st.gid === id.gid ? (st.mode >> 3) & 7 : st.mode & 7;
    if ((bits & need) === 0) return false;
    if (path.dirname(p) === p) return true;
    p = path.dirname(p);
    need = 0o1;
  }
}

describe('executor user', () => {
  let dir: string;
  let keyFile: string;

  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'jam-executor-user-'));
    loadOrCreateAttesterKeys(path.join(dir, 'keys'), [0]);
    keyFile = path.join(dir, 'keys', 'attester-0.pem');
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  if (root) {
    it.each([
      ['unset: nobody (65534) instead of root', {}, { uid: DEFAULT_EXECUTOR_ID, gid: DEFAULT_EXECUTOR_ID }],
      ['configured sandbox_uid / sandbox_gid', { uid: 40123, gid: 40124 }, { uid: 40123, gid: 40124 }],
      ['sandbox_uid alone: gid follows it', { uid: 40125 }, { uid: 40125, gid: 40125 }],
    ])('runs every executor of a pool as the executor user (%s), without capabilities, and guest code still runs', async (_name, options, want) => {
      const pool = new SandboxPool({ size: 1, expressSize: 1, ...options });
      try {
        if (!reachableBy(want)) {
          // This checkout sits under a directory the executor user cannot enter (a 0700 temp dir, /root):
          // an explicit sandbox_uid refuses to start naming the path; the root default falls back, loudly.
          if ('uid' in options) return await expect(pool.start()).rejects.toThrow(/cannot (read|enter) .* JAM_SANDBOX_UID/);
          await pool.start();
          expect(pool.executorIdentity()).toBeUndefined();
          expect(pool.identityFallback()).toMatch(/cannot (read|enter) .*executors run as this process's user/);
          return;
        }
        await pool.start();
        expect(pool.identityFallback()).toBeUndefined();
        expect(pool.executorIdentity()).toEqual(want);
        const pids = pool.executorPids();
        expect(pids).toHaveLength(2);
        for (const pid of pids) {
          const s = status(pid);
          // real, effective, saved and filesystem ids
          expect(s.get('Uid')).toEqual(Array(4).fill(String(want.uid)));
          expect(s.get('Gid')).toEqual(Array(4).fill(String(want.gid)));
          expect(s.get('Groups')).toEqual([]);
          // no CAP_DAC_OVERRIDE / CAP_DAC_READ_SEARCH: file modes apply to it
          expect(BigInt(`0x${s.get('CapEff')![0]}`)).toBe(0n);
          expect(BigInt(`0x${s.get('CapPrm')![0]}`)).toBe(0n);
        }
        // the executor loads its code as that user and runs a job
        const wordCount = new Uint8Array(readFileSync(exampleServicePath('word-count')));
        const out = await pool.refine(await refineRequest(wordCount, new TextEncoder().encode('a b c')));
        expect(out.result).toEqual({ ok: Uint8Array.of(3, 0, 0, 0, 0, 0, 0, 0) });
        // the attester key (0600 in a 0700 directory, owned by this process's user) is closed to those credentials
        const denied = readAs(want, keyFile);
        expect(denied.status).not.toBe(0);
        expect(denied.stderr).toContain('EACCES');
        // ...while this process reads it
        expect(readFileSync(keyFile, 'utf8')).toContain('PRIVATE KEY');
      } finally {
        await pool.close();
      }
    });
  } else {
    it('refuses at construction (boot) to run executors as another user without root', () => {
      expect(() => new SandboxPool({ uid: process.getuid!() + 1 })).toThrow(/needs root \(CAP_SETUID/);
    });
  }

  it('refuses a uid switch without root, with a message that names the setting', () => {
    expect(() => resolveExecutorIdentity({ uid: 65534 }, { uid: 1000, gid: 1000 })).toThrow(/sandbox_uid=65534.*not root.*JAM_SANDBOX_UID/s);
    expect(() => resolveExecutorIdentity({ gid: 5 }, { uid: 1000, gid: 1000 })).toThrow(/needs root/);
    // asking for one's own ids is no switch
    expect(resolveExecutorIdentity({ uid: 1000, gid: 1000 }, { uid: 1000, gid: 1000 })).toBeUndefined();
    expect(resolveExecutorIdentity({}, { uid: 1000, gid: 1000 })).toBeUndefined();
    expect(() => resolveExecutorIdentity({ uid: -1 }, { uid: 0, gid: 0 })).toThrow(RangeError);
  });

  it('a non-root worker process asking for another executor uid fails to start with that error', () => {
    if (!root) return expect(() => new SandboxPool({ uid: process.getuid!() + 1 })).toThrow(/needs root/);
    if (!reachableBy({ uid: DEFAULT_EXECUTOR_ID, gid: DEFAULT_EXECUTOR_ID })) {
      // This checkout sits under a directory that user cannot enter (a 0700 temp dir): it could not
      // load the pool at all, so the same decision is shown for its ids in this process.
      return expect(() => resolveExecutorIdentity({ uid: 40123 }, { uid: DEFAULT_EXECUTOR_ID, gid: DEFAULT_EXECUTOR_ID })).toThrow(
        'sandbox_uid=40123 sandbox_gid=(unset) requested, but this process runs as uid 65534 (not root)',
      );
    }
    // a real process of an unprivileged user loads the built pool and constructs it
    const entry = path.resolve(__dirname, '..', '..', 'dist', 'libs', 'sandbox', 'src', 'sandbox.pool.js');
    const r = spawnSync(process.execPath, ['-e', `const { SandboxPool } = require(${JSON.stringify(entry)}); new SandboxPool({ uid: 40123 });`], {
      uid: DEFAULT_EXECUTOR_ID,
      gid: DEFAULT_EXECUTOR_ID,
      env: {},
      encoding: 'utf8',
    });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('sandbox_uid=40123 sandbox_gid=(unset) requested, but this process runs as uid 65534 (not root)');
  });
});
