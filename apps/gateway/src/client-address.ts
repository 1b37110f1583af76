import proxyaddr from 'proxy-addr';
import type { IncomingMessage } from 'node:http';

/**
 * The client address of a request and the admin IP allowlist (`admin_ip_allowlist`,
 * `trusted_proxies`; threat model "Abuse of Admin Controls"). `X-Forwarded-For` is believed only
 * hop by hop from the socket peer inwards while each hop is a trusted proxy (proxy-addr, the
 * library express itself uses), so a client cannot forge its address by sending the header
 * directly. IPv4-mapped IPv6 peers (`::ffff:127.0.0.1`) match IPv4 entries.
 */
export class ClientAddressPolicy {
  private readonly trust: (addr: string, i: number) => boolean;
  private readonly allow: (addr: string, i: number) => boolean;

  /** @param trustedProxies, allowlist IPs/CIDRs as validated by @jam/config. @throws TypeError for a malformed entry. */
  constructor(trustedProxies: readonly string[], allowlist: readonly string[]) {
    this.trust = proxyaddr.compile([...trustedProxies]);
    this.allow = proxyaddr.compile([...allowlist]);
  }

  /** The client's address: the peer, or the nearest untrusted hop of X-Forwarded-For behind trusted proxies. */
  clientAddress(req: IncomingMessage): string {
    return proxyaddr(req, this.trust);
  }

  /** Whether the request's client address is in the admin allowlist. */
  adminAllowed(req: IncomingMessage): { allowed: boolean; address: string } {
    const address = this.clientAddress(req);
    return { allowed: this.allow(address, 0), address };
  }
}
