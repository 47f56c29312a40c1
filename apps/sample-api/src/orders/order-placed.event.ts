import { DomainEvent, DomainEventType, type DomainEventInit } from '@infrastructure/messaging';

/**
 * An order was placed. Schema 2 added the line (sku, quantity, unit price) so the event alone
 * rebuilds the order; version-1 events (total only) are upcast on read.
 */
@DomainEventType('orders.OrderPlaced', {
  schemaVersion: 2,
  upcasters: {
    1: (p) => ({ sku: 'unknown', quantity: 1, unitPriceCents: p.totalCents, ...p }),
  },
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
