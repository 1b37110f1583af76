import { DomainError } from '@jam/domain';
import { CodeCheckLimiter } from './code-check.limiter';

/** A check that stays in flight until released. */
function pending(): { promise: Promise<string>; release: () => void } {
  let release!: () => void;
  const promise = new Promise<string>((resolve) => (release = () => resolve('checked')));
  return { promise, release };
}

describe('CodeCheckLimiter', () => {
  it('refuses a principal past its cap with rate_limited scope code_checks, and admits it again once a check settles', async () => {
    const limiter = new CodeCheckLimiter({ maxPerPrincipal: 1, maxQueued: 10, retryAfterSeconds: 7 });
    const first = pending();
    const running = limiter.run('alice', () => first.promise);
    let ran = false;
    await expect(limiter.run('alice', async () => void (ran = true))).rejects.toEqual(
      new DomainError('rate_limited', 'at most 1 code check(s) per principal may run at once; retry after 7 s', {
        scope: 'code_checks',
        limit: 1,
        retry_after_seconds: 7,
      }),
    );
    expect(ran).toBe(false);
    // another principal is not affected by alice's cap
    await expect(limiter.run('bob', async () => 'bob ok')).resolves.toBe('bob ok');
    first.release();
    await expect(running).resolves.toBe('checked');
    await expect(limiter.run('alice', async () => 'again')).resolves.toBe('again');
    expect(limiter.inFlight).toBe(0);
  });

  it('bounds checks in flight across principals with scope code_check_queue', async () => {
    const limiter = new CodeCheckLimiter({ maxPerPrincipal: 5, maxQueued: 2, retryAfterSeconds: 1 });
    const a = pending();
    const b = pending();
    const ra = limiter.run('p1', () => a.promise);
    const rb = limiter.run('p2', () => b.promise);
    await expect(limiter.run('p3', async () => 'x')).rejects.toMatchObject({ code: 'rate_limited', details: { scope: 'code_check_queue', limit: 2 } });
    a.release();
    await ra;
    await expect(limiter.run('p3', async () => 'now')).resolves.toBe('now');
    b.release();
    await rb;
  });

  it('releases the place of a check that throws (an invalid_code answer)', async () => {
    const limiter = new CodeCheckLimiter({ maxPerPrincipal: 1, maxQueued: 1, retryAfterSeconds: 1 });
    await expect(limiter.run('alice', async () => Promise.reject(new DomainError('invalid_code', 'bad')))).rejects.toMatchObject({ code: 'invalid_code' });
    expect(limiter.inFlight).toBe(0);
    await expect(limiter.run('alice', async () => 'ok')).resolves.toBe('ok');
  });
});
