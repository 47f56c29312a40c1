import { Injectable } from '@nestjs/common';
import { EventSourcedRepository, EventSourcing } from '@infrastructure/event-sourcing';
import { Order } from './order.aggregate.js';

/** Order aggregates in the event store (stream `order-<id>`); saves publish through the outbox. */
@Injectable()
export class OrderStreams extends EventSourcedRepository<Order> {
  constructor(es: EventSourcing) {
    super(es, { streamPrefix: 'order', create: (id) => new Order(id), snapshotEvery: 50 });
  }
}
