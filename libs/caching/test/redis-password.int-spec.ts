import { once } from 'node:events';
import type { INestApplicationContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DirectorySecretsProvider } from '@infrastructure/security';
import { RotatingRedisPassword } from '@infrastructure/testing';
import {
  CacheStore,
  CachingConfigError,
  CachingModule,
  TieredCacheStore,
  type CachingOptions,
} from '../src/index.js';

// A redis-server of this file's own: the test changes its requirepass and kills its clients.
let redis: RotatingRedisPassword;
let secrets: DirectorySecretsProvider;
const apps: INestApplicationContext[] = [];

beforeAll(async () => {
  redis = await RotatingRedisPassword.start({ password: 'pw-a' });
  secrets = new DirectorySecretsProvider({ directory: redis.directory, pollIntervalMs: 0 });
});

afterAll(async () => {
  for (const app of apps) await app.close();
  secrets?.close();
  await redis?.stop();
});

async function boot(options: CachingOptions): Promise<INestApplicationContext> {
  const moduleRef = await Test.createTestingModule({
    imports: [CachingModule.forRoot(options)],
  }).compile();
  const app = await moduleRef.init();
  apps.push(app);
  return app;
}

describe('CachingModule redis.password (a rotating secret)', () => {
  it('connects with the secret (the URL has no password), and after requirepass and the secret rotate, reconnects: commands and invalidations go on', async () => {
    const options: CachingOptions = {
      redis: {
        url: redis.url(),
        keyPrefix: 'rot:',
        password: { secrets, name: 'REDIS_PASSWORD' },
      },
      l1: { maxEntries: 100, ttlMs: 60_000 },
    };
    const cacheA = (await boot(options)).get(CacheStore) as TieredCacheStore;
    const cacheB = (await boot(options)).get(CacheStore) as TieredCacheStore;
    await Promise.all([cacheA['deps'].bus.ready(), cacheB['deps'].bus.ready()]);
    await cacheA.set('k', 'v1');
    expect(await cacheB.get('k')).toBe('v1');

    await redis.rotate('pw-b', secrets);

    // Every connection (commands, the subscriber duplicates) must authenticate again.
    const busB = cacheB['deps'].bus as unknown as { publisher: Redis; subscriber: Redis };
    const busA = cacheA['deps'].bus as unknown as { publisher: Redis; subscriber: Redis };
    const ready = [busA.publisher, busA.subscriber, busB.publisher, busB.subscriber].map((c) =>
      once(c, 'ready'),
    );
    await redis.dropClients('normal', 'pubsub');
    await Promise.all(ready);
    await Promise.all([cacheA['deps'].bus.ready(), cacheB['deps'].bus.ready()]);

    // B's L1 was cleared on its reconnect; it reads v1 again from Redis, then A's write must reach
    // B's subscriber (re-authenticated) to invalidate it.
    expect(await cacheB.get('k')).toBe('v1');
    const invalidated = new Promise<void>((resolve) => {
      const off = cacheB.onRemoteInvalidation((m) => {
        if (!m.keys?.includes('k')) return;
        off();
        resolve();
      });
    });
    await cacheA.set('k', 'v2');
    await invalidated;
    expect(await cacheB.get('k')).toBe('v2');

    // The server really checks: the old password is refused.
    const stale = new Redis(redis.url('pw-a'), { lazyConnect: true, retryStrategy: () => null });
    const refused = new Promise<Error>((resolve) => stale.on('error', resolve));
    await stale.connect().catch(() => undefined);
    expect((await refused).message).toMatch(/WRONGPASS|invalid password/i);
    stale.disconnect();
  });

  it('fails the boot when the secrets provider does not have the named secret', async () => {
    await expect(
      boot({
        redis: { url: redis.url(), password: { secrets, name: 'NO_SUCH_SECRET' } },
      }),
    ).rejects.toThrow(CachingConfigError);
    await expect(
      boot({ redis: { url: redis.url(), password: { secrets, name: 'NO_SUCH_SECRET' } } }),
    ).rejects.toThrow(/options\.redis\.password names secret "NO_SUCH_SECRET"/);
  });
});
