import 'reflect-metadata';
import { describe, expect, it } from 'vitest';
import { MockEventBus } from '@infrastructure/testing';
import { OrderAlreadyCancelledError, OrderNotFoundError } from '../domain/order.errors.js';
import { OrderCancelled } from '../domain/order.events.js';
import { CancelOrder } from './cancel-order.use-case.js';
import { PlaceOrder } from './place-order.use-case.js';
import {
  FakeClock,
  ImmediateTransactions,
  InMemoryOrderViews,
  InMemoryOrders,
} from './testing/in-memory-ports.js';

async function withPlacedOrder() {
  const clock = new FakeClock(new Date('2026-05-01T08:00:00.000Z'));
  const orders = new InMemoryOrders(clock);
  const views = new InMemoryOrderViews(orders);
  const bus = new MockEventBus();
  const tx = new ImmediateTransactions();
  const placed = await new PlaceOrder(orders, views, bus, clock, tx).execute({
    customerId: 'cust-1',
    sku: 'SKU-1',
    quantity: 1,
    unitPriceCents: 500,
  });
  bus.reset();
  clock.advance(60_000);
  return {
    orders,
    views,
    bus,
    placed,
    cancelOrder: new CancelOrder(orders, views, bus, clock, tx),
  };
}

describe('CancelOrder', () => {
  it('cancels, publishes OrderCancelled with the total, then forgets the cached view', async () => {
    const { views, bus, placed, cancelOrder } = await withPlacedOrder();
    const view = await cancelOrder.execute(placed.id, 'out of stock');
    expect(view).toMatchObject({ id: placed.id, status: 'cancelled', version: 2 });
    const event = bus.expectPublished(OrderCancelled);
    expect(event).toMatchObject({
      orderId: placed.id,
      customerId: 'cust-1',
      totalCents: 500,
      reason: 'out of stock',
      occurredAt: new Date('2026-05-01T08:01:00.000Z'),
    });
    expect(views.changes).toEqual([placed.id]);
  });

  it('answers an unknown order with OrderNotFoundError (404)', async () => {
    const { bus, cancelOrder } = await withPlacedOrder();
    const error = await cancelOrder.execute('nope', 'why').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OrderNotFoundError);
    expect(error).toMatchObject({ httpStatus: 404, publicMessage: 'Order nope does not exist' });
    expect(bus.published).toEqual([]);
  });

  it('refuses a second cancel (409) and publishes nothing more', async () => {
    const { orders, bus, placed, cancelOrder } = await withPlacedOrder();
    await cancelOrder.execute(placed.id, 'once');
    await expect(cancelOrder.execute(placed.id, 'twice')).rejects.toBeInstanceOf(
      OrderAlreadyCancelledError,
    );
    expect(bus.ofType(OrderCancelled)).toHaveLength(1);
    expect(orders.streams.get(placed.id)).toHaveLength(2);
  });
});
