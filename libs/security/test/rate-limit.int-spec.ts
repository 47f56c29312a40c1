import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisThrottlerStorage } from '@infrastructure/security';
import { TcpProxy } from '@infrastructure/testing';

describe('RedisThrottlerStorage', () => {
  const proxy = new TcpProxy(6379);
  let redis: Redis;
  const prefix = `rl-it-${randomUUID().slice(0, 8)}:`;

  beforeAll(async () => {
    await proxy.listen();
    redis = new Redis(proxy.url('redis'), { maxRetriesPerRequest: 1 });
  });
  afterAll(async () => {
    const direct = new Redis('redis://127.0.0.1:6379');
    const keys = await direct.keys(`${prefix}*`);
    if (keys.length > 0) await direct.del(...keys);
    direct.disconnect();
    redis.disconnect();
    await proxy.stop();
  });

  it('counts hits atomically in a fixed window and blocks over the limit', async () => {
    const storage = new RedisThrottlerStorage(redis, { keyPrefix: prefix });
    const results = await Promise.all(
      Array.from({ length: 8 }, () => storage.increment('user:a', 60_000, 5, 30_000, 'default')),
    );
    expect(results.map((r) => r.totalHits).sort((x, y) => x - y)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(results.filter((r) => r.isBlocked)).toHaveLength(3);
    const blocked = results.find((r) => r.isBlocked)!;
    expect(blocked.timeToBlockExpire).toBeGreaterThan(0);
    expect(blocked.timeToBlockExpire).toBeLessThanOrEqual(30);
  });

  it('a stalled Redis: answers within its timeout and lets the request through (fail-open)', async () => {
    const storage = new RedisThrottlerStorage(redis, { keyPrefix: prefix, timeoutMs: 50 });
    const strict = new RedisThrottlerStorage(redis, {
      keyPrefix: prefix,
      timeoutMs: 50,
      failOpen: false,
    });
    proxy.stall();
    try {
      const started = performance.now();
      const open = await storage.increment('user:b', 60_000, 5, 0, 'default');
      expect(performance.now() - started).toBeLessThan(2000);
      expect(open.isBlocked).toBe(false);
      const closed = await strict.increment('user:b', 60_000, 5, 0, 'default');
      expect(closed.isBlocked).toBe(true);
    } finally {
      await proxy.restore();
    }
  });
});
