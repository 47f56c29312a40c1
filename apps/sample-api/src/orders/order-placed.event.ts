import { DomainEvent, DomainEventType, type DomainEventInit } from '@infrastructure/messaging';

/** An order was placed (published after the order's transaction commits). */
@DomainEventType('orders.OrderPlaced')
export class OrderPlaced extends DomainEvent {
  constructor(
    readonly orderId: string,
    readonly customerId: string,
    readonly totalCents: number,
    init?: DomainEventInit,
  ) {
    super({ aggregateId: orderId, aggregateType: 'Order', ...init });
  }
}
