import type { Redis } from 'ioredis';
import type { TestingModule } from '@nestjs/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { MonitoringModule } from '@infrastructure/monitoring';
import { SecurityModule } from '@infrastructure/security';
import {
  bootTestingModule,
  LogCapture,
  TcpProxy,
  testMonitoringOptions,
} from '@infrastructure/testing';

/** Resolves after the client's next `count` 'error' events. */
const errors = (client: Redis, count: number) =>
  new Promise<void>((resolve) => {
    let seen = 0;
    const listener = () => {
      if (++seen < count) return;
      client.off('error', listener);
      resolve();
    };
    client.on('error', listener);
  });

describe("SecurityModule's shared Redis client when Redis goes away", () => {
  const proxy = new TcpProxy(6379);
  const logs = new LogCapture();
  let ref: TestingModule;
  let client: Redis;

  beforeAll(async () => {
    await proxy.listen();
    ref = await bootTestingModule({
      imports: [
        MonitoringModule.forRoot(
          testMonitoringOptions({ logging: { level: 'info', destination: logs } }),
        ),
        SecurityModule.forRoot({ redis: { url: proxy.url('redis') } }),
      ],
    });
    // The module's internal token: the client the rate limits and the revocation list share.
    client = ref.get<Redis>('SECURITY:REDIS');
    if (client.status !== 'ready') await new Promise((r) => client.once('ready', r));
  });
  afterAll(async () => {
    await ref?.close();
    await proxy.stop();
  });

  it('logs one warn line per outage and an info line on recovery, never an unhandled error', async () => {
    const stderr = vi.spyOn(console, 'error');
    try {
      // The module's own listener, not just ours below: without one ioredis prints
      // "[ioredis] Unhandled error event" to stderr for every failed reconnect.
      expect(client.listenerCount('error')).toBeGreaterThan(0);
      logs.clear();
      const warned = logs.next(
        (r) => r.msg === 'SecurityModule: Redis connection error; reconnecting',
      );
      const failedAgain = errors(client, 3);
      await proxy.cut();
      const warning = await warned;
      expect(warning).toMatchObject({ level: 'warn' });
      await failedAgain; // several reconnects refused...
      const restored = logs.next((r) => r.msg === 'SecurityModule: Redis connection restored');
      await proxy.restore();
      await restored;
      // ...but one line for the outage.
      expect(
        logs.records.filter(
          (r) => r.msg === 'SecurityModule: Redis connection error; reconnecting',
        ),
      ).toHaveLength(1);
      expect(stderr.mock.calls.flat().join(' ')).not.toContain('Unhandled error event');
    } finally {
      stderr.mockRestore();
    }
  });
});
