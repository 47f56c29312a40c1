import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { EventBus } from '@infrastructure/messaging';
import { getLogger } from '@infrastructure/monitoring';
import { Transactional, type Page } from '@infrastructure/persistence';
import { OrderEntity } from './order.entity.js';
import { OrderPlaced } from './order-placed.event.js';
import { OrderRepository } from './order.repository.js';
import type { PlaceOrderDto } from './orders.dto.js';

/** Application service for orders. */
@Injectable()
export class OrdersService {
  private readonly log = getLogger('OrdersService');

  constructor(
    private readonly orders: OrderRepository,
    private readonly events: EventBus,
  ) {}

  @Transactional()
  async place(cmd: PlaceOrderDto): Promise<OrderEntity> {
    const order = Object.assign(new OrderEntity(), {
      id: randomUUID(),
      customerId: cmd.customerId,
      sku: cmd.sku,
      quantity: cmd.quantity,
      unitPriceCents: cmd.unitPriceCents,
      totalCents: cmd.quantity * cmd.unitPriceCents,
      status: 'placed' as const,
    });
    await this.orders.save(order);
    // Inside the transaction: delivered only once it commits.
    await this.events.publish(new OrderPlaced(order.id, order.customerId, order.totalCents));
    this.log.info({ orderId: order.id, totalCents: order.totalCents }, 'Order placed');
    return (await this.orders.findById(order.id))!;
  }

  get(id: string): Promise<OrderEntity | null> {
    return this.orders.findById(id);
  }

  list(cursor: string | undefined, limit: number | undefined): Promise<Page<OrderEntity>> {
    return this.orders.findMany(undefined, { cursor, limit });
  }
}
