import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DirectorySecretsProvider } from '@infrastructure/security';
import { RotatingRedisPassword } from '@infrastructure/testing';
import { RedisTransport } from '../src/transports/redis/redis.transport.js';
import type { TransportMessage } from '../src/transports/transport.js';

// A redis-server of this file's own: the test changes its requirepass and kills its clients.
let redis: RotatingRedisPassword;
let secrets: DirectorySecretsProvider;
let transport: RedisTransport | undefined;

beforeAll(async () => {
  redis = await RotatingRedisPassword.start({ password: 'pw-a' });
  secrets = new DirectorySecretsProvider({ directory: redis.directory, pollIntervalMs: 0 });
});

afterAll(async () => {
  await transport?.close();
  secrets?.close();
  await redis?.stop();
});

async function connectionsReceived(): Promise<number> {
  const stats = String(await redis.command('INFO', 'stats'));
  return Number(/total_connections_received:(\d+)/.exec(stats)![1]);
}

describe('RedisTransport transportOptions.password (a rotating secret)', () => {
  it('the command connection and the consumer reconnect with the rotated password: a message published after the drop is consumed', async () => {
    transport = new RedisTransport(
      { url: redis.url(), namespace: 'rot', serviceName: 'svc' },
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

    await redis.rotate('pw-b', secrets);
    const before = await connectionsReceived();
    await redis.dropClients();

    // publish waits in ioredis' offline queue until the command connection is back (with pw-b);
    // the consumer's blocking reader must be back too for the message to arrive.
    delivered = next();
    await transport.publish([{ type: 'rot.Event', body: 'two', headers: { 'x-message-id': '2' } }]);
    await delivered;
    expect(seen.map((m) => m.body)).toEqual(['one', 'two']);
    const after = await connectionsReceived();
    // Both connections came back (the command one and the consumer's reader).
    expect(after - before).toBeGreaterThanOrEqual(2);
    await expect(transport.ping()).resolves.toBeUndefined();
  });
});
