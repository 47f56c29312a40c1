import { createHash } from 'node:crypto';
import { Reflector } from '@nestjs/core';
import { ThrottlerGuard, ThrottlerStorageService } from '@nestjs/throttler';
import { describe, expect, it } from 'vitest';
import { ApiKeys } from '../http/api-keys.js';
import { clientIp, rateLimitBucket } from './client-ip.js';
import { RateLimitGuard } from './rate-limit.guard.js';

const req = (peer: string, xff?: string) => ({
  headers: xff ? { 'x-forwarded-for': xff } : {},
  socket: { remoteAddress: peer },
});

describe('clientIp', () => {
  it('ignores X-Forwarded-For without trusted proxies (a client cannot pick its address)', () => {
    expect(clientIp(req('10.0.0.5', '1.2.3.4'), 0)).toBe('10.0.0.5');
  });
  it('takes the entry added by the outermost trusted proxy', () => {
    expect(clientIp(req('10.0.0.5', '6.6.6.6, 1.2.3.4'), 1)).toBe('1.2.3.4');
    expect(clientIp(req('10.0.0.5', '6.6.6.6, 1.2.3.4, 10.0.0.9'), 2)).toBe('1.2.3.4');
  });
  it('falls back to the peer for garbage and unmaps IPv4-mapped addresses', () => {
    expect(clientIp(req('::ffff:10.0.0.5', 'not-an-ip'), 1)).toBe('10.0.0.5');
  });
  it.each([
    '1.2.3.4',
    '::ffff:1.2.3.4',
    '::ffff:102:304',
    '::FFFF:0102:0304',
    '0:0:0:0:0:ffff:102:304',
  ])('gives every textual form of one IPv4 address as that address: %s', (form) => {
    expect(clientIp(req(form), 0)).toBe('1.2.3.4');
    expect(clientIp(req('10.0.0.5', form), 1)).toBe('1.2.3.4');
  });
  it('writes IPv6 addresses in their canonical form (lowercase, compressed, no zone)', () => {
    expect(clientIp(req('2001:DB8:0:0:0:0:0:1'), 0)).toBe('2001:db8::1');
    expect(clientIp(req('fe80::1%eth0'), 0)).toBe('fe80::1');
  });
  it('takes proxies that write a port or brackets into X-Forwarded-For', () => {
    expect(clientIp(req('10.0.0.5', '1.2.3.4:5678'), 1)).toBe('1.2.3.4');
    expect(clientIp(req('10.0.0.5', '[2001:db8::7]:443'), 1)).toBe('2001:db8::7');
  });
});

describe('rateLimitBucket', () => {
  it('keeps an IPv4 client on its own address', () => {
    expect(rateLimitBucket('1.2.3.4', 64)).toBe('1.2.3.4');
  });
  it('groups IPv6 clients by their /64 (one host picks any address inside it)', () => {
    const a = rateLimitBucket('2001:db8:1:2:aaaa::1', 64);
    expect(a).toBe('2001:db8:1:2::/64');
    expect(rateLimitBucket('2001:db8:1:2:bbbb:cccc:dddd:eeee', 64)).toBe(a);
    expect(rateLimitBucket('2001:db8:1:3::1', 64)).not.toBe(a);
  });
  it('groups by the configured prefix length', () => {
    expect(rateLimitBucket('2001:db8:1:2::1', 48)).toBe('2001:db8:1::/48');
    expect(rateLimitBucket('2001:db8:1:2::1', 56)).toBe(rateLimitBucket('2001:db8:1:ff::9', 56));
    expect(rateLimitBucket('2001:db8:1:2::1', 128)).toBe('2001:db8:1:2::1/128');
  });
  it('passes through what is not an IP address (unknown peers)', () => {
    expect(rateLimitBucket('unknown', 64)).toBe('unknown');
  });
});

class OrdersController {
  get(): void {}
}

const guard = (rateLimit: Record<string, unknown> = {}) =>
  new RateLimitGuard(
    { throttlers: [{ name: 'default', limit: 1, ttl: 1000 }] },
    new ThrottlerStorageService(),
    new Reflector(),
    1,
    { rateLimit },
  ) as unknown as { getTracker(req: unknown): Promise<string> };

describe('RateLimitGuard key', () => {
  it("is @nestjs/throttler's: SHA-256 hex of <Class>-<handler>-<throttler>-<tracker>", () => {
    const g = guard() as unknown as {
      generateKey(context: unknown, suffix: string, name: string): string;
    };
    const context = {
      getClass: () => OrdersController,
      getHandler: () => OrdersController.prototype.get,
    };
    const expected = createHash('sha256')
      .update('OrdersController-get-default-user:u1')
      .digest('hex');
    const upstream = (ThrottlerGuard.prototype as unknown as typeof g).generateKey;
    expect(g.generateKey(context, 'user:u1', 'default')).toBe(expected);
    expect(upstream.call(g, context, 'user:u1', 'default')).toBe(expected);
    expect(g.generateKey(context, 'user:u2', 'default')).not.toBe(expected);
  });
});

describe('RateLimitGuard tracker', () => {
  it('puts every form of one IPv4 client in one bucket', async () => {
    const g = guard();
    const keys = await Promise.all(
      ['1.2.3.4', '::ffff:1.2.3.4', '::ffff:102:304'].map((ip) =>
        g.getTracker(req('10.0.0.5', ip)),
      ),
    );
    expect(new Set(keys)).toEqual(new Set(['ip:1.2.3.4']));
  });

  it('puts IPv6 clients of one /64 in one bucket, or of rateLimit.ipv6Prefix', async () => {
    const one = (g: ReturnType<typeof guard>, ip: string) => g.getTracker(req('10.0.0.5', ip));
    expect(await one(guard(), '2001:db8:1:2::a')).toBe('ip:2001:db8:1:2::/64');
    expect(await one(guard(), '2001:db8:1:2:ffff::b')).toBe('ip:2001:db8:1:2::/64');
    expect(await one(guard({ ipv6Prefix: 56 }), '2001:db8:1:2::a')).toBe('ip:2001:db8:1::/56');
  });

  it.each([0, 129, 1.5, '64'])('refuses rateLimit.ipv6Prefix %j at boot', (ipv6Prefix) => {
    expect(() => guard({ ipv6Prefix })).toThrow(
      'SecurityModule: options.rateLimit.ipv6Prefix must be an integer 1-128',
    );
  });
});

describe('ApiKeys', () => {
  it('authenticates by hash only, and refuses malformed hashes at boot', () => {
    const keys = new ApiKeys([
      { name: 'reporting', hash: ApiKeys.hash('k-123456789'), scopes: ['orders:read'] },
    ]);
    expect(keys.authenticate('k-123456789')).toMatchObject({
      subject: 'reporting',
      kind: 'api-key',
      scopes: ['orders:read'],
    });
    expect(keys.authenticate('k-wrong')).toBeUndefined();
    expect(() => new ApiKeys([{ name: 'x', hash: 'plain-text-key' }])).toThrow(/sha256:<64 hex/);
  });
});
