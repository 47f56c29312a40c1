import { CACHE_MANAGER } from '@nestjs/cache-manager';
import { Injectable, type INestApplicationContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { Cache } from 'cache-manager';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  CacheEvict,
  CachePut,
  CacheSerializationError,
  CacheStore,
  Cacheable,
  CachingModule,
  LockService,
  type CachingOptions,
} from '../../src/index.js';

/** A promise with its resolve handle, to await what a test waits for. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

@Injectable()
export class OrdersService {
  readonly rows = new Map<string, { id: string; name: string; at: Date }>();
  reads = 0;

  @Cacheable({
    key: (id: string) => `order:${id}`,
    ttlMs: 60_000,
    tags: (id: string) => [`order:${id}`],
  })
  async find(id: string): Promise<{ id: string; name: string; at: Date } | null> {
    this.reads++;
    return this.rows.get(id) ?? null;
  }

  @CacheEvict({ keys: ([id]: [string]) => `order:${id}` })
  async remove(id: string): Promise<void> {
    this.rows.delete(id);
  }

  @CachePut({ key: ([id]: [string, string]) => `order:${id}`, tags: ([id]) => [`order:${id}`] })
  async rename(id: string, name: string): Promise<{ id: string; name: string; at: Date }> {
    const row = { id, name, at: new Date('2026-01-02T03:04:05.006Z') };
    this.rows.set(id, row);
    return row;
  }

  @CacheEvict({ tags: ([id]: [string]) => [`order:${id}`] })
  async touch(id: string): Promise<void> {
    const row = this.rows.get(id);
    if (row) row.name = `${row.name}!`;
  }

  @CacheEvict({ keys: ([id]: [string]) => `order:${id}` })
  async failToRemove(_id: string): Promise<void> {
    throw new Error('database said no');
  }
}

async function failing(): Promise<never> {
  throw new Error('db down');
}

/**
 * The behaviour every store must have. `options()` gives the module options of the store under
 * test (each call a fresh key prefix is fine; one app is built per suite).
 */
