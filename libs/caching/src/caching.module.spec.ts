import { Injectable, Module } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import { CacheStore } from './cache-store.js';
import { CACHING_OPTIONS, CACHING_STORE } from './caching.constants.js';
import { CachingModule } from './caching.module.js';
import type { CachingOptions, ResolvedCachingOptions } from './caching.options.js';
import { LockService } from './lock/lock.service.js';
import { bootTestingModule } from '@infrastructure/testing';

const boot = (imports: unknown[]) => bootTestingModule({ imports: imports as never });

@Injectable()
class CacheOptionsFactory {
  createCachingOptions(): CachingOptions {
    return { ttlMs: 1234 };
  }
}

@Module({ providers: [CacheOptionsFactory], exports: [CacheOptionsFactory] })
class OptionsModule {}

const load = () => ({ id: 'o-1', at: new Date(0) });

describe('CachingModule', () => {
  it('forRoot() gives a memory CacheStore, LockService and the CACHING:STORE alias', async () => {
    const app = await boot([CachingModule.forRoot()]);
    const cache = app.get(CacheStore);
    await cache.set('k', 1);
    expect(await cache.get('k')).toBe(1);
    expect(app.get(CACHING_STORE)).toBe(cache);
    expect(app.get(LockService)).toBeDefined();
    expect(app.get<ResolvedCachingOptions>(CACHING_OPTIONS)).toMatchObject({
      store: 'memory',
      l1: { maxEntries: 10_000, ttlMs: 10_000 },
    });
    await app.close();
  });

  it('memory store: hits come from the L1 (one shared object, no decode); l1: false decodes a copy per get', async () => {
    const shared = await boot([CachingModule.forRoot()]);
    const a = shared.get(CacheStore);
    await a.getOrSet('o', load, { tags: ['o'] });
    expect(await a.getOrSet('o', load, { tags: ['o'] })).toBe(await a.get('o'));
    await shared.close();
    const copies = await boot([CachingModule.forRoot({ l1: false })]);
    const b = copies.get(CacheStore);
    await b.getOrSet('o', load, { tags: ['o'] });
    const first = await b.get('o');
    expect(first).toEqual({ id: 'o-1', at: new Date(0) });
    expect(await b.get('o')).not.toBe(first);
    await copies.close();
  });

  it.each([
    ['useFactory', { useFactory: () => ({ ttlMs: 1234 }) }],
    ['useClass', { useClass: CacheOptionsFactory }],
    ['useExisting', { imports: [OptionsModule], useExisting: CacheOptionsFactory }],
  ])('forRootAsync with %s', async (_name, async) => {
    const app = await boot([CachingModule.forRootAsync(async as never)]);
    expect(app.get<ResolvedCachingOptions>(CACHING_OPTIONS).ttlMs).toBe(1234);
    await app.close();
  });

  it.each([
    [{ ttlMs: -1 }, 'CachingModule: options.ttlMs:'],
    [{ l1: { maxEntries: 0 } }, 'CachingModule: options.l1'],
    [{ store: 'disk' }, 'CachingModule: options.store:'],
    [{ opTimeoutMs: 'fast' }, 'CachingModule: options.opTimeoutMs:'],
    [{ redis: { url: 'redis://x', keyprefix: 'a' } }, 'CachingModule: options.redis:'],
    [
      { serializer: {} },
      'CachingModule: options.serializer: must have serialize(key, value) and deserialize(data)',
    ],
  ])('bad options fail the boot naming the key: %j', async (options, message) => {
    await expect(boot([CachingModule.forRoot(options as never)])).rejects.toThrow(message);
  });
});
