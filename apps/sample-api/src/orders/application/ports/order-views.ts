import type { Page } from '@infrastructure/persistence';
import type { OrderStatus } from '../../domain/order.aggregate.js';

/** An order as the API returns it (plain data: it is cached). */
export interface OrderView {
  id: string;
  customerId: string;
  sku: string;
  quantity: number;
  unitPriceCents: number;
  totalCents: number;
  status: OrderStatus;
  createdAt: string;
  version: number;
}

/** One stored event of an order, as the API shows it. */
export interface OrderHistoryEntry {
  /** Version within the order's stream (1 = first event). */
  version: number;
  /** Global position in the event store. */
  position: number;
  type: string;
  id: string;
  occurredAt: string;
  payload: Record<string, unknown>;
}

/** What reads see of orders (the read side's port). */
export abstract class OrderViews {
  /** One order, or undefined; may come from a cache (evicted by {@link changed}). */
  abstract find(id: string): Promise<OrderView | undefined>;
  /** One order as stored now, in the current transaction (never cached), or undefined. */
  abstract current(id: string): Promise<OrderView | undefined>;
  /**
   * A page of orders (`cursor` from the previous page's `nextCursor`).
   * @throws RangeError for a cursor this API never issued
   */
  abstract list(cursor: string | undefined, limit: number | undefined): Promise<Page<OrderView>>;
  /** The order's events, oldest first (empty when there is no such order). */
  abstract history(id: string): Promise<OrderHistoryEntry[]>;
  /** Forgets any cached view of the order (call it after the change committed). */
  abstract changed(id: string): Promise<void>;
}
