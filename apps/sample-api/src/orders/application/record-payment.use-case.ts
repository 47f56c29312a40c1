import { Injectable } from '@nestjs/common';
import { EventBus } from '@infrastructure/messaging';
import { Clock } from './ports/clock.js';
import { OrderRepository } from './ports/order.repository.js';
import { OrderViews } from './ports/order-views.js';
import { TransactionRunner } from './ports/transaction-runner.js';
import { saveAndPublish } from './save-and-publish.js';

/**
 * Records the payment provider's answer for an order. Idempotent: an unknown order, or one that
 * is no longer pending, is left as it is, so a redelivered answer changes nothing.
 */
@Injectable()
export class RecordPayment {
  constructor(
    private readonly orders: OrderRepository,
    private readonly views: OrderViews,
    private readonly bus: EventBus,
    private readonly clock: Clock,
    private readonly tx: TransactionRunner,
  ) {}

  /** @returns whether the answer was recorded */
  async execute(id: string, approved: boolean, authorizationId: string): Promise<boolean> {
    const recorded = await this.tx.run(async () => {
      const order = await this.orders.load(id);
      if (!order || !order.recordPayment(approved, authorizationId, this.clock.now())) return false;
      await saveAndPublish(order, this.orders, this.bus);
      return true;
    });
    await this.views.changed(id);
    return recorded;
  }
}
