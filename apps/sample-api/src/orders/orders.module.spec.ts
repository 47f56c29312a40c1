import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import supertest from 'supertest';
import { EventBus } from '@infrastructure/messaging';
import { JwtManager } from '@infrastructure/security';
import { MockEventBus } from '@infrastructure/testing';
import { AppModule } from '../app.module.js';
import { configureApp } from '../bootstrap.js';
import { Clock } from './application/ports/clock.js';
import { FakeClock } from './application/testing/in-memory-ports.js';
import { OrderCancelled, OrderPlaced } from './domain/order.events.js';

/**
 * Testing your app (the README's example): the whole sample app, with the two ports a test wants
 * to control replaced — the `EventBus` by the testing lib's `MockEventBus` (it records what is
 * published, validates it like the real bus and delivers it to nobody: no payment runs) and the
 * `Clock` by a fake one. Everything else is real: HTTP, validation, auth, the use cases, the
 * event store and the `orders` table (SQLite in memory).
 */
describe('testing your app: OrdersModule with a MockEventBus and a fake clock', () => {
  const bus = new MockEventBus();
  const clock = new FakeClock(new Date('2030-01-01T09:00:00.000Z'));
  let app: INestApplication;
  let auth: string;

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        AppModule.forRoot({
          env: { NODE_ENV: 'test', LOG_LEVEL: 'warn', DATABASE_URL: 'sqlite::memory:' },
          envFiles: false,
        }),
      ],
    })
      .overrideProvider(EventBus)
      .useValue(bus)
      .overrideProvider(Clock)
      .useValue(clock)
      .compile();
    app = await configureApp(moduleRef.createNestApplication());
    await app.init();
    const token = await app.get(JwtManager).createToken({
      sub: 'test-user',
      scopes: ['orders:read', 'orders:write'],
    });
    auth = `Bearer ${token}`;
  });
  afterAll(async () => {
    await app?.close();
  });

  it('publishes OrderPlaced stamped by the clock, then OrderCancelled a minute later', async () => {
    const http = supertest(app.getHttpServer());
    const placed = await http
      .post('/v1/orders')
      .set('authorization', auth)
      .send({ customerId: 'cust-1', sku: 'SKU-1', quantity: 2, unitPriceCents: 500 })
      .expect(201);
    expect(placed.body).toMatchObject({ status: 'placed', totalCents: 1000, version: 1 });
    const event = bus.expectPublished(OrderPlaced, (e) => e.orderId === placed.body.id);
    expect(event.occurredAt).toEqual(new Date('2030-01-01T09:00:00.000Z'));

    clock.advance(60_000);
    await http
      .post(`/v1/orders/${placed.body.id}/cancel`)
      .set('authorization', auth)
      .send({ reason: 'changed my mind' })
      .expect(200);
    const cancelled = bus.expectPublished(OrderCancelled, (e) => e.orderId === placed.body.id);
    expect(cancelled).toMatchObject({ totalCents: 1000, reason: 'changed my mind' });
    expect(cancelled.occurredAt).toEqual(new Date('2030-01-01T09:01:00.000Z'));

    // The mock delivers to no handler: the payment never ran, and the order says so.
    const read = await http.get(`/v1/orders/${placed.body.id}`).set('authorization', auth);
    expect(read.body).toMatchObject({ status: 'cancelled', version: 2 });
  });
});
