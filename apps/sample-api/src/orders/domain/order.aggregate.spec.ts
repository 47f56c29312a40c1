import 'reflect-metadata';
import { describe, expect, it } from 'vitest';
import type { RecordedEvent } from '@infrastructure/event-sourcing';
import { Order, type OrderLine } from './order.aggregate.js';
import {
  InvalidOrderLineError,
  OrderAlreadyCancelledError,
  OrderAlreadyPlacedError,
} from './order.errors.js';
import { OrderCancelled, OrderPaymentRecorded, OrderPlaced } from './order.events.js';

const line: OrderLine = { customerId: 'cust-1', sku: 'SKU-1', quantity: 3, unitPriceCents: 250 };
const at = new Date('2026-03-01T10:00:00.000Z');

function placed(): Order {
  const order = new Order('o-1');
  order.place(line, at);
  return order;
}

/** Throws what `fn` throws (the errors' fields are asserted, not only their class). */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected it to throw');
}

describe('Order', () => {
  it('places an order: one OrderPlaced with the total, stamped with the given time', () => {
    const order = placed();
    const [event] = order.uncommittedEvents as OrderPlaced[];
    expect(event).toBeInstanceOf(OrderPlaced);
    expect(event).toMatchObject({
      orderId: 'o-1',
      customerId: 'cust-1',
      sku: 'SKU-1',
      quantity: 3,
      unitPriceCents: 250,
      totalCents: 750,
      occurredAt: at,
      aggregateId: 'o-1',
    });
    expect(order.snapshot).toMatchObject({ status: 'placed', totalCents: 750 });
    expect(order.version).toBe(1);
  });

  it('refuses to place an order twice (409 OrderAlreadyPlacedError)', () => {
    const order = placed();
    const error = thrown(() => order.place(line, at));
    expect(error).toBeInstanceOf(OrderAlreadyPlacedError);
    expect(error).toMatchObject({ httpStatus: 409, publicMessage: 'Order o-1 exists already' });
    expect(order.version).toBe(1);
  });

  it.each([
    [{ quantity: 0 }, 'quantity must be a positive integer, got 0'],
    [{ quantity: 1.5 }, 'quantity must be a positive integer, got 1.5'],
    [{ unitPriceCents: -1 }, 'unitPriceCents must be a non-negative integer, got -1'],
    [
      { quantity: 2 ** 30, unitPriceCents: 2 ** 30 },
      'the total of 1073741824 × 1073741824 is too large',
    ],
  ])('refuses the line %o (422 InvalidOrderLineError) and applies nothing', (change, message) => {
    const order = new Order('o-2');
    const error = thrown(() => order.place({ ...line, ...change }, at));
    expect(error).toBeInstanceOf(InvalidOrderLineError);
    expect(error).toMatchObject({ httpStatus: 422, publicMessage: message });
    expect(order.uncommittedEvents).toEqual([]);
  });

  it('cancels with the total leaving the summary, once (409 OrderAlreadyCancelledError after)', () => {
    const order = placed();
    order.cancel('changed my mind', at);
    expect(order.uncommittedEvents[1]).toBeInstanceOf(OrderCancelled);
    expect(order.uncommittedEvents[1]).toMatchObject({
      customerId: 'cust-1',
      totalCents: 750,
      reason: 'changed my mind',
    });
    expect(order.snapshot.status).toBe('cancelled');
    const error = thrown(() => order.cancel('twice', at));
    expect(error).toBeInstanceOf(OrderAlreadyCancelledError);
    expect(error).toMatchObject({ httpStatus: 409 });
    expect(order.version).toBe(2);
  });

  it.each([
    [true, 'paid'],
    [false, 'payment_declined'],
  ] as const)('records a payment answer approved=%s as %s', (approved, status) => {
    const order = placed();
    expect(order.recordPayment(approved, 'auth-1', at)).toBe(true);
    expect(order.uncommittedEvents[1]).toBeInstanceOf(OrderPaymentRecorded);
    expect(order.snapshot.status).toBe(status);
  });

  it('ignores a payment answer once the order is no longer pending (a redelivery)', () => {
    const order = placed();
    order.recordPayment(true, 'auth-1', at);
    expect(order.recordPayment(false, 'auth-2', at)).toBe(false);
    expect(order.version).toBe(2);
    expect(order.snapshot.status).toBe('paid');
  });

  it('rebuilds the same state from its history, and from a snapshot', () => {
    const original = placed();
    original.recordPayment(false, 'auth-1', at);
    const history = original.uncommittedEvents.map(
      (event, i) => ({ event, version: i + 1 }) as unknown as RecordedEvent,
    );
    const replayed = new Order('o-1');
    replayed.replay(history);
    expect(replayed.snapshot).toEqual(original.snapshot);
    expect(replayed.version).toBe(2);
    expect(replayed.uncommittedEvents).toEqual([]);
    const restored = new Order('o-1');
    restored.restoreSnapshot(structuredClone(original.toSnapshot()));
    expect(restored.snapshot).toEqual(original.snapshot);
  });
});
