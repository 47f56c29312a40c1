import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventBus } from '@infrastructure/messaging';
import { ProjectionRunner } from '@infrastructure/event-sourcing';
import { createTestApp, MockEventBus, TestDatabase, type TestApp } from '@infrastructure/testing';
import { OrderPlaced } from '../src/orders/index.js';
import { AppModule } from '../src/app.module.js';
import { configureApp } from '../src/bootstrap.js';
import { bearer, paymentWatcher } from './auth.js';

const quiet = { NODE_ENV: 'test', LOG_LEVEL: 'warn', LOG_PRETTY: 'false' };

async function ordersApi(
  adapter: 'express' | 'fastify',
  databaseUrl: string,
  env: Record<string, string> = {},
): Promise<TestApp> {
  return createTestApp(
    {
      imports: [
        AppModule.forRoot({
          env: { ...quiet, DATABASE_URL: databaseUrl, ...env },
          envFiles: false,
        }),
      ],
    },
    { adapter, configure: configureApp },
  );
}

function exercise(label: string, open: () => Promise<TestApp>) {
  describe(`${label}`, () => {
    let t: TestApp;
    let auth: string;
    let payments: ReturnType<typeof paymentWatcher>;
    beforeAll(async () => {
      t = await open();
      payments = paymentWatcher(t);
      auth = await bearer(t);
    });
    afterAll(async () => {
      payments?.close();
      await t?.close();
    });

    it('places an order (201) and reads it back', async () => {
      const placed = await t.request
        .post('/v1/orders')
        .set('authorization', auth)
        .send({ customerId: 'cust-1', sku: 'SKU-1', quantity: 3, unitPriceCents: 250 })
        .expect(201);
      expect(placed.body).toMatchObject({
        customerId: 'cust-1',
        quantity: 3,
        totalCents: 750,
        status: 'placed',
        version: 1,
      });
      expect(placed.body.id).toMatch(/^[0-9a-f-]{36}$/);
      const read = await t.request
        .get(`/v1/orders/${placed.body.id}`)
        .set('authorization', auth)
        .expect(200);
      // Placed at once; the payment handler then marks it paid (asynchronously).
      expect(read.body).toMatchObject({
        id: placed.body.id,
        customerId: 'cust-1',
        totalCents: 750,
      });
      await payments.recorded(placed.body.id);
      const paid = await t.request
        .get(`/v1/orders/${placed.body.id}`)
        .set('authorization', auth)
        .expect(200);
      expect(paid.body).toMatchObject({ status: 'paid', version: 2 });
      const listed = await t.request
        .get('/v1/orders')
        .set('authorization', auth)
        .query({ limit: 100 })
        .expect(200);
      expect(listed.body.items).toContainEqual(paid.body); // same values through the query-builder path
    });

    it('answers a bad order with 400 and one error per field', async () => {
      const res = await t.request
        .post('/v1/orders')
        .set('authorization', auth)
        .send({ customerId: 'bad id!', sku: 'S', quantity: 0 })
        .expect(400);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      const pointers = (res.body.errors as Array<{ pointer: string }>).map((e) => e.pointer);
      expect(pointers).toEqual(
        expect.arrayContaining(['/customerId', '/quantity', '/unitPriceCents']),
      );
      // A NUL in free text: PostgreSQL refuses it in a text column; the API answers 400 first.
      const nul = await t.request
        .post('/v1/orders')
        .set('authorization', auth)
        .send({ customerId: 'cust-1', sku: 'SKU\u00001', quantity: 1, unitPriceCents: 1 })
        .expect(400);
      expect(nul.body.errors).toEqual([
        { pointer: '/sku', detail: 'must not contain NUL characters' },
      ]);
    });

    it('answers an unknown order with 404 and a malformed id with 400, as problems', async () => {
      const missing = await t.request
        .get('/v1/orders/0b8e4f9e-8a3a-4c1e-9b7e-3f0f6f0c2d11')
        .set('authorization', auth)
        .expect(404);
      expect(missing.body).toMatchObject({
        status: 404,
        detail: 'Order 0b8e4f9e-8a3a-4c1e-9b7e-3f0f6f0c2d11 does not exist',
      });
      await t.request.get('/v1/orders/not-a-uuid').set('authorization', auth).expect(400);
      await t.request.get('/v1/orders?cursor=%%%garbage').set('authorization', auth).expect(400);
      // Well-formed base64url of JSON the API never issued: still 400 problem+json, not a 500.
      for (const forged of ['{"a":1}', '[1]', 'null', 'true', '1e400']) {
        const cursor = Buffer.from(forged).toString('base64url');
        const res = await t.request.get('/v1/orders').query({ cursor }).set('authorization', auth);
        expect({ forged, status: res.status }).toEqual({ forged, status: 400 });
        expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      }
    });

    it('projects placed and cancelled orders into the customer summary (event store projection)', async () => {
      const customerId = `summary-${Math.random().toString(36).slice(2, 10)}`;
      await t.request
        .get(`/v1/customers/${customerId}/order-summary`)
        .set('authorization', auth)
        .expect(404);
      const ids: string[] = [];
      for (const quantity of [1, 2, 3]) {
        const res = await t.request
          .post('/v1/orders')
          .set('authorization', auth)
          .send({ customerId, sku: 'SUM-1', quantity, unitPriceCents: 100 })
          .expect(201);
        ids.push(res.body.id);
      }
      await payments.recorded(ids[2]!);
      await t.request
        .post(`/v1/orders/${ids[2]}/cancel`)
        .set('authorization', auth)
        .send({ reason: 'test' })
        .expect(200);
      await t.app.get(ProjectionRunner).caughtUp('order-summaries');
      const summary = await t.request
        .get(`/v1/customers/${customerId}/order-summary`)
        .set('authorization', auth)
        .expect(200);
      expect(summary.body).toMatchObject({ customerId, ordersCount: 2, totalCents: 300 });
      expect(ids).toContain(summary.body.lastOrderId);
    });

    it('answers a customer id the API never accepts with 400, not the summary of a prefix of it', async () => {
      for (const bad of ['c'.repeat(65), 'bad%20id']) {
        const res = await t.request
          .get(`/v1/customers/${bad}/order-summary`)
          .set('authorization', auth);
        expect({ bad, status: res.status }).toEqual({ bad, status: 400 });
        expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      }
    });

    it('stores totals beyond 32 bits in orders and in the summary (money is BIGINT)', async () => {
      const customerId = `big-${Math.random().toString(36).slice(2, 10)}`;
      const order = { customerId, sku: 'BIG-1', quantity: 1000, unitPriceCents: 10_000_000 };
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) {
        const res = await t.request
          .post('/v1/orders')
          .set('authorization', auth)
          .send(order)
          .expect(201);
        expect(res.body.totalCents).toBe(10_000_000_000);
        ids.push(res.body.id);
      }
      const read = await t.request.get(`/v1/orders/${ids[0]}`).set('authorization', auth);
      expect({ status: read.status, total: read.body.totalCents }).toEqual({
        status: 200,
        total: 10_000_000_000,
      });
      await t.app.get(ProjectionRunner).caughtUp('order-summaries');
      const summary = await t.request
        .get(`/v1/customers/${customerId}/order-summary`)
        .set('authorization', auth)
        .expect(200);
      expect(summary.body).toMatchObject({ ordersCount: 3, totalCents: 30_000_000_000 });
    });

    it('keeps each order as an event stream: GET /v1/orders/:id/events, cancel once (409 after)', async () => {
      const placed = await t.request
        .post('/v1/orders')
        .set('authorization', auth)
        .send({ customerId: 'streamer', sku: 'ES-1', quantity: 2, unitPriceCents: 150 })
        .expect(201);
      const id = placed.body.id as string;
      await payments.recorded(id);
      const cancelled = await t.request
        .post(`/v1/orders/${id}/cancel`)
        .set('authorization', auth)
        .send({ reason: 'out of stock' })
        .expect(200);
      expect(cancelled.body).toMatchObject({ id, status: 'cancelled', version: 3 });
      const again = await t.request
        .post(`/v1/orders/${id}/cancel`)
        .set('authorization', auth)
        .send({ reason: 'twice' })
        .expect(409);
      expect(again.headers['content-type']).toMatch(/problem\+json/);
      await t.request
        .post(`/v1/orders/${id}/cancel`)
        .set('authorization', auth)
        .send({})
        .expect(400);
      const events = await t.request
        .get(`/v1/orders/${id}/events`)
        .set('authorization', auth)
        .expect(200);
      expect(
        events.body.map((e: { type: string; version: number }) => [e.version, e.type]),
      ).toEqual([
        [1, 'orders.OrderPlaced'],
        [2, 'orders.OrderPaymentRecorded'],
        [3, 'orders.OrderCancelled'],
      ]);
      expect(events.body[0].payload).toMatchObject({
        orderId: id,
        customerId: 'streamer',
        sku: 'ES-1',
        quantity: 2,
        unitPriceCents: 150,
        totalCents: 300,
      });
      expect(events.body[1].payload).toMatchObject({ orderId: id, approved: true });
      expect(events.body[2].payload).toMatchObject({ reason: 'out of stock', totalCents: 300 });
      await t.request
        .get('/v1/orders/0b8e4f9e-8a3a-4c1e-9b7e-3f0f6f0c2d11/events')
        .set('authorization', auth)
        .expect(404);
    });

    it('lists orders page by page with a cursor', async () => {
      for (let i = 0; i < 5; i++) {
        await t.request
          .post('/v1/orders')
          .set('authorization', auth)
          .send({ customerId: 'pager', sku: `P-${i}`, quantity: 1, unitPriceCents: i })
          .expect(201);
      }
      const ids: string[] = [];
      let cursor: string | undefined;
      do {
        const res = await t.request
          .get('/v1/orders')
          .set('authorization', auth)
          .query({ limit: 2, ...(cursor ? { cursor } : {}) })
          .expect(200);
        expect(res.body.items.length).toBeLessThanOrEqual(2);
        ids.push(...res.body.items.map((o: { id: string }) => o.id));
        cursor = res.body.nextCursor;
      } while (cursor);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids.length).toBeGreaterThanOrEqual(5);
    });
  });
}

