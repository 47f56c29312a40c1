import type { EventBus } from '@infrastructure/messaging';
import type { Order } from '../domain/order.aggregate.js';
import type { OrderRepository } from './ports/order.repository.js';

/**
 * Saves the order and publishes the events it just applied. Call it inside the use case's
 * transaction: with the real `EventBus` the publish writes outbox rows in it, so the events leave
 * exactly when the change commits.
 */
export async function saveAndPublish(
  order: Order,
  orders: OrderRepository,
  bus: EventBus,
): Promise<void> {
  const events = [...order.uncommittedEvents];
  await orders.save(order);
  await bus.publish(events);
}
