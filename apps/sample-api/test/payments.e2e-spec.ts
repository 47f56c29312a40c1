import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, MessagingTestHarness, type TestApp } from '@infrastructure/testing';
import { AppModule } from '../src/app.module.js';
import { configureApp } from '../src/bootstrap.js';
import { OrderPlaced } from '../src/orders/index.js';
import { FakePaymentProvider } from '../src/payments/fake-payment-provider.js';
import { bearer } from './auth.js';

// The payment authorization that follows every placed order, against a provider this test
// controls (PAYMENTS_URL): approved, declined, and down (the order stays accepted, never a 500).
describe('sample API payments (outbound HTTP client "payments")', () => {
  const provider = new FakePaymentProvider();
  let t: TestApp;
  let harness: MessagingTestHarness;
  let auth: string;

  beforeAll(async () => {
    await provider.start();
    t = await createTestApp(
      {
        imports: [
          AppModule.forRoot({
            env: {
              NODE_ENV: 'test',
              LOG_LEVEL: 'fatal',
              LOG_PRETTY: 'false',
              DATABASE_URL: 'sqlite::memory:',
              PAYMENTS_URL: provider.url,
              PAYMENTS_RETRIES: '0',
            },
            envFiles: false,
          }),
        ],
      },
      { configure: configureApp },
    );
    harness = new MessagingTestHarness(t.app);
    auth = await bearer(t);
  });
  afterAll(async () => {
    harness?.close();
    await t?.close();
    await provider.stop();
  });

  const place = (quantity: number, unitPriceCents: number) =>
    t.request
      .post('/v1/orders')
      .set('authorization', auth)
      .send({ customerId: 'pay-1', sku: 'P-1', quantity, unitPriceCents })
      .expect(201);

  it('reports the client from boot: breaker gauge in /metrics, http:payments in /health', async () => {
    const metrics = (await t.request.get('/metrics').expect(200)).text;
    expect(metrics).toMatch(/circuit_breaker_state\{client="payments"\} 0/);
    const health = await t.request.get('/health').expect(200);
    expect(JSON.stringify(health.body)).toContain('http:payments');
  });

  it('marks an approved order paid and a declined one payment_declined', async () => {
    const small = await place(2, 500);
    const large = await place(1000, 2000); // 2,000,000 cents: the provider declines
    for (const id of [small.body.id, large.body.id]) {
      await harness.consumed(OrderPlaced, {
        group: 'sample-api.payments',
        match: (e) => e.orderId === id,
      });
    }
    const paid = await t.request.get(`/v1/orders/${small.body.id}`).set('authorization', auth);
    expect(paid.body.status).toBe('paid');
    const declined = await t.request.get(`/v1/orders/${large.body.id}`).set('authorization', auth);
    expect(declined.body.status).toBe('payment_declined');
  });

  it('provider down: the order is still accepted (201), stays pending, and payment is retried', async () => {
    provider.failing = true;
    try {
      const placed = await place(1, 100);
      const retried = await harness.consumed(OrderPlaced, {
        group: 'sample-api.payments',
        outcome: 'retry',
        match: (e) => e.orderId === placed.body.id,
      });
      expect(retried?.orderId).toBe(placed.body.id);
      const pending = await t.request
        .get(`/v1/orders/${placed.body.id}`)
        .set('authorization', auth)
        .expect(200);
      expect(pending.body.status).toBe('placed');
      const metrics = (await t.request.get('/metrics').expect(200)).text;
      expect(metrics).toMatch(
        /http_client_requests_total\{client="payments",method="POST",status_code="503",outcome="error"\} [1-9]/,
      );
    } finally {
      provider.failing = false;
    }
  });
});

describe('fake payment provider process (docker compose service "payments")', () => {
  it('listens on PORT, authorizes, and exits 0 on SIGTERM', async () => {
    const child = spawn(
      process.execPath,
      ['dist/apps/sample-api/src/payments/fake-payment-server.js'],
      {
        cwd: fileURLToPath(new URL('../../..', import.meta.url)),
        env: { PATH: process.env.PATH ?? '', PORT: '0', HOST: '127.0.0.1' },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    const [line] = (await once(child.stdout, 'data')) as [Buffer];
    const url = /listening on (http:\/\/\S+)/.exec(line.toString())?.[1];
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const res = await fetch(`${url}/authorizations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ orderId: 'o-1', amountCents: 1200 }),
    });
    expect(res.status).toBe(201);
    expect(((await res.json()) as { status: string }).status).toBe('approved');
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    expect((await exited)[0]).toBe(0);
  });
});