export function describeCacheContract(storeName: string, options: () => CachingOptions): void {
  describe(`cache contract: ${storeName}`, () => {
    let app: INestApplicationContext;
    let cache: CacheStore;
    let orders: OrdersService;
    let n = 0;
    const key = (label: string) => `${label}:${++n}`;

    beforeAll(async () => {
      const moduleRef = await Test.createTestingModule({
        imports: [CachingModule.forRoot(options())],
        providers: [OrdersService],
      }).compile();
      app = await moduleRef.init();
      cache = app.get(CacheStore);
      orders = app.get(OrdersService);
    });

    afterAll(async () => {
      await app?.close();
    });

    it('returns undefined for a missing key, the value after set, undefined after delete', async () => {
      const k = key('basic');
      expect(await cache.get(k)).toBeUndefined();
      await cache.set(k, { a: 1, list: [1, 'two', null], nested: { ok: true } });
      expect(await cache.get(k)).toEqual({ a: 1, list: [1, 'two', null], nested: { ok: true } });
      await cache.delete(k);
      expect(await cache.get(k)).toBeUndefined();
    });

    it('deletes several keys at once', async () => {
      const [a, b] = [key('many'), key('many')];
      await cache.set(a, 1);
      await cache.set(b, 2);
      await cache.delete([a, b]);
      expect([await cache.get(a), await cache.get(b)]).toEqual([undefined, undefined]);
    });

    it('stores copies: changing the object after set does not change the cached value', async () => {
      const k = key('copy');
      const value = { n: 1 };
      await cache.set(k, value);
      value.n = 2;
      expect(await cache.get(k)).toEqual({ n: 1 });
    });

    it('round-trips Date, BigInt, Buffer, Uint8Array, Map, Set, NaN, -0 and a "$$cache" key', async () => {
      const k = key('types');
      const value = {
        at: new Date('2026-11-26T10:00:00.123Z'),
        big: 12345678901234567890n,
        buf: Buffer.from([0, 1, 2, 255]),
        bytes: new Uint8Array([9, 8, 7]),
        map: new Map<string, unknown>([['a', new Date(0)]]),
        set: new Set([1, 2, 3]),
        nan: Number.NaN,
        inf: -Infinity,
        negZero: -0,
        tricky: { $$cache: 'd', v: 'not a date' },
      };
      await cache.set(k, value);
      const back = (await cache.get<typeof value>(k))!;
      expect(back.at).toBeInstanceOf(Date);
      expect(back.at.toISOString()).toBe('2026-11-26T10:00:00.123Z');
      expect(back.big).toBe(12345678901234567890n);
      expect(Buffer.isBuffer(back.buf)).toBe(true);
      expect([...back.buf]).toEqual([0, 1, 2, 255]);
      expect(back.bytes).toBeInstanceOf(Uint8Array);
      expect([...back.bytes]).toEqual([9, 8, 7]);
      expect(back.map.get('a')).toEqual(new Date(0));
      expect(back.set).toEqual(new Set([1, 2, 3]));
      expect(back.nan).toBeNaN();
      expect(back.inf).toBe(-Infinity);
      expect(Object.is(back.negZero, -0)).toBe(true);
      expect(back.tricky).toEqual({ $$cache: 'd', v: 'not a date' });
    });

    it('refuses a value it cannot serialise with an error naming the key', async () => {
      const k = key('bad');
      const circular: Record<string, unknown> = { a: 1 };
      circular.self = circular;
      await expect(cache.set(k, { run: () => 1 })).rejects.toThrow(
        new CacheSerializationError(k, 'property "run" is a function'),
      );
      await expect(cache.set(k, circular)).rejects.toThrow(`cannot cache key "${k}"`);
      await expect(cache.set(k, circular)).rejects.toThrow(/circular/);
      await expect(cache.set(k, undefined)).rejects.toThrow(CacheSerializationError);
      await expect(cache.getOrSet(k, () => ({ s: Symbol('x') }))).rejects.toThrow(
        `cannot cache key "${k}": property "s" is a symbol`,
      );
      expect(await cache.get(k)).toBeUndefined();
    });

    it('hashes a key longer than the limit instead of rejecting it', async () => {
      const long = `long:${'x'.repeat(5000)}`;
      const other = `long:${'x'.repeat(4999)}y`;
      await cache.set(long, 'first');
      await cache.set(other, 'second');
      expect(await cache.get(long)).toBe('first');
      expect(await cache.get(other)).toBe('second');
    });

    it('expires an entry after ttlMs (milliseconds)', async () => {
      const k = key('ttl');
      await cache.set(k, 'short', { ttlMs: 50 });
      expect(await cache.get(k)).toBe('short');
      await vi.waitFor(async () => expect(await cache.get(k)).toBeUndefined(), {
        timeout: 2000,
        interval: 20,
      });
    });

    it('getOrSet calls the loader on a miss only, caches null but not undefined', async () => {
      const k = key('aside');
      const loader = vi.fn<() => Promise<{ v: number }>>(async () => ({ v: 1 }));
      expect(await cache.getOrSet(k, loader)).toEqual({ v: 1 });
      expect(await cache.getOrSet(k, loader)).toEqual({ v: 1 });
      expect(loader).toHaveBeenCalledTimes(1);

      const nk = key('null');
      const nullLoader = vi.fn<() => Promise<null>>(async () => null);
      await cache.getOrSet(nk, nullLoader);
      expect(await cache.getOrSet(nk, nullLoader)).toBeNull();
      expect(nullLoader).toHaveBeenCalledTimes(1);

      const uk = key('undef');
      const undefLoader = vi.fn<() => Promise<undefined>>(async () => undefined);
      await cache.getOrSet(uk, undefLoader);
      await cache.getOrSet(uk, undefLoader);
      expect(undefLoader).toHaveBeenCalledTimes(2);
    });

    it('single-flight: 1,000 concurrent misses for one key call the loader once', async () => {
      const k = key('flight');
      const gate = deferred();
      const loader = vi.fn<() => Promise<string>>(async () => {
        await gate.promise;
        return 'loaded';
      });
      const calls = Array.from({ length: 1000 }, () => cache.getOrSet(k, loader));
      gate.resolve();
      const results = await Promise.all(calls);
      expect(loader).toHaveBeenCalledTimes(1);
      expect(new Set(results)).toEqual(new Set(['loaded']));
    });

    it('a failing loader rejects every waiting caller and caches nothing', async () => {
      const k = key('fail');
      const loader = vi.fn<() => Promise<never>>(async () => {
        throw new Error('source down');
      });
      const results = await Promise.allSettled([
        cache.getOrSet(k, loader),
        cache.getOrSet(k, loader),
      ]);
      expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
      expect(loader).toHaveBeenCalledTimes(1);
      expect(await cache.get(k)).toBeUndefined();
    });

    it('invalidateTags makes every tagged entry a miss and leaves the others', async () => {
      const [a, b, c] = [key('tag'), key('tag'), key('tag')];
      const tag = key('t');
      await cache.set(a, 'a', { tags: [tag] });
      await cache.getOrSet(b, () => 'b', { tags: [tag, 'other'] });
      await cache.set(c, 'c', { tags: ['other'] });
      expect(await cache.get(a)).toBe('a');
      await cache.invalidateTags([tag]);
      expect(await cache.get(a)).toBeUndefined();
      expect(await cache.get(b)).toBeUndefined();
      expect(await cache.get(c)).toBe('c');
      // A new write under the tag is valid again.
      await cache.set(a, 'a2', { tags: [tag] });
      expect(await cache.get(a)).toBe('a2');
    });

    it('does not cache a value loaded while its tag was invalidated', async () => {
      const k = key('race');
      const tag = key('rt');
      const started = deferred();
      const gate = deferred();
      const slow = cache.getOrSet(
        k,
        async () => {
          started.resolve();
          await gate.promise;
          return 'old';
        },
        { tags: [tag] },
      );
      await started.promise;
      await cache.invalidateTags([tag]);
      gate.resolve();
      expect(await slow).toBe('old');
      expect(await cache.getOrSet(k, () => 'new', { tags: [tag] })).toBe('new');
    });

    it('stale-while-revalidate: serves the stale value at once and refreshes it in the background', async () => {
      const k = key('swr');
      await cache.getOrSet(k, () => 'v1', { ttlMs: 30, staleWhileRevalidateMs: 60_000 });
      await vi.waitFor(async () => expect(await cache.get(k)).toBeUndefined(), {
        timeout: 2000,
        interval: 10,
      });
      const refreshed = deferred<string>();
      const loader = async () => {
        queueMicrotask(() => refreshed.resolve('v2'));
        return 'v2';
      };
      expect(
        await cache.getOrSet(k, loader, { ttlMs: 60_000, staleWhileRevalidateMs: 60_000 }),
      ).toBe('v1');
      await refreshed.promise;
      await vi.waitFor(async () => expect(await cache.get(k)).toBe('v2'), {
        timeout: 2000,
        interval: 10,
      });
    });

    it('grace: serves the stale value when the loader fails, and rethrows once grace has passed', async () => {
      const k = key('grace');
      await cache.getOrSet(k, () => 'good', { ttlMs: 30, graceMs: 60_000 });
      await vi.waitFor(async () => expect(await cache.get(k)).toBeUndefined(), {
        timeout: 2000,
        interval: 10,
      });
      expect(await cache.getOrSet(k, failing, { ttlMs: 30, graceMs: 60_000 })).toBe('good');

      const k2 = key('nograce');
      await cache.getOrSet(k2, () => 'good', { ttlMs: 30, graceMs: 0 });
      await vi.waitFor(async () => expect(await cache.get(k2)).toBeUndefined(), {
        timeout: 2000,
        interval: 10,
      });
      await expect(cache.getOrSet(k2, failing, { graceMs: 0 })).rejects.toThrow('db down');
    });

    it('wrap memoises a function by the key of its arguments', async () => {
      const prefix = key('wrap');
      const square = vi.fn<(x: number) => Promise<number>>(async (x: number) => x * x);
      const cached = cache.wrap(square, { key: (x) => `${prefix}:${x}` });
      expect([await cached(3), await cached(3), await cached(4)]).toEqual([9, 9, 16]);
      expect(square).toHaveBeenCalledTimes(2);
    });

    it('@Cacheable caches, @CacheEvict evicts after success only, @CachePut writes through', async () => {
      const id = key('o');
      orders.rows.set(id, { id, name: 'first', at: new Date(1) });
      const reads = orders.reads;
      expect((await orders.find(id))?.name).toBe('first');
      expect((await orders.find(id))?.at).toEqual(new Date(1));
      expect(orders.reads).toBe(reads + 1);

      await expect(orders.failToRemove(id)).rejects.toThrow('database said no');
      expect((await orders.find(id))?.name).toBe('first');
      expect(orders.reads).toBe(reads + 1);

      await orders.rename(id, 'second');
      expect((await orders.find(id))?.name).toBe('second');
      expect(orders.reads).toBe(reads + 1);

      await orders.touch(id);
      expect((await orders.find(id))?.name).toBe('second!');
      expect(orders.reads).toBe(reads + 2);

      await orders.remove(id);
      expect(await orders.find(id)).toBeNull();
      expect(orders.reads).toBe(reads + 3);
    });

    it('LockService: one holder at a time, fencing tokens increase, released after fn (also on error)', async () => {
      const locks = app.get(LockService);
      const name = key('lock');
      const inside = deferred();
      const leave = deferred();
      const first = locks.withLock(name, 5000, async (lock) => {
        inside.resolve();
        await leave.promise;
        return lock.fencingToken;
      });
      await inside.promise;
      await expect(locks.withLock(name, 5000, () => 'never', { waitMs: 0 })).rejects.toThrow(
        `lock "${name}" is held by someone else`,
      );
      leave.resolve();
      const t1 = await first;
      await expect(
        locks.withLock(name, 5000, () => {
          throw new Error('inside');
        }),
      ).rejects.toThrow('inside');
      const t3 = await locks.withLock(name, 5000, (lock) => lock.fencingToken);
      expect(t3).toBeGreaterThan(t1);
    });

    it('LockService: a waiter gets the lock once the holder releases it', async () => {
      const locks = app.get(LockService);
      const name = key('wait');
      const order: string[] = [];
      const inside = deferred();
      const leave = deferred();
      const holder = locks.withLock(name, 5000, async () => {
        inside.resolve();
        await leave.promise;
        order.push('holder');
      });
      await inside.promise;
      const waiter = locks.withLock(name, 5000, () => order.push('waiter'), {
        waitMs: 5000,
        retryDelayMs: 5,
      });
      leave.resolve();
      await Promise.all([holder, waiter]);
      expect(order).toEqual(['holder', 'waiter']);
    });

    it('serves cache-manager (CACHE_MANAGER) over the same store for @nestjs/cache-manager code', async () => {
      const manager = app.get<Cache>(CACHE_MANAGER);
      const k = key('cm');
      await manager.set(k, { ok: true }, 10_000);
      expect(await manager.get(k)).toEqual({ ok: true });
      await manager.del(k);
      expect(await manager.get(k)).toBeUndefined();
    });
  });
}
