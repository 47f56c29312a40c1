import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { EventBus } from '@infrastructure/messaging';
import { getLogger } from '@infrastructure/monitoring';
import { Order, type OrderLine } from '../domain/order.aggregate.js';
import { Clock } from './ports/clock.js';
import { OrderRepository } from './ports/order.repository.js';
import { OrderViews, type OrderView } from './ports/order-views.js';
import { TransactionRunner } from './ports/transaction-runner.js';
import { saveAndPublish } from './save-and-publish.js';

/**
 * Places an order: accepted at once as `placed` (payment pending); the payment is asked for by
 * whoever reacts to `OrderPlaced`. Returns the order as reads show it (same transaction).
 */
@Injectable()
export class PlaceOrder {
  private readonly log = getLogger('PlaceOrder');

  constructor(
    private readonly orders: OrderRepository,
    private readonly views: OrderViews,
    private readonly bus: EventBus,
    private readonly clock: Clock,
    private readonly tx: TransactionRunner,
  ) {}

  async execute(line: OrderLine): Promise<OrderView> {
    const order = new Order(randomUUID());
    order.place(line, this.clock.now()); // InvalidOrderLineError (422)
    const view = await this.tx.run(async () => {
      await saveAndPublish(order, this.orders, this.bus);
      return (await this.views.current(order.id))!;
    });
    this.log.info({ orderId: order.id, totalCents: view.totalCents }, 'Order placed');
    return view;
  }
}
