import { once } from 'node:events';
import { Test, type TestingModule } from '@nestjs/testing';
import { getStorageToken, type ThrottlerStorage } from '@nestjs/throttler';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MonitoringModule } from '@infrastructure/monitoring';
import { RotatingRedisPassword, testMonitoringOptions } from '@infrastructure/testing';
import { JwtManager, SecretsProvider, SecurityModule } from '../src/index.js';

// A redis-server of this file's own: the test changes its requirepass and kills its clients.
let redis: RotatingRedisPassword;
let ref: TestingModule | undefined;

beforeAll(async () => {
  redis = await RotatingRedisPassword.start({ password: 'pw-a' });
});

afterAll(async () => {
  await ref?.close();
  await redis?.stop();
});

describe('SecurityModule redis.password (a rotating secret of its own SecretsProvider)', () => {
  it('revocations and rate limits keep working on Redis after requirepass and REDIS_PASSWORD_FILE rotate and the connection drops', async () => {
    ref = await Test.createTestingModule({
      imports: [
        MonitoringModule.forRoot(testMonitoringOptions()),
        SecurityModule.forRoot({
          jwt: {
            issuer: 'https://api.test',
            audience: 'orders',
            keyring: { keys: [{ kid: 'k1', alg: 'HS256', key: 's'.repeat(32) }] },
          },
          audit: false,
          redis: { url: redis.url(), keyPrefix: 'rot:', password: { name: 'REDIS_PASSWORD' } },
          // REDIS_PASSWORD_FILE as the app's environment would give it.
          secrets: { env: { REDIS_PASSWORD_FILE: redis.file } },
        }),
      ],
    }).compile();
    await ref.init();
    const jwt = ref.get(JwtManager);
    const storage = ref.get<ThrottlerStorage>(getStorageToken());
    const secrets = ref.get(SecretsProvider);
    const client = ref.get<Redis>('SECURITY:REDIS');
    if (client.status !== 'ready') await once(client, 'ready');
    const hits = async () =>
      (await storage.increment('client-1', 60_000, 100, 60_000, 'default')).totalHits;
    expect(await hits()).toBe(1);

    await redis.rotate('pw-b', secrets);
    const ready = once(client, 'ready');
    await redis.dropClients();
    await ready;

    // Fail-open would answer 0 hits if Redis refused the reconnect: 2 is Redis counting.
    expect(await hits()).toBe(2);
    const token = await jwt.createToken({ sub: 'u1' });
    const verified = await jwt.verify(token);
    await jwt.revoke(verified);
    await expect(jwt.verify(token)).rejects.toMatchObject({ reason: 'revoked' });
    expect(await redis.command('KEYS', 'rot:security:revoked:*')).toHaveLength(1);
  });
});
