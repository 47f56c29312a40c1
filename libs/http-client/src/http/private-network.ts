import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import ipaddr from 'ipaddr.js';

type Subnet<T> = [T, number];

/**
 * IPv4 ranges a server-side request to a user-supplied URL must not reach (SSRF): "this"
 * network, private (RFC 1918), carrier-grade NAT, loopback, link-local (cloud metadata
 * 169.254.169.254), IETF protocol assignments, documentation, benchmarking, the 6to4 relay
 * anycast, multicast, reserved and broadcast.
 */
const BLOCKED_V4: Array<Subnet<ipaddr.IPv4>> = [
  '0.0.0.0/8',
  '10.0.0.0/8',
  '100.64.0.0/10',
  '127.0.0.0/8',
  '169.254.0.0/16',
  '172.16.0.0/12',
  '192.0.0.0/24',
  '192.0.2.0/24',
  '192.88.99.0/24',
  '192.168.0.0/16',
  '198.18.0.0/15',
  '198.51.100.0/24',
  '203.0.113.0/24',
  '224.0.0.0/4',
  '240.0.0.0/4',
].map((c) => ipaddr.IPv4.parseCIDR(c));

/**
 * IPv6 ranges refused on their own: unspecified, loopback, unique-local, link-local,
 * site-local (deprecated), multicast, discard-only, IETF protocol assignments (2001::/23, Teredo
 * aside: judged by the IPv4 addresses it carries), documentation, segment routing and the
 * local-use NAT64 prefix (RFC 8215). Forms that carry an IPv4 address are judged by it.
 */
const BLOCKED_V6: Array<Subnet<ipaddr.IPv6>> = [
  '::/128',
  '::1/128',
  'fc00::/7',
  'fe80::/10',
  'fec0::/10',
  'ff00::/8',
  '100::/64',
  '2001::/23',
  '2001:db8::/32',
  '3fff::/20',
  '5f00::/16',
  '64:ff9b:1::/48',
].map((c) => ipaddr.IPv6.parseCIDR(c));

function v4Of(high: number, low: number): ipaddr.IPv4 {
  return new ipaddr.IPv4([high >> 8, high & 255, low >> 8, low & 255]);
}

/**
 * The IPv4 addresses an IPv6 address carries, by the transition mechanism that routes it:
 * IPv4-mapped (`::ffff:a.b.c.d`, `::ffff:a00:1`), IPv4-translated (`::ffff:0:a.b.c.d`),
 * IPv4-compatible (`::a.b.c.d`), NAT64 well-known prefix (`64:ff9b::a.b.c.d`), 6to4
 * (`2002:AABB:CCDD::/48`) and Teredo (`2001:0::/32`: the server, and the client obfuscated by
 * XOR). `undefined` for any other address.
 */
function embeddedV4(address: ipaddr.IPv6): ipaddr.IPv4[] | undefined {
  const p = address.parts;
  const zeroUpTo = (n: number) => p.slice(0, n).every((w) => w === 0);
  if (zeroUpTo(5) && p[5] === 0xffff) return [v4Of(p[6]!, p[7]!)];
  if (zeroUpTo(4) && p[4] === 0xffff && p[5] === 0) return [v4Of(p[6]!, p[7]!)];
  if (zeroUpTo(6)) return [v4Of(p[6]!, p[7]!)];
  if (p[0] === 0x64 && p[1] === 0xff9b && p.slice(2, 6).every((w) => w === 0)) {
    return [v4Of(p[6]!, p[7]!)];
  }
  if (p[0] === 0x2002) return [v4Of(p[1]!, p[2]!)];
  if (p[0] === 0x2001 && p[1] === 0) {
    return [v4Of(p[2]!, p[3]!), v4Of(~p[6]! & 0xffff, ~p[7]! & 0xffff)];
  }
  return undefined;
}

const blockedV4 = (a: ipaddr.IPv4) => BLOCKED_V4.some((net) => a.match(net));

/**
 * Whether `literal` (an IPv4 or IPv6 address, a URL's bracketed `[::1]` too) is in a private,
 * local or reserved range, in any of its textual forms: IPv4 shorthands (`127.1`), IPv6 with a
 * zone (`fe80::1%eth0`), and IPv6 forms carrying a private IPv4 address (IPv4-mapped,
 * -translated, -compatible, NAT64, 6to4, Teredo). Host names are `false`: they are checked on the
 * addresses they resolve to.
 */
export function isPrivateAddress(literal: string): boolean {
  const address = literal.replace(/^\[(.*)\]$/, '$1');
  if (!ipaddr.isValid(address)) return false;
  const parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv4') return blockedV4(parsed as ipaddr.IPv4);
  const v6 = parsed as ipaddr.IPv6;
  const carried = embeddedV4(v6);
  if (carried) return carried.some(blockedV4);
  return BLOCKED_V6.some((net) => v6.match(net));
}

/** The error of a connection refused by the guard: `code` `EPRIVATE`, never retried. */
export class PrivateAddressError extends Error {
  override readonly name = 'PrivateAddressError';
  readonly code = 'EPRIVATE';
  readonly retryable = false;
  constructor(host: string, address: string) {
    super(`${host} resolves to ${address}, a private or reserved address (blockPrivateNetworks)`);
  }
}

type LookupCallback = (
  error: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/**
 * A `lookup` for sockets (undici's `connect.lookup`) that resolves like `dns.lookup` and fails
 * with {@link PrivateAddressError} when any address is private: checked on the address actually
 * connected to, so DNS rebinding between a check and the connect cannot get around it.
 */
export function publicOnlyLookup(
  hostname: string,
  options: LookupOptions,
  callback: LookupCallback,
): void {
  dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
    if (error) return callback(error, []);
    const blocked = addresses.find((a) => isPrivateAddress(a.address));
    if (blocked) return callback(new PrivateAddressError(hostname, blocked.address), []);
    if (options.all) return callback(null, addresses);
    const first = addresses[0]!;
    callback(null, first.address, first.family);
  });
}
