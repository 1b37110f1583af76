/**
 * A role process started from a shell that missed the DATABASE_URL/REDIS_URL exports must not
 * fall back to embedded mode (an embedded gateway without workers accepts packages that stay
 * pending forever). The real server process refuses to boot, names the fix and opens nothing.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { JamProcess, freePort } from '../support/jam-server';

describe('role processes without DATABASE_URL/REDIS_URL', () => {
  let tmp: string;
  const procs: JamProcess[] = [];

  beforeAll(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'jam-e2e-roleboot-'));
  });
  afterAll(async () => {
    for (const p of procs) await p.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it.each(['gateway', 'refine-worker,attestation'])(
    'JAM_ROLES=%s exits 2 with the fix and creates no embedded data',
    async (roles) => {
      const port = await freePort();
      const dataDir = path.join(tmp, roles.replace(/\W/g, '-'));
      const p = await JamProcess.start({ JAM_ROLES: roles, JAM_PORT: String(port), JAM_DATA_DIR: dataDir });
      procs.push(p);
      expect(await p.waitExit(60_000)).toBe(2);
      const out = p.output.join('');
      expect(out).toContain(`JAM_ROLES=${roles} needs DATABASE_URL and REDIS_URL`);
      expect(out).toContain('only JAM_ROLES=all works');
      expect(out).not.toMatch(/\n\s+at /);
      // Nothing embedded was started: no PGlite database, no dev token, no listener.
      expect(fs.existsSync(dataDir)).toBe(false);
      await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
    },
    90_000,
  );
});
