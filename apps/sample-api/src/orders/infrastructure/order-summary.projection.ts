import { Injectable } from '@nestjs/common';
import { Projection, When, type ResettableProjection } from '@infrastructure/event-sourcing';
import { getLogger } from '@infrastructure/monitoring';
import { OrderCancelled, OrderPlaced } from '../domain/order.events.js';
import { OrderSummaryRepository } from './order-summary.repository.js';

/**
 * The `order_summaries` read model, projected from the event store: each batch of events and the
 * projection's checkpoint commit together, so a crash never counts an order twice, and
 * `rebuild('order-summaries')` replays every stored event into an empty table.
 */
@Projection('order-summaries')
@Injectable()
export class OrderSummaryProjection implements ResettableProjection {
  private readonly log = getLogger('OrderSummaryProjection');

  constructor(private readonly summaries: OrderSummaryRepository) {}

  @When(OrderPlaced)
  async onPlaced(event: OrderPlaced): Promise<void> {
    await this.add(event.customerId, 1, event.totalCents, event.orderId, event.occurredAt);
    this.log.debug({ orderId: event.orderId, customerId: event.customerId }, 'summary: placed');
  }

  @When(OrderCancelled)
  async onCancelled(event: OrderCancelled): Promise<void> {
    await this.add(event.customerId, -1, -event.totalCents, undefined, event.occurredAt);
  }

  async reset(): Promise<void> {
    await this.summaries.clear();
  }

  private async add(
    customerId: string,
    orders: number,
    cents: number,
    lastOrderId: string | undefined,
    at: Date,
  ): Promise<void> {
    const row = await this.summaries.findById(customerId);
    if (!row) {
      await this.summaries.insert({
        customerId,
        ordersCount: orders,
        totalCents: cents,
        lastOrderId: lastOrderId ?? '',
        lastOrderAt: at.getTime(),
      });
      return;
    }
    row.ordersCount += orders;
    row.totalCents += cents;
    if (lastOrderId) {
      row.lastOrderId = lastOrderId;
      row.lastOrderAt = at.getTime();
    }
    await this.summaries.save(row);
  }
}
