import * as fs from 'node:fs';
import * as path from 'node:path';
import * as lockfile from 'proper-lockfile';
import { StartupError } from './startup.error';

/** ms after its last refresh that the data directory lock counts as stale (taken over). */
const DATA_DIR_LOCK_STALE_MS = 15_000;
/** ms between refreshes of the data directory lock by its holder. */
const DATA_DIR_LOCK_UPDATE_MS = 5_000;

/**
 * Embedded mode owns its data directory: a second process on the same directory would run a
 * second PGlite on the same files and lose acknowledged work. proper-lockfile holds
 * `<dataDir>/lock` (refreshed every 5 s, taken over when stale for 15 s);
 * `<dataDir>/lock.owner.json` names the holder. A start that finds the lock held by a process
 * that no longer runs (a crash or SIGKILL left the lock behind; the owner file is missing, or
 * names a dead pid or this process's own pid, as after a container restart) waits up to 20 s for
 * that lock to go stale and takes it over, so an immediate restart after a crash succeeds; a live
 * holder is never waited for.
 * @returns the release step (removes the owner file, releases the lock)
 * @throws StartupError when another live process holds the directory.
 */
export async function lockDataDir(dataDir: string, port: number, onWait: (message: string) => void): Promise<() => Promise<void>> {
  const ownerFile = path.join(dataDir, 'lock.owner.json');
  const options: lockfile.LockOptions = {
    lockfilePath: path.join(dataDir, 'lock'),
    realpath: false,
    stale: DATA_DIR_LOCK_STALE_MS,
    update: DATA_DIR_LOCK_UPDATE_MS,
    onCompromised: (err) => {
      process.stderr.write(`jam: lost the lock on ${dataDir} (${err.message}); stopping to protect the data\n`);
      process.exit(1);
    },
  };
  let release: () => Promise<void>;
  try {
    release = await lockfile.lock(dataDir, options);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ELOCKED') throw err;
    let owner: { pid?: number; port?: number } | undefined;
    try {
      owner = JSON.parse(fs.readFileSync(ownerFile, 'utf8')) as { pid?: number; port?: number };
    } catch {
      /* owner file missing: the holder died before writing it */
    }
    const holder = owner ? `pid ${owner.pid} (port ${owner.port})` : 'another process';
    const inUse = () => new StartupError(`data directory ${dataDir} is in use by ${holder}; stop it, or give this instance its own JAM_DATA_DIR`);
    if (typeof owner?.pid === 'number' && owner.pid !== process.pid && isProcessAlive(owner.pid)) throw inUse();
    // The holder is gone but its lock is not stale yet: wait for it (a live holder elsewhere keeps refreshing it, and we give up).
    onWait(`data directory ${dataDir} is locked by ${holder}, which is not running here; waiting for its lock to expire`);
    try {
      const tries = Math.ceil((DATA_DIR_LOCK_STALE_MS + DATA_DIR_LOCK_UPDATE_MS) / 1000);
      release = await lockfile.lock(dataDir, { ...options, retries: { retries: tries, factor: 1, minTimeout: 1000, maxTimeout: 1000 } });
    } catch (retryErr) {
      if ((retryErr as NodeJS.ErrnoException).code === 'ELOCKED') throw inUse();
      throw retryErr;
    }
  }
  fs.writeFileSync(ownerFile, JSON.stringify({ pid: process.pid, port }));
  return async () => {
    fs.rmSync(ownerFile, { force: true });
    await release();
  };
}

/** True if a process with this pid exists (EPERM: it exists but belongs to another user). */
function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
