import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpAdapterHost } from '@nestjs/core';
import { EventBus } from '@infrastructure/messaging';
import { ProblemDetailsFilter } from '@infrastructure/monitoring';
import { createTestApp, MockEventBus, type TestApp } from '@infrastructure/testing';
import { CancelOrder } from '../application/cancel-order.use-case.js';
import { PlaceOrder } from '../application/place-order.use-case.js';
import { Clock } from '../application/ports/clock.js';
import { OrderRepository } from '../application/ports/order.repository.js';
import { OrderViews } from '../application/ports/order-views.js';
import { TransactionRunner } from '../application/ports/transaction-runner.js';
import {
  FakeClock,
  ImmediateTransactions,
  InMemoryOrderViews,
  InMemoryOrders,
} from '../application/testing/in-memory-ports.js';
import { OrdersController } from './orders.controller.js';

/**
 * Domain errors reach HTTP clients as RFC 9457 problems through their traits alone: the domain
 * throws `OrderAlreadyCancelledError` (httpStatus 409) or `InvalidOrderLineError` (422), never a
 * Nest exception, and the monitoring lib's ProblemDetailsFilter answers with that status and the
 * error's public message. No validation pipe here, so the domain's own invariant answers.
 */
describe('domain errors over HTTP', () => {
  let t: TestApp;
  beforeAll(async () => {
    const orders = new InMemoryOrders();
    t = await createTestApp(
      {
        controllers: [OrdersController],
        providers: [
          PlaceOrder,
          CancelOrder,
          { provide: OrderRepository, useValue: orders },
          { provide: OrderViews, useValue: new InMemoryOrderViews(orders) },
          { provide: EventBus, useValue: new MockEventBus() },
          { provide: Clock, useValue: new FakeClock() },
          { provide: TransactionRunner, useValue: new ImmediateTransactions() },
        ],
      },
      {
        configure: (app) =>
          app.useGlobalFilters(new ProblemDetailsFilter(app.get(HttpAdapterHost))),
      },
    );
  });
  afterAll(async () => {
    await t?.close();
  });

  it('answers a second cancel (OrderAlreadyCancelledError) with a 409 problem', async () => {
    const placed = await t.request
      .post('/v1/orders')
      .send({ customerId: 'cust-1', sku: 'SKU-1', quantity: 1, unitPriceCents: 100 })
      .expect(201);
    const id = placed.body.id as string;
    await t.request.post(`/v1/orders/${id}/cancel`).send({ reason: 'once' }).expect(200);
    const again = await t.request.post(`/v1/orders/${id}/cancel`).send({ reason: 'twice' });
    expect(again.status).toBe(409);
    expect(again.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(again.body).toEqual({
      type: 'about:blank',
      title: 'Conflict',
      status: 409,
      detail: `Order ${id} is cancelled already`,
      instance: `/v1/orders/${id}/cancel`,
    });
  });

  it('answers a line the aggregate refuses (InvalidOrderLineError) with a 422 problem', async () => {
    const res = await t.request
      .post('/v1/orders')
      .send({ customerId: 'cust-1', sku: 'SKU-1', quantity: 0, unitPriceCents: 100 });
    expect(res.status).toBe(422);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body).toEqual({
      type: 'about:blank',
      title: 'Unprocessable Entity',
      status: 422,
      detail: 'quantity must be a positive integer, got 0',
      instance: '/v1/orders',
    });
  });

  it('answers an unknown order (OrderNotFoundError) with a 404 problem', async () => {
    const id = '0b8e4f9e-8a3a-4c1e-9b7e-3f0f6f0c2d11';
    const res = await t.request.get(`/v1/orders/${id}`);
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ status: 404, detail: `Order ${id} does not exist` });
  });
});
