import { randomBytes } from 'node:crypto';
import IORedis from 'ioredis';
import type { PackageStatusEventV1 } from '@jam/queue-contracts';
import { REDIS_URL } from '../../../test/support/redis';
import { createInProcessStatusEventBus, createRedisStatusEventBus, type StatusEventBus } from './status-event-bus';

const event = (status: PackageStatusEventV1['status']): PackageStatusEventV1 => ({
  package_hash: `0x${'ab'.repeat(32)}`,
  status,
  report_hash: null,
  at: new Date().toISOString(),
});

function nextEvents(bus: StatusEventBus, n: number): Promise<PackageStatusEventV1[]> {
  return new Promise((resolve) => {
    const got: PackageStatusEventV1[] = [];
    const off = bus.subscribe((e) => {
      got.push(e);
      if (got.length === n) {
        off();
        resolve(got);
      }
    });
  });
}

describe('status event bus', () => {
  it('in-process: delivers to every subscriber until it unsubscribes', async () => {
    const bus = createInProcessStatusEventBus();
    const a = nextEvents(bus, 2);
    const b = nextEvents(bus, 1);
    bus.publish(event('refining'));
    bus.publish(event('accumulated'));
    expect((await a).map((e) => e.status)).toEqual(['refining', 'accumulated']);
    expect((await b).map((e) => e.status)).toEqual(['refining']);
    await bus.close();
  });

  it('Redis: a second process-like bus receives what the first publishes; malformed messages are dropped', async () => {
    const prefix = `jamtest-${randomBytes(4).toString('hex')}`;
    const errors: Error[] = [];
    const gateway = createRedisStatusEventBus({ redisUrl: REDIS_URL, prefix, onError: (e) => errors.push(e) });
    const worker = createRedisStatusEventBus({ redisUrl: REDIS_URL, prefix, onError: (e) => errors.push(e) });
    const other = createRedisStatusEventBus({ redisUrl: REDIS_URL, prefix: `${prefix}-other`, onError: (e) => errors.push(e) });
    const received = nextEvents(gateway, 2);
    const strays: PackageStatusEventV1[] = [];
    other.subscribe((e) => strays.push(e));
    await new Promise((r) => setTimeout(r, 200)); // subscription is asynchronous
    const raw = new IORedis(REDIS_URL);
    await raw.publish(`${prefix}:package-status.v1`, '{"package_hash":"nope"}');
    raw.disconnect();
    worker.publish(event('attested'));
    worker.publish(event('accumulated'));
    expect((await received).map((e) => e.status)).toEqual(['attested', 'accumulated']);
    expect(strays).toEqual([]);
    expect(errors.map((e) => e.message)).toEqual(['dropped malformed package-status.v1 message']);
    await Promise.all([gateway.close(), worker.close(), other.close()]);
  });
});
