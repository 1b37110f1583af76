import type { IncomingMessage } from 'node:http';
import { ClientAddressPolicy } from './client-address';

function req(peer: string, xff?: string): IncomingMessage {
  return {
    socket: { remoteAddress: peer },
    connection: { remoteAddress: peer },
    headers: xff === undefined ? {} : { 'x-forwarded-for': xff },
  } as unknown as IncomingMessage;
}

describe('ClientAddressPolicy', () => {
  const policy = new ClientAddressPolicy(['127.0.0.2/32', '10.0.0.0/8'], ['127.0.0.1/32', '203.0.113.7/32', '::1/128']);

  it('uses the peer address when the peer is not a trusted proxy, ignoring a forged X-Forwarded-For', () => {
    expect(policy.adminAllowed(req('127.0.0.3', '127.0.0.1'))).toEqual({ allowed: false, address: '127.0.0.3' });
    expect(policy.adminAllowed(req('127.0.0.1', '198.51.100.1'))).toEqual({ allowed: true, address: '127.0.0.1' });
  });

  it('believes X-Forwarded-For hop by hop only through trusted proxies', () => {
    expect(policy.adminAllowed(req('127.0.0.2', '203.0.113.7'))).toEqual({ allowed: true, address: '203.0.113.7' });
    expect(policy.adminAllowed(req('127.0.0.2', '198.51.100.1'))).toEqual({ allowed: false, address: '198.51.100.1' });
    // The client prepends a forged allowlisted address; the untrusted hop nearest the proxy wins.
    expect(policy.adminAllowed(req('127.0.0.2', '203.0.113.7, 198.51.100.1'))).toEqual({ allowed: false, address: '198.51.100.1' });
    // Two trusted proxies in a row.
    expect(policy.adminAllowed(req('127.0.0.2', '203.0.113.7, 10.1.2.3'))).toEqual({ allowed: true, address: '203.0.113.7' });
    expect(policy.adminAllowed(req('127.0.0.2')).allowed).toBe(false);
  });

  it('matches IPv4-mapped IPv6 peers against IPv4 entries, and IPv6 loopback', () => {
    expect(policy.adminAllowed(req('::ffff:127.0.0.1')).allowed).toBe(true);
    expect(policy.adminAllowed(req('::1')).allowed).toBe(true);
    expect(policy.adminAllowed(req('::2')).allowed).toBe(false);
  });

  it('trusts nothing when no proxies are configured', () => {
    const none = new ClientAddressPolicy([], ['127.0.0.1/32']);
    expect(none.adminAllowed(req('127.0.0.9', '127.0.0.1'))).toEqual({ allowed: false, address: '127.0.0.9' });
  });
});