exercise('orders API on express + SQLite (migrations at boot)', () =>
  ordersApi('express', 'sqlite::memory:'),
);
exercise('orders API on fastify + SQLite', () => ordersApi('fastify', 'sqlite::memory:'));

/** The suite on a throwaway PostgreSQL schema or MariaDB database (the app's own migrations). */
function exerciseOn(
  label: string,
  env: Record<string, string> = {},
  url = 'postgres://postgres@127.0.0.1:5432/test',
) {
  describe(`${label}`, () => {
    let db: TestDatabase;
    beforeAll(async () => {
      db = await TestDatabase.create({
        url,
        migrations: [],
        synchronize: false,
      });
    });
    afterAll(() => db?.destroy());
    exercise('(the same suite, the same migrations)', () => ordersApi('express', db.url, env));
  });
}

exerciseOn('orders API on PostgreSQL');
exerciseOn('orders API on MariaDB', {}, 'mysql://root@127.0.0.1:3306/test');
exerciseOn('orders API on PostgreSQL + RabbitMQ (events through the outbox and the broker)', {
  MESSAGING_TRANSPORT: 'rabbitmq',
  MESSAGING_URL: 'amqp://guest:guest@127.0.0.1:5672',
  MESSAGING_NAMESPACE: `sample-e2e-${Math.random().toString(36).slice(2, 10)}`,
});

