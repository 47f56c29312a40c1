import { isIP } from 'node:net';

interface RequestLike {
  headers: Record<string, string | string[] | undefined>;
  socket?: { remoteAddress?: string };
  raw?: { socket?: { remoteAddress?: string } };
}

/**
 * The client's IP when `trustedProxies` proxies (load balancers) sit in front of the app: the
 * chain is `X-Forwarded-For` plus the socket peer; the client is the entry `trustedProxies` hops
 * from the right. With 0 (the default) `X-Forwarded-For` is ignored entirely — a client could
 * otherwise claim any address and dodge its limit. Invalid entries count as the peer.
 */
export function clientIp(request: RequestLike, trustedProxies: number): string {
  const peer = normalize(request.socket?.remoteAddress ?? request.raw?.socket?.remoteAddress);
  if (trustedProxies <= 0) return peer;
  const header = request.headers['x-forwarded-for'];
  const forwarded = (Array.isArray(header) ? header.join(',') : (header ?? ''))
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const chain = [...forwarded, peer];
  const candidate = chain[Math.max(0, chain.length - 1 - trustedProxies)]!;
  return isIP(candidate) ? normalize(candidate) : peer;
}

function normalize(ip: string | undefined): string {
  if (!ip) return 'unknown';
  return ip.startsWith('::ffff:') && isIP(ip.slice(7)) === 4 ? ip.slice(7) : ip;
}
