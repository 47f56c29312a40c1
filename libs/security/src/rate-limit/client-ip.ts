import ipaddr from 'ipaddr.js';

interface RequestLike {
  headers: Record<string, string | string[] | undefined>;
  socket?: { remoteAddress?: string };
  raw?: { socket?: { remoteAddress?: string } };
}

/** IPv6 clients are grouped by this prefix length unless `rateLimit.ipv6Prefix` says otherwise. */
export const DEFAULT_IPV6_PREFIX = 64;

/**
 * The client's IP when `trustedProxies` proxies (load balancers) sit in front of the app: the
 * chain is `X-Forwarded-For` plus the socket peer; the client is the entry `trustedProxies` hops
 * from the right. With 0 (the default) `X-Forwarded-For` is ignored entirely — a client could
 * otherwise claim any address and dodge its limit. Invalid entries count as the peer.
 *
 * The address is canonical, so one client has one spelling: an IPv4 address in any IPv6 form
 * (`::ffff:1.2.3.4`, `::ffff:102:304`) is `1.2.3.4`; IPv6 is lowercase and compressed, without
 * a zone; a port or brackets written by a proxy (`1.2.3.4:5678`, `[2001:db8::7]:443`) are dropped.
 */
export function clientIp(request: RequestLike, trustedProxies: number): string {
  const peer =
    canonicalIp(request.socket?.remoteAddress ?? request.raw?.socket?.remoteAddress) ?? 'unknown';
  if (trustedProxies <= 0) return peer;
  const header = request.headers['x-forwarded-for'];
  const forwarded = (Array.isArray(header) ? header.join(',') : (header ?? ''))
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const chain = [...forwarded, peer];
  const candidate = chain[Math.max(0, chain.length - 1 - trustedProxies)]!;
  return canonicalIp(candidate) ?? peer;
}

/**
 * The rate-limit bucket of a client address: an IPv4 address itself; an IPv6 address its network
 * of `ipv6Prefix` bits (`2001:db8:1:2::/64`), since one host or subscriber usually holds a whole
 * /64 and could otherwise take a fresh address, and a fresh budget, for every request. Anything
 * that is not an IP address (`unknown`) is returned as it is.
 */
export function rateLimitBucket(ip: string, ipv6Prefix: number = DEFAULT_IPV6_PREFIX): string {
  if (!ipaddr.isValid(ip)) return ip;
  const address = ipaddr.process(ip);
  if (address.kind() === 'ipv4') return address.toString();
  const bytes = address.toByteArray();
  for (let bit = ipv6Prefix; bit < 128; bit++) {
    bytes[bit >> 3]! &= ~(0x80 >> (bit & 7));
  }
  return `${ipaddr.fromByteArray(bytes).toString()}/${ipv6Prefix}`;
}

/** `value` as a canonical IP address, or `undefined` when it is none. */
function canonicalIp(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const text = stripPort(value.trim());
  // Only dotted-quad IPv4 and real IPv6 literals: no `127.1` or decimal shorthands from headers.
  if (!ipaddr.IPv4.isValidFourPartDecimal(text) && !ipaddr.IPv6.isValid(text)) return undefined;
  const address = ipaddr.process(text); // IPv4-mapped → IPv4
  if (address.kind() === 'ipv6') (address as ipaddr.IPv6).zoneId = undefined;
  return address.toString();
}

/** `[2001:db8::7]:443` → `2001:db8::7`; `1.2.3.4:5678` → `1.2.3.4`; anything else unchanged. */
function stripPort(text: string): string {
  const bracketed = /^\[([^\]]+)\](?::\d{1,5})?$/.exec(text);
  if (bracketed) return bracketed[1]!;
  const v4WithPort = /^(\d{1,3}(?:\.\d{1,3}){3}):\d{1,5}$/.exec(text);
  return v4WithPort ? v4WithPort[1]! : text;
}
