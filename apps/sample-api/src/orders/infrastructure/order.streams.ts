import { Injectable } from '@nestjs/common';
import { EventSourcedRepository, EventSourcing } from '@infrastructure/event-sourcing';
import { Order } from '../domain/order.aggregate.js';

/**
 * Order aggregates in the event store (stream `order-<id>`). `publish: false`: the use cases
 * publish the events on the `EventBus` themselves, in the same transaction (the outbox).
 */
@Injectable()
export class OrderStreams extends EventSourcedRepository<Order> {
  constructor(es: EventSourcing) {
    super(es, {
      streamPrefix: 'order',
      create: (id) => new Order(id),
      snapshotEvery: 50,
      publish: false,
    });
  }
}
