import { describe, expect, it } from 'vitest';
import { ShutdownService } from '@infrastructure/monitoring';
import { monitoredApp, releaseSlow, slowStarted } from './helpers.js';

async function status(url: string): Promise<number | 'refused'> {
  try {
    const res = await fetch(url, { headers: { connection: 'close' } });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 'refused';
  }
}

describe.each(['express', 'fastify'] as const)(
  'graceful shutdown on %s (real HTTP server)',
  (adapter) => {
    it('flips readiness, refuses new work, lets the in-flight request finish, runs drain hooks in reverse, exits 0', async () => {
      const { t } = await monitoredApp(adapter, {
        shutdown: { readinessDelayMs: 200, timeoutMs: 10_000 },
      });
      const shutdown = t.app.get(ShutdownService);
      try {
        await t.app.listen(0, '127.0.0.1');
        const base = `http://127.0.0.1:${(t.app.getHttpServer().address() as { port: number }).port}`;
        expect(await status(`${base}/health/ready`)).toBe(200);

        const started = slowStarted();
        const slow = fetch(`${base}/t/slow`).then(async (r) => ({
          status: r.status,
          body: await r.json(),
        }));
        await started;
        const order: string[] = [];
        shutdown.registerDrainHook('first-registered', () => void order.push('first-registered'));
        shutdown.registerDrainHook('second-registered', async () => {
          order.push('second-registered');
        });

        const done = shutdown.shutdown('SIGTERM');
        expect(await status(`${base}/health/ready`)).toBe(503); // readiness flips at once
        await shutdown.whenPhase('draining');
        expect(['refused', 503]).toContain(await status(`${base}/t/items/1`)); // no new work
        expect(order).toEqual([]); // hooks wait for the in-flight request

        releaseSlow();
        expect(await slow).toEqual({ status: 200, body: { slow: true } });
        await done;
        expect(order).toEqual(['second-registered', 'first-registered']);
        expect(shutdown.exitCode).toBe(0);
        expect(shutdown.phase).toBe('stopped');
      } finally {
        releaseSlow();
        if (shutdown.phase === 'running') await t.close();
      }
    });

    it('gives up after timeoutMs, naming what was still open, with exit code 1', async () => {
      const { t, logs } = await monitoredApp(adapter, {
        shutdown: { readinessDelayMs: 0, timeoutMs: 300 },
      });
      const shutdown = t.app.get(ShutdownService);
      try {
        await t.app.listen(0, '127.0.0.1');
        shutdown.registerDrainHook('stuck-consumer', () => new Promise(() => undefined));
        void shutdown.shutdown('SIGTERM');
        await shutdown.whenPhase('draining');
        const started = Date.now();
        expect(await shutdown.exited).toBe(1);
        expect(Date.now() - started).toBeLessThan(2000);
        const line = logs.records.find((r) => r.msg?.startsWith('Shutdown timed out'));
        expect(line?.stillOpen).toBe('drain hook "stuck-consumer"');
      } finally {
        await t.close().catch(() => undefined);
      }
    });
  },
);
