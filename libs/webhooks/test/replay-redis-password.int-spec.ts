import { once } from 'node:events';
import { Test, type TestingModule } from '@nestjs/testing';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DirectorySecretsProvider } from '@infrastructure/security';
import { RotatingRedisPassword } from '@infrastructure/testing';
import { generateWebhookSecret, WebhookReplayStore, WebhooksModule } from '../src/index.js';

// A redis-server of this file's own: the test changes its requirepass and kills its clients.
let redis: RotatingRedisPassword;
let secrets: DirectorySecretsProvider;
let ref: TestingModule | undefined;

beforeAll(async () => {
  redis = await RotatingRedisPassword.start({ password: 'pw-a' });
  secrets = new DirectorySecretsProvider({ directory: redis.directory, pollIntervalMs: 0 });
});

afterAll(async () => {
  await ref?.close();
  secrets?.close();
  await redis?.stop();
});

describe('WebhooksModule replay.password (a rotating secret)', () => {
  it('the Redis replay store reconnects with the rotated password and keeps refusing replays', async () => {
    ref = await Test.createTestingModule({
      imports: [
        WebhooksModule.forRoot({
          secret: generateWebhookSecret(),
          replay: {
            store: 'redis',
            url: redis.url(),
            password: { secrets, name: 'REDIS_PASSWORD' },
          },
        }),
      ],
    }).compile();
    await ref.init();
    const store = ref.get(WebhookReplayStore);
    expect(await store.claim('default:msg-1', 60)).toBe(true);

    await redis.rotate('pw-b', secrets);
    const client = (store as unknown as { client: Redis }).client;
    const ready = once(client, 'ready');
    await redis.dropClients();
    await ready;

    expect(await store.claim('default:msg-1', 60)).toBe(false);
    expect(await store.claim('default:msg-2', 60)).toBe(true);
  });
});
