/**
 * One turn at a time per key inside this process: `run(key, fn)` starts `fn` once every earlier
 * call for the same key has settled; calls for different keys run concurrently. No lock is held in
 * the database meanwhile and no connection is taken.
 *
 * The accumulate processor takes a turn per service around `AccumulationRepository.applyOnce`
 * (issue 8): with the sandbox outside the service row lock, two jobs of one busy service in the same
 * process would both run it on the same state and one would lose the compare-and-set and run again.
 * Waiting here costs nothing; only jobs in other processes can still race (and are caught by the
 * compare-and-set).
 */
export class ServiceTurns {
  private readonly tails = new Map<number, Promise<unknown>>();

  /** Runs `fn` in `key`'s turn. @returns what `fn` returns; @throws what it throws (later turns still run) */
  async run<T>(key: number, fn: () => Promise<T>): Promise<T> {
    const before = this.tails.get(key) ?? Promise.resolve();
    const mine = before.then(fn, fn);
    const tail = mine.catch(() => undefined);
    this.tails.set(key, tail);
    try {
      return await mine;
    } finally {
      // the last caller of a key removes it, so the map holds only keys with calls in flight
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }

  /** Keys with calls waiting or running. */
  get busyKeys(): number {
    return this.tails.size;
  }
}
