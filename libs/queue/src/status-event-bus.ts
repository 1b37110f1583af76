import { EventEmitter } from 'node:events';
import IORedis from 'ioredis';
import { PACKAGE_STATUS_CHANNEL, packageStatusEventV1Schema, type PackageStatusEventV1 } from '@jam/queue-contracts';
import { toError } from './permanent-job.error';

/**
 * Package status notifications (docs/architecture.md section 6, "Status events"): workers publish, gateways
 * stream them to clients. Delivery is at most once; work never travels here.
 */
export interface StatusEventBus {
  /** Fire and forget; a failure is reported to `onError`, never thrown into the caller's work. */
  publish(event: PackageStatusEventV1): void;
  /** Calls `listener` for every valid event; returns the unsubscribe function. */
  subscribe(listener: (event: PackageStatusEventV1) => void): () => void;
  close(): Promise<void>;
}

/** Embedded mode: one process, an EventEmitter. */
export function createInProcessStatusEventBus(): StatusEventBus {
  const emitter = new EventEmitter();
  emitter.setMaxListeners(0);
  return {
    publish: (event) => emitter.emit('event', event),
    subscribe: (listener) => {
      emitter.on('event', listener);
      return () => emitter.off('event', listener);
    },
    close: async () => void emitter.removeAllListeners(),
  };
}

/**
 * Production: Redis pub/sub on `<prefix>:package-status.v1`. The subscriber connection is opened
 * lazily on the first `subscribe` (only gateways subscribe). Malformed messages are dropped and
 * reported to `onError`.
 */
export function createRedisStatusEventBus(opts: { redisUrl: string; prefix: string; onError?: (err: Error) => void }): StatusEventBus {
  const onError = opts.onError ?? ((err: Error) => console.error(err));
  const channel = `${opts.prefix}:${PACKAGE_STATUS_CHANNEL}`;
  const publisher = new IORedis(opts.redisUrl, { lazyConnect: false, maxRetriesPerRequest: 3 });
  publisher.on('error', onError);
  let subscriber: IORedis | undefined;
  const emitter = new EventEmitter();
  emitter.setMaxListeners(0);
  return {
    publish(event) {
      publisher.publish(channel, JSON.stringify(event)).catch((err: unknown) => onError(toError(err)));
    },
    subscribe(listener) {
      if (!subscriber) {
        subscriber = new IORedis(opts.redisUrl, { maxRetriesPerRequest: null });
        subscriber.on('error', onError);
        subscriber.on('message', (_ch: string, message: string) => {
          try {
            const parsed = packageStatusEventV1Schema.safeParse(JSON.parse(message));
            if (parsed.success) emitter.emit('event', parsed.data);
            else onError(new Error(`dropped malformed ${PACKAGE_STATUS_CHANNEL} message`));
          } catch (err) {
            onError(toError(err));
          }
        });
        subscriber.subscribe(channel).catch((err: unknown) => onError(toError(err)));
      }
      emitter.on('event', listener);
      return () => emitter.off('event', listener);
    },
    async close() {
      emitter.removeAllListeners();
      await Promise.allSettled([publisher.quit(), subscriber?.quit()]);
    },
  };
}
