import { Test } from '@nestjs/testing';
import type { INestApplicationContext } from '@nestjs/common';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  CacheStore,
  CachingConfigError,
  CachingModule,
  TieredCacheStore,
  type CachingOptions,
  type InvalidationMessage,
} from '../src/index.js';
import { RedisKeyvStore } from '../src/stores/redis.store.js';
import { describeCacheContract, deferred } from './contract/cache-contract.js';
import { REDIS_URL, removeKeys, testPrefix } from './redis-helpers.js';

const prefix = testPrefix('redis');

afterAll(() => removeKeys(prefix));

describeCacheContract('redis (L1 + L2)', () => ({
  redis: { url: REDIS_URL, keyPrefix: `${prefix}a:` },
}));
describeCacheContract('redis (no L1)', () => ({
  redis: { url: REDIS_URL, keyPrefix: `${prefix}b:` },
  l1: false,
}));

async function app(options: CachingOptions): Promise<INestApplicationContext> {
  const moduleRef = await Test.createTestingModule({
    imports: [CachingModule.forRoot(options)],
  }).compile();
  return moduleRef.init();
}

/** Resolves with the first invalidation `cache` receives from another instance that matches. */
function received(
  cache: TieredCacheStore,
  match: (m: InvalidationMessage) => boolean,
): Promise<InvalidationMessage> {
  return new Promise((resolve) => {
    const off = cache.onRemoteInvalidation((m) => {
      if (!match(m)) return;
      off();
      resolve(m);
    });
  });
}

describe('redis: two instances, each with its own L1, one Redis', () => {
  const shared = `${prefix}two:`;
  let a: INestApplicationContext;
  let b: INestApplicationContext;
  let cacheA: TieredCacheStore;
  let cacheB: TieredCacheStore;

  beforeAll(async () => {
    const options: CachingOptions = {
      redis: { url: REDIS_URL, keyPrefix: shared },
      l1: { maxEntries: 1000, ttlMs: 60_000 },
    };
    a = await app(options);
    b = await app(options);
    cacheA = a.get(CacheStore) as TieredCacheStore;
    cacheB = b.get(CacheStore) as TieredCacheStore;
    await Promise.all([cacheA['deps'].bus.ready(), cacheB['deps'].bus.ready()]);
  });

  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  it('instance A updates a key → instance B reads the new value next (after the pub/sub delivery)', async () => {
    await cacheA.set('order:1', { status: 'placed' });
    expect(await cacheB.get('order:1')).toEqual({ status: 'placed' });
    // B now holds it in its L1; a plain Redis write behind its back would not be seen:
    expect(cacheB.l1Size).toBeGreaterThan(0);

    const delivered = received(cacheB, (m) => m.keys?.includes('order:1') ?? false);
    await cacheA.set('order:1', { status: 'shipped' });
    await delivered;
    expect(await cacheB.get('order:1')).toEqual({ status: 'shipped' });
  });

  it('a delete on A evicts B’s L1 entry', async () => {
    await cacheA.set('order:2', 'x');
    expect(await cacheB.get('order:2')).toBe('x');
    const delivered = received(cacheB, (m) => m.keys?.includes('order:2') ?? false);
    await cacheA.delete('order:2');
    await delivered;
    expect(await cacheB.get('order:2')).toBeUndefined();
  });

  it('a tag invalidated on A evicts B’s L1 entries with that tag', async () => {
    const loaderB = vi.fn<() => Promise<string>>(async () => 'from-db');
    await cacheB.getOrSet('order:3', loaderB, { tags: ['customer:9'] });
    await cacheB.getOrSet('order:3', loaderB, { tags: ['customer:9'] });
    expect(loaderB).toHaveBeenCalledTimes(1);
    const delivered = received(cacheB, (m) => m.tags?.includes('customer:9') ?? false);
    await cacheA.invalidateTags(['customer:9']);
    await delivered;
    await cacheB.getOrSet('order:3', loaderB, { tags: ['customer:9'] });
    expect(loaderB).toHaveBeenCalledTimes(2);
  });

  it('distributed single-flight: concurrent misses on both instances call the loader once', async () => {
    const loader = vi.fn<() => Promise<string>>(async () => {
      await new Promise((r) => setImmediate(r));
      return 'once';
    });
    const gate = deferred();
    const run = (c: TieredCacheStore) =>
      gate.promise.then(() => c.getOrSet('sf:1', loader, { singleFlight: 'distributed' }));
    const calls = [
      ...Array.from({ length: 50 }, () => run(cacheA)),
      ...Array.from({ length: 50 }, () => run(cacheB)),
    ];
    gate.resolve();
    const results = await Promise.all(calls);
    expect(new Set(results)).toEqual(new Set(['once']));
    expect(loader).toHaveBeenCalledTimes(1);
  });
});

