import type { Order } from '../../domain/order.aggregate.js';

/**
 * Where orders live (the port the use cases save through). The adapter appends the aggregate's
 * uncommitted events to its stream and keeps the `orders` read model in step, in the caller's
 * transaction; publishing the events is the use case's job (`EventBus`).
 */
export abstract class OrderRepository {
  /** The order rebuilt from its events, or undefined when there is none. */
  abstract load(id: string): Promise<Order | undefined>;
  /**
   * Stores the order's uncommitted events (a concurrent change of the same order fails with a
   * 409 `StreamConcurrencyError`) and updates what reads show of it.
   */
  abstract save(order: Order): Promise<void>;
}
