import { Client } from 'pg';
import * as net from 'node:net';
import { isDatabaseUnavailable } from './database-unavailable';

describe('isDatabaseUnavailable', () => {
  it('is true for what the pg driver throws when PostgreSQL refuses or drops the connection', async () => {
    // A port nobody listens on: connection refused.
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as net.AddressInfo).port;
    await new Promise<void>((r) => server.close(() => r()));
    const refused = await new Client({ host: '127.0.0.1', port, user: 'x', database: 'x' }).connect().catch((e: unknown) => e);
    expect(isDatabaseUnavailable(refused)).toBe(true);

    // A server that accepts and hangs up: the driver's "Connection terminated unexpectedly".
    const hangup = net.createServer((s) => s.destroy());
    await new Promise<void>((r) => hangup.listen(0, '127.0.0.1', () => r()));
    const dropped = await new Client({ host: '127.0.0.1', port: (hangup.address() as net.AddressInfo).port, user: 'x', database: 'x' })
      .connect()
      .catch((e: unknown) => e);
    await new Promise<void>((r) => hangup.close(() => r()));
    expect(isDatabaseUnavailable(dropped)).toBe(true);
  });

  it('looks through TypeORM wrappers and knows the SQLSTATEs of a restarting server', () => {
    expect(
      isDatabaseUnavailable({
        name: 'QueryFailedError',
        message: 'x',
        driverError: { code: '57P01', message: 'terminating connection due to administrator command' },
      }),
    ).toBe(true);
    expect(isDatabaseUnavailable({ code: '57P03', message: 'the database system is starting up' })).toBe(true);
    expect(isDatabaseUnavailable({ code: '08006', message: 'connection failure' })).toBe(true);
    expect(isDatabaseUnavailable(new Error('timeout exceeded when trying to connect'))).toBe(true);
  });

  it('is false for errors about the statement or the data', () => {
    expect(isDatabaseUnavailable({ name: 'QueryFailedError', message: 'duplicate key', driverError: { code: '23505' } })).toBe(false);
    expect(isDatabaseUnavailable({ code: '42P01', message: 'relation "x" does not exist' })).toBe(false);
    expect(isDatabaseUnavailable(new Error('boom'))).toBe(false);
    expect(isDatabaseUnavailable(undefined)).toBe(false);
  });
});
