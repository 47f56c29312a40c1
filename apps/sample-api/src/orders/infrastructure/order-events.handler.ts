import { Injectable } from '@nestjs/common';
import { CacheStore } from '@infrastructure/caching';
import { EventHandler } from '@infrastructure/messaging';
import { getLogger } from '@infrastructure/monitoring';
import { OrderCancelled, OrderPlaced } from '../domain/order.events.js';
import { orderTag } from './order-cache.js';

/**
 * Reacts to order events in its own consumer group: logs (with the original correlation id) and
 * evicts the order's cached view by tag — on every instance (L1 included), and for changes made by
 * other services publishing the same events.
 */
@Injectable()
export class OrderEventsHandler {
  private readonly log = getLogger('OrderEventsHandler');

  constructor(private readonly cache: CacheStore) {}

  @EventHandler(OrderPlaced, { group: 'sample-api.order-notifications' })
  async onPlaced(event: OrderPlaced): Promise<void> {
    await this.cache.invalidateTags([orderTag(event.orderId)]);
    this.log.info(
      { orderId: event.orderId, totalCents: event.totalCents },
      'Order placed event handled',
    );
  }

  @EventHandler(OrderCancelled, { group: 'sample-api.order-notifications' })
  async onCancelled(event: OrderCancelled): Promise<void> {
    await this.cache.invalidateTags([orderTag(event.orderId)]);
    this.log.info(
      { orderId: event.orderId, reason: event.reason },
      'Order cancelled event handled',
    );
  }
}
