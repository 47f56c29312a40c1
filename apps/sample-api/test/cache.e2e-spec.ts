import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTestApp, TcpProxy, type TestApp } from '@infrastructure/testing';
import { AppModule } from '../src/app.module.js';
import { configureApp } from '../src/bootstrap.js';
import { bearer, paymentWatcher } from './auth.js';

// GET /v1/orders/:id is cached (L1 + Redis). The Redis in front of it is reached through a proxy
// this file can stall or cut, so the drill disturbs nobody else's Redis.

async function sampleApi(redisUrl: string): Promise<TestApp> {
  return createTestApp(
    {
      imports: [
        AppModule.forRoot({
          env: {
            NODE_ENV: 'test',
            LOG_LEVEL: 'warn',
            LOG_PRETTY: 'false',
            DATABASE_URL: 'sqlite::memory:',
            REDIS_URL: redisUrl,
            CACHE_KEY_PREFIX: `sample-e2e-${randomUUID().slice(0, 8)}:`,
            CACHE_OP_TIMEOUT_MS: '50',
          },
          envFiles: false,
        }),
      ],
    },
    { configure: configureApp },
  );
}

const hits = (metrics: string) =>
  Number(/cache_requests_total\{cache="sample-api",result="hit"\} (\d+)/.exec(metrics)?.[1] ?? 0);

describe('sample API order cache on Redis, and the Redis-down drill', () => {
  const proxy = new TcpProxy(6379);
  let t: TestApp;
  let auth: string;
  let orderId: string;

  beforeAll(async () => {
    await proxy.listen();
    t = await sampleApi(proxy.url('redis'));
    const payments = paymentWatcher(t);
    auth = await bearer(t);
    const placed = await t.request
      .post('/v1/orders')
      .set('authorization', auth)
      .send({ customerId: 'cache-1', sku: 'C-1', quantity: 1, unitPriceCents: 990 })
      .expect(201);
    orderId = placed.body.id;
    await payments.recorded(orderId);
    payments.close();
  });
  afterAll(async () => {
    await t?.close();
    await proxy.stop();
  });

  it('serves a repeated GET from the cache and evicts it when the order is cancelled', async () => {
    await t.request.get(`/v1/orders/${orderId}`).set('authorization', auth).expect(200);
    const before = hits((await t.request.get('/metrics')).text);
    const again = await t.request
      .get(`/v1/orders/${orderId}`)
      .set('authorization', auth)
      .expect(200);
    expect(again.body.status).toBe('paid');
    expect(hits((await t.request.get('/metrics')).text)).toBeGreaterThan(before);
    await t.request
      .post(`/v1/orders/${orderId}/cancel`)
      .set('authorization', auth)
      .send({ reason: 'cache test' })
      .expect(200);
    const fresh = await t.request
      .get(`/v1/orders/${orderId}`)
      .set('authorization', auth)
      .expect(200);
    expect(fresh.body).toMatchObject({ status: 'cancelled', version: 3 });
  });

  it('Redis stalled: GETs still answer 200 from the database, readiness says redis degraded', async () => {
    proxy.stall();
    for (let i = 0; i < 10; i++) {
      const started = performance.now();
      const res = await t.request.get(`/v1/orders/${orderId}`).set('authorization', auth);
      expect(res.status).toBe(200);
      expect(res.body.id).toBe(orderId);
      expect(performance.now() - started).toBeLessThan(2000); // never a hang
    }
    const ready = await t.request.get('/health/ready').expect(200);
    expect(ready.body.details.redis.status).toBe('degraded');
  });

  it('Redis cut: still 200; Redis back: healthy again without a restart', async () => {
    await proxy.cut();
    await t.request.get(`/v1/orders/${orderId}`).set('authorization', auth).expect(200);
    await t.request
      .get('/v1/orders/0b8e4f9e-8a3a-4c1e-9b7e-3f0f6f0c2d11')
      .set('authorization', auth)
      .expect(404);
    await proxy.restore();
    await vi.waitFor(
      async () => {
        const ready = await t.request.get('/health/ready').expect(200);
        expect(ready.body.details.redis).toMatchObject({ status: 'up' });
      },
      { timeout: 15_000, interval: 100 },
    );
    await t.request.get(`/v1/orders/${orderId}`).set('authorization', auth).expect(200);
  });
});
