import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DirectorySecretsProvider } from '@infrastructure/security';
import { kubeletWrite, RedisServer } from '@infrastructure/testing';
import { RedisTransport } from '../src/transports/redis/redis.transport.js';
import type { TransportMessage } from '../src/transports/transport.js';

// A redis-server of this file's own: the test changes its requirepass and kills its clients.
const dir = mkdtempSync(join(tmpdir(), 'messaging-redis-password-'));
let server: RedisServer;
let admin: Redis;
let secrets: DirectorySecretsProvider;
let transport: RedisTransport | undefined;

beforeAll(async () => {
  server = await RedisServer.start({ password: 'pw-a' });
  admin = new Redis(server.url('pw-a'), { lazyConnect: true });
  await admin.connect();
  kubeletWrite(dir, { REDIS_PASSWORD: 'pw-a' });
  secrets = new DirectorySecretsProvider({ directory: dir, pollIntervalMs: 0 });
});

afterAll(async () => {
  await transport?.close();
  admin?.disconnect();
  secrets?.close();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('RedisTransport transportOptions.password (a rotating secret)', () => {
  it('the command connection and the consumer reconnect with the rotated password: a message published after the drop is consumed', async () => {
    transport = new RedisTransport(
      { url: server.url(), namespace: 'rot', serviceName: 'svc' },
      { password: { secrets, name: 'REDIS_PASSWORD' }, blockMs: 200 },
    );
    await transport.connect();
    const seen: TransportMessage[] = [];
    let arrived: (() => void) | undefined;
    await transport.subscribe(
      'rot.Event',
      'g',
      async (m) => {
        seen.push(m);
        arrived?.();
        return { outcome: 'success' };
      },
      { prefetch: 1 },
    );
    const next = () => new Promise<void>((resolve) => (arrived = resolve));

    let delivered = next();
    await transport.publish([{ type: 'rot.Event', body: 'one', headers: { 'x-message-id': '1' } }]);
    await delivered;

    await admin.config('SET', 'requirepass', 'pw-b');
    const changed = new Promise<void>((resolve) => {
      const off = secrets.onChange('REDIS_PASSWORD', () => {
        off();
        resolve();
      });
    });
    kubeletWrite(dir, { REDIS_PASSWORD: 'pw-b' });
    await changed;
    const before = Number(
      await admin.info('stats').then((s) => /total_connections_received:(\d+)/.exec(s)![1]),
    );
    await admin.client('KILL', 'TYPE', 'normal', 'SKIPME', 'yes');

    // publish waits in ioredis' offline queue until the command connection is back (with pw-b);
    // the consumer's blocking reader must be back too for the message to arrive.
    delivered = next();
    await transport.publish([{ type: 'rot.Event', body: 'two', headers: { 'x-message-id': '2' } }]);
    await delivered;
    expect(seen.map((m) => m.body)).toEqual(['one', 'two']);
    const after = Number(
      await admin.info('stats').then((s) => /total_connections_received:(\d+)/.exec(s)![1]),
    );
    // Both connections came back (the command one and the consumer's reader).
    expect(after - before).toBeGreaterThanOrEqual(2);
    await expect(transport.ping()).resolves.toBeUndefined();
  });
});
