import { Injectable } from '@nestjs/common';
import { EventBus } from '@infrastructure/messaging';
import { getLogger } from '@infrastructure/monitoring';
import { OrderNotFoundError } from '../domain/order.errors.js';
import { Clock } from './ports/clock.js';
import { OrderRepository } from './ports/order.repository.js';
import { OrderViews, type OrderView } from './ports/order-views.js';
import { TransactionRunner } from './ports/transaction-runner.js';
import { saveAndPublish } from './save-and-publish.js';

/** Cancels an order: 404 when there is none, 409 when cancelled already or changed concurrently. */
@Injectable()
export class CancelOrder {
  private readonly log = getLogger('CancelOrder');

  constructor(
    private readonly orders: OrderRepository,
    private readonly views: OrderViews,
    private readonly bus: EventBus,
    private readonly clock: Clock,
    private readonly tx: TransactionRunner,
  ) {}

  async execute(id: string, reason: string): Promise<OrderView> {
    const view = await this.tx.run(async () => {
      const order = await this.orders.load(id);
      if (!order) throw new OrderNotFoundError(id);
      order.cancel(reason, this.clock.now()); // OrderAlreadyCancelledError (409)
      await saveAndPublish(order, this.orders, this.bus); // a concurrent change → 409
      return (await this.views.current(id))!;
    });
    await this.views.changed(id); // after the commit: the next read sees the cancellation
    this.log.info({ orderId: id, reason }, 'Order cancelled');
    return view;
  }
}
