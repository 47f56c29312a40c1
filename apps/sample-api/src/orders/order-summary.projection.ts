import { Injectable } from '@nestjs/common';
import { EventHandler } from '@infrastructure/messaging';
import { getLogger } from '@infrastructure/monitoring';
import { UnitOfWork } from '@infrastructure/persistence';
import { OrderSummaryEntity } from './order-summary.entity.js';
import { OrderPlaced } from './order-placed.event.js';

/**
 * Projects `OrderPlaced` into `order_summaries` in its own consumer group. The messaging inbox
 * commits this update and the message id together, so a redelivered event is counted once; two
 * concurrent first orders of one customer race on the insert, and the loser is retried.
 */
@Injectable()
export class OrderSummaryProjection {
  private readonly log = getLogger('OrderSummaryProjection');

  constructor(private readonly uow: UnitOfWork) {}

  @EventHandler(OrderPlaced, { group: 'sample-api.order-summaries' })
  async onPlaced(event: OrderPlaced): Promise<void> {
    await this.uow.run(async () => {
      const repo = this.uow.manager.getRepository(OrderSummaryEntity);
      const at = event.occurredAt.getTime();
      const updated = await repo
        .createQueryBuilder()
        .update()
        .set({
          ordersCount: () => 'orders_count + 1',
          totalCents: () => `total_cents + ${Math.trunc(event.totalCents)}`,
          lastOrderId: event.orderId,
          lastOrderAt: at,
        })
        .where('customer_id = :customerId', { customerId: event.customerId })
        .execute();
      if (!updated.affected) {
        await repo.insert({
          customerId: event.customerId,
          ordersCount: 1,
          totalCents: event.totalCents,
          lastOrderId: event.orderId,
          lastOrderAt: at,
        });
      }
    });
    this.log.info(
      { orderId: event.orderId, customerId: event.customerId },
      'order summary updated',
    );
  }
}
