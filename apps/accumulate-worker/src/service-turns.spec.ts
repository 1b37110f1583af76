/** Unit tests of ServiceTurns: calls for one key run one at a time in call order, other keys do not wait, a failure does not block the next turn. */
import { ServiceTurns } from './service-turns';

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('ServiceTurns', () => {
  it('runs calls for one key one at a time, in call order; another key runs meanwhile', async () => {
    const turns = new ServiceTurns();
    const log: string[] = [];
    const gate = deferred();
    const first = turns.run(7, async () => {
      log.push('7a start');
      await gate.promise;
      log.push('7a end');
      return 'a';
    });
    const second = turns.run(7, async () => {
      log.push('7b');
      return 'b';
    });
    expect(await turns.run(8, async () => (log.push('8'), 'other'))).toBe('other');
    expect(log).toEqual(['7a start', '8']);
    gate.resolve();
    expect(await Promise.all([first, second])).toEqual(['a', 'b']);
    expect(log).toEqual(['7a start', '8', '7a end', '7b']);
    expect(turns.busyKeys).toBe(0);
  });

  it('a call that throws passes its error to its caller and the next call still runs', async () => {
    const turns = new ServiceTurns();
    const boom = new Error('boom');
    const failed = turns.run(1, async () => {
      throw boom;
    });
    const next = turns.run(1, async () => 'ran');
    await expect(failed).rejects.toBe(boom);
    expect(await next).toBe('ran');
    expect(turns.busyKeys).toBe(0);
  });
});
