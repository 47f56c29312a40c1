import { once } from 'node:events';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DirectorySecretsProvider } from '@infrastructure/security';
import { RotatingRedisPassword } from '@infrastructure/testing';
import { createRedisClient, followRedisPassword } from '../src/redis.js';

let redis: RotatingRedisPassword;
let secrets: DirectorySecretsProvider;
const clients: Redis[] = [];

beforeAll(async () => {
  redis = await RotatingRedisPassword.start({ password: 'pw-a' });
  secrets = new DirectorySecretsProvider({ directory: redis.directory, pollIntervalMs: 0 });
});

afterAll(async () => {
  for (const c of clients) c.disconnect();
  secrets?.close();
  await redis?.stop();
});

async function client(url: string): Promise<Redis> {
  const c = await createRedisClient(
    url,
    { lazyConnect: true, retryStrategy: () => 20 },
    { owner: 'test' },
  );
  c.on('error', () => undefined);
  clients.push(c);
  return c;
}

describe('followRedisPassword', () => {
  it('reconnects with the rotated password after the server changed it; a client that does not follow is refused', async () => {
    const follower = await client(redis.url());
    const off = followRedisPassword(follower, secrets, 'REDIS_PASSWORD');
    const stale = await client(redis.url('pw-a'));
    await follower.connect();
    await stale.connect();
    expect(await follower.ping()).toBe('PONG');
    expect(await stale.ping()).toBe('PONG');

    await redis.rotate('pw-b', secrets);

    // Connections that authenticated before stay authenticated: nothing is dropped by the rotation.
    expect(await follower.ping()).toBe('PONG');
    // A reconnect (network blip, server restart) must authenticate again.
    const ready = once(follower, 'ready');
    const refused = new Promise<Error>((resolve) =>
      stale.on('error', (e: Error) => /WRONGPASS|invalid password/i.test(e.message) && resolve(e)),
    );
    await redis.dropClients();
    await ready;
    expect(await follower.ping()).toBe('PONG');
    expect((await refused).message).toMatch(/WRONGPASS|invalid password/i);
    off();
  });
});