describe('redis: concurrent reads are batched', () => {
  it('32 concurrent gets (L1 off) reach Redis as one MGET and each get answers its own value', async () => {
    const ctx = await app({ redis: { url: REDIS_URL, keyPrefix: `${prefix}batch:` }, l1: false });
    try {
      const cache = ctx.get(CacheStore) as TieredCacheStore;
      const keys = Array.from({ length: 32 }, (_, i) => `order:${i}`);
      for (const [i, k] of keys.entries()) if (i % 4 !== 3) await cache.set(k, { i });
      const client = (cache['deps'].store.inner as RedisKeyvStore).client;
      const mget = vi.spyOn(client, 'mget');
      const get = vi.spyOn(client, 'get');
      const values = await Promise.all(keys.map((k) => cache.get(k)));
      expect(values).toEqual(keys.map((_, i) => (i % 4 === 3 ? undefined : { i })));
      expect(mget).toHaveBeenCalledTimes(1);
      expect(mget.mock.calls[0]![0]).toHaveLength(32);
      expect(get).not.toHaveBeenCalled();
      // A lone read stays a GET.
      expect(await cache.get('order:0')).toEqual({ i: 0 });
      expect(get).toHaveBeenCalledTimes(1);
      expect(mget).toHaveBeenCalledTimes(1);
    } finally {
      await ctx.close();
    }
  });
});

describe('redis: keys and boot errors', () => {
  it('stores a key longer than the limit under a bounded, hashed Redis key', async () => {
    const keyPrefix = `${prefix}len:`;
    const ctx = await app({ redis: { url: REDIS_URL, keyPrefix }, maxKeyLength: 100 });
    const redis = new Redis(REDIS_URL);
    try {
      await ctx.get(CacheStore).set(`k:${'z'.repeat(10_000)}`, 1);
      const keys = await redis.keys(`${keyPrefix}e:*`);
      expect(keys).toHaveLength(1);
      expect(keys[0]!.length).toBeLessThan(keyPrefix.length + 120);
      expect(keys[0]).toMatch(/#[A-Za-z0-9_-]{43}$/);
    } finally {
      redis.disconnect();
      await ctx.close();
    }
  });

  it('a REDIS_URL that is not a redis:// URL fails the boot naming it', async () => {
    await expect(app({ redis: { url: 'localhost:6379' } })).rejects.toThrow(
      new CachingConfigError(
        'CachingModule: options.redis.url: must be a redis:// or rediss:// URL (REDIS_URL), got "localhost:6379"',
      ),
    );
  });

  it('a REDIS_URL with a wrong password fails the boot naming it, without the password', async () => {
    const error = await app({ redis: { url: 'redis://nobody:s3cret-pw@127.0.0.1:6379' } }).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(error).toBeInstanceOf(CachingConfigError);
    expect(error!.message).toMatch(/REDIS_URL/);
    expect(error!.message).toMatch(/WRONGPASS|invalid username/);
    expect(error!.message).not.toContain('s3cret-pw');
  });

  it('store "redis" without a URL fails the boot naming redis.url', async () => {
    await expect(app({ store: 'redis' })).rejects.toThrow(
      'CachingModule: options.redis.url: is required when store is "redis" (set REDIS_URL)',
    );
  });
});
