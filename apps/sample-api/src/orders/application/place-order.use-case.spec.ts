import 'reflect-metadata';
import { describe, expect, it } from 'vitest';
import { MockEventBus } from '@infrastructure/testing';
import { InvalidOrderLineError } from '../domain/order.errors.js';
import { OrderPlaced } from '../domain/order.events.js';
import { PlaceOrder } from './place-order.use-case.js';
import {
  FakeClock,
  ImmediateTransactions,
  InMemoryOrderViews,
  InMemoryOrders,
} from './testing/in-memory-ports.js';

function setUp() {
  const clock = new FakeClock(new Date('2026-05-01T08:00:00.000Z'));
  const orders = new InMemoryOrders(clock);
  const views = new InMemoryOrderViews(orders);
  const bus = new MockEventBus();
  const tx = new ImmediateTransactions();
  return {
    clock,
    orders,
    views,
    bus,
    tx,
    placeOrder: new PlaceOrder(orders, views, bus, clock, tx),
  };
}

const line = { customerId: 'cust-7', sku: 'SKU-9', quantity: 2, unitPriceCents: 1999 };

describe('PlaceOrder', () => {
  it('stores the order, publishes OrderPlaced stamped by the clock and returns the view', async () => {
    const { orders, bus, tx, placeOrder } = setUp();
    const view = await placeOrder.execute(line);
    expect(view).toMatchObject({
      ...line,
      totalCents: 3998,
      status: 'placed',
      version: 1,
      createdAt: '2026-05-01T08:00:00.000Z',
    });
    expect(orders.streams.get(view.id)).toHaveLength(1);
    const event = bus.expectPublished(OrderPlaced, (e) => e.orderId === view.id);
    expect(event).toMatchObject({
      totalCents: 3998,
      occurredAt: new Date('2026-05-01T08:00:00.000Z'),
    });
    expect(tx.runs).toBe(1);
  });

  it('gives each order its own id', async () => {
    const { placeOrder } = setUp();
    const a = await placeOrder.execute(line);
    const b = await placeOrder.execute(line);
    expect(a.id).not.toBe(b.id);
  });

  it('stores and publishes nothing for a line the domain refuses (422)', async () => {
    const { orders, bus, placeOrder } = setUp();
    await expect(placeOrder.execute({ ...line, quantity: 0 })).rejects.toBeInstanceOf(
      InvalidOrderLineError,
    );
    expect(orders.streams.size).toBe(0);
    expect(bus.published).toEqual([]);
  });
});
