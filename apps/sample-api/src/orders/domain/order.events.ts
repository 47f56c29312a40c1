import { DomainEvent, DomainEventType, type DomainEventInit } from '@infrastructure/messaging';
import { z } from 'zod';

/**
 * An order was placed. Schema 2 added the line (sku, quantity, unit price) so the event alone
 * rebuilds the order; version-1 events (total only) are upcast on read. The payload schema is
 * checked on publish (`EventValidationError`) and on every delivery after upcasting (an invalid
 * payload is dead-lettered as `invalid-payload`).
 */
@DomainEventType('orders.OrderPlaced', {
  schemaVersion: 2,
  upcasters: {
    1: (p) => ({ sku: 'unknown', quantity: 1, unitPriceCents: p.totalCents, ...p }),
  },
  schema: z.object({
    orderId: z.string().min(1),
    customerId: z.string().min(1),
    totalCents: z.number().int().nonnegative(),
    sku: z.string().min(1),
    quantity: z.number().int().positive(),
    unitPriceCents: z.number().int().nonnegative(),
  }),
})
export class OrderPlaced extends DomainEvent {
  constructor(
    readonly orderId: string,
    readonly customerId: string,
    readonly totalCents: number,
    readonly sku: string,
    readonly quantity: number,
    readonly unitPriceCents: number,
    init?: DomainEventInit,
  ) {
    super({ aggregateId: orderId, aggregateType: 'Order', ...init });
  }
}

/** An order was cancelled (its total leaves the customer's summary). */
@DomainEventType('orders.OrderCancelled')
export class OrderCancelled extends DomainEvent {
  constructor(
    readonly orderId: string,
    readonly customerId: string,
    readonly totalCents: number,
    readonly reason: string,
    init?: DomainEventInit,
  ) {
    super({ aggregateId: orderId, aggregateType: 'Order', ...init });
  }
}

/** The payment provider answered for an order: `approved` (paid) or `declined`. */
@DomainEventType('orders.OrderPaymentRecorded')
export class OrderPaymentRecorded extends DomainEvent {
  constructor(
    readonly orderId: string,
    readonly approved: boolean,
    readonly authorizationId: string,
    init?: DomainEventInit,
  ) {
    super({ aggregateId: orderId, aggregateType: 'Order', ...init });
  }
}
