import { Injectable } from '@nestjs/common';
import { UnitOfWork } from '@infrastructure/persistence';
import type { Order } from '../domain/order.aggregate.js';
import { OrderRepository } from '../application/ports/order.repository.js';
import { OrderStreams } from './order.streams.js';
import { OrdersTableProjection } from './orders-table.projection.js';

/**
 * The `OrderRepository` port on the event store: an order is its stream; saving appends the new
 * events and updates the inline `orders` projection in one transaction (the caller's, if any).
 */
@Injectable()
export class EventSourcedOrderRepository extends OrderRepository {
  constructor(
    private readonly streams: OrderStreams,
    private readonly table: OrdersTableProjection,
    private readonly uow: UnitOfWork,
  ) {
    super();
  }

  load(id: string): Promise<Order | undefined> {
    return this.streams.load(id);
  }

  async save(order: Order): Promise<void> {
    // Its first events: the stream (and so the row) does not exist yet.
    const created =
      order.uncommittedEvents.length > 0 && order.version === order.uncommittedEvents.length;
    await this.uow.run(async () => {
      await this.streams.save(order);
      await this.table.project(order, created);
    });
  }
}