describe('messaging configuration', () => {
  it('fails the boot naming MESSAGING_URL when a broker transport has none', async () => {
    await expect(
      ordersApi('express', 'sqlite::memory:', { MESSAGING_TRANSPORT: 'nats' }),
    ).rejects.toThrow(/MESSAGING_URL is required when MESSAGING_TRANSPORT=nats/);
  });
});

/** The sample API with a MockEventBus in place of the real bus. */
async function appWithMockBus(): Promise<{ t: TestApp; bus: MockEventBus }> {
  const bus = new MockEventBus();
  const t = await createTestApp(
    {
      imports: [
        AppModule.forRoot({ env: { ...quiet, DATABASE_URL: 'sqlite::memory:' }, envFiles: false }),
      ],
    },
    { configure: configureApp, overrides: [{ provide: EventBus, useValue: bus }] },
  );
  return { t, bus };
}

describe('orders API publishes OrderPlaced through the EventBus port', () => {
  it('is visible to a MockEventBus swapped in for the real bus', async () => {
    const { t, bus } = await appWithMockBus();
    await using _ = t;
    const auth = await bearer(t);
    const placed = await t.request
      .post('/v1/orders')
      .set('authorization', auth)
      .send({ customerId: 'cust-9', sku: 'SKU-9', quantity: 2, unitPriceCents: 100 })
      .expect(201);
    const event = bus.expectPublished(OrderPlaced, (e) => e.orderId === placed.body.id);
    expect(event).toMatchObject({ customerId: 'cust-9', totalCents: 200, aggregateType: 'Order' });
  });

  it('is not published when the order is refused', async () => {
    const { t, bus } = await appWithMockBus();
    await using _ = t;
    const auth = await bearer(t);
    await t.request
      .post('/v1/orders')
      .set('authorization', auth)
      .send({ customerId: 'x', sku: 'S', quantity: 0, unitPriceCents: 1 })
      .expect(400);
    expect(bus.published).toEqual([]);
  });
});
