import 'reflect-metadata';
import { describe, expect, it } from 'vitest';
import { MockEventBus } from '@infrastructure/testing';
import { OrderPaymentRecorded } from '../domain/order.events.js';
import { PlaceOrder } from './place-order.use-case.js';
import { RecordPayment } from './record-payment.use-case.js';
import {
  FakeClock,
  ImmediateTransactions,
  InMemoryOrderViews,
  InMemoryOrders,
} from './testing/in-memory-ports.js';

async function withPlacedOrder() {
  const clock = new FakeClock();
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
  return { views, bus, placed, recordPayment: new RecordPayment(orders, views, bus, clock, tx) };
}

describe('RecordPayment', () => {
  it.each([
    [true, 'paid'],
    [false, 'payment_declined'],
  ] as const)(
    'records approved=%s: the order is %s and the answer is published',
    async (approved, status) => {
      const { views, bus, placed, recordPayment } = await withPlacedOrder();
      await expect(recordPayment.execute(placed.id, approved, 'auth-1')).resolves.toBe(true);
      expect(await views.current(placed.id)).toMatchObject({ status, version: 2 });
      expect(bus.expectPublished(OrderPaymentRecorded)).toMatchObject({
        orderId: placed.id,
        approved,
        authorizationId: 'auth-1',
      });
      expect(views.changes).toEqual([placed.id]);
    },
  );

  it('changes nothing for a redelivered answer (the order is no longer pending)', async () => {
    const { views, bus, placed, recordPayment } = await withPlacedOrder();
    await recordPayment.execute(placed.id, true, 'auth-1');
    await expect(recordPayment.execute(placed.id, false, 'auth-2')).resolves.toBe(false);
    expect(bus.ofType(OrderPaymentRecorded)).toHaveLength(1);
    expect(await views.current(placed.id)).toMatchObject({ status: 'paid', version: 2 });
  });

  it('ignores an answer for an unknown order', async () => {
    const { bus, recordPayment } = await withPlacedOrder();
    await expect(recordPayment.execute('unknown', true, 'auth-1')).resolves.toBe(false);
    expect(bus.published).toEqual([]);
  });
});
