import { Injectable } from '@nestjs/common';
import { EventHandler } from '@infrastructure/messaging';
import { getLogger } from '@infrastructure/monitoring';
import { OrderPlaced } from './order-placed.event.js';

/** Reacts to order events (its own consumer group); logs carry the original correlation id. */
@Injectable()
export class OrderEventsHandler {
  private readonly log = getLogger('OrderEventsHandler');

  @EventHandler(OrderPlaced, { group: 'sample-api.order-notifications' })
  onPlaced(event: OrderPlaced): void {
    this.log.info(
      { orderId: event.orderId, totalCents: event.totalCents },
      'Order placed event handled',
    );
  }
}
