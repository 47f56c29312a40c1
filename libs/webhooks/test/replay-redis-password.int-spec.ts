import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Test, type TestingModule } from '@nestjs/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DirectorySecretsProvider } from '@infrastructure/security';
import { kubeletWrite, RedisServer } from '@infrastructure/testing';
import { generateWebhookSecret, WebhookReplayStore, WebhooksModule } from '../src/index.js';

// A redis-server of this file's own: the test changes its requirepass and kills its clients.
const dir = mkdtempSync(join(tmpdir(), 'webhooks-redis-password-'));
let server: RedisServer;
let admin: Redis;
let secrets: DirectorySecretsProvider;
let ref: TestingModule | undefined;

beforeAll(async () => {
  server = await RedisServer.start({ password: 'pw-a' });
  admin = new Redis(server.url('pw-a'), { lazyConnect: true });
  await admin.connect();
  kubeletWrite(dir, { REDIS_PASSWORD: 'pw-a' });
  secrets = new DirectorySecretsProvider({ directory: dir, pollIntervalMs: 0 });
});

afterAll(async () => {
  await ref?.close();
  admin?.disconnect();
  secrets?.close();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('WebhooksModule replay.password (a rotating secret)', () => {
  it('the Redis replay store reconnects with the rotated password and keeps refusing replays', async () => {
    ref = await Test.createTestingModule({
      imports: [
        WebhooksModule.forRoot({
          secret: generateWebhookSecret(),
          replay: {
            store: 'redis',
            url: server.url(),
            password: { secrets, name: 'REDIS_PASSWORD' },
          },
        }),
      ],
    }).compile();
    await ref.init();
    const store = ref.get(WebhookReplayStore);
    expect(await store.claim('default:msg-1', 60)).toBe(true);

    await admin.config('SET', 'requirepass', 'pw-b');
    const changed = new Promise<void>((resolve) => {
      const off = secrets.onChange('REDIS_PASSWORD', () => {
        off();
        resolve();
      });
    });
    kubeletWrite(dir, { REDIS_PASSWORD: 'pw-b' });
    await changed;
    const client = (store as unknown as { client: Redis }).client;
    const ready = once(client, 'ready');
    await admin.client('KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
    await ready;

    expect(await store.claim('default:msg-1', 60)).toBe(false);
    expect(await store.claim('default:msg-2', 60)).toBe(true);
  });
});
