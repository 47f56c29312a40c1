import type { Page } from '@infrastructure/persistence';
import { Order } from '../../domain/order.aggregate.js';
import type { DomainEvent } from '@infrastructure/messaging';
import { Clock } from '../ports/clock.js';
import { OrderRepository } from '../ports/order.repository.js';
import { OrderViews, type OrderHistoryEntry, type OrderView } from '../ports/order-views.js';
import { TransactionRunner } from '../ports/transaction-runner.js';

/** A clock that says what the test wants (`set`, `advance`). */
export class FakeClock extends Clock {
  constructor(private time = new Date('2026-01-01T00:00:00.000Z')) {
    super();
  }
  now(): Date {
    return new Date(this.time);
  }
  set(time: Date): void {
    this.time = time;
  }
  advance(ms: number): void {
    this.time = new Date(this.time.getTime() + ms);
  }
}

/** Runs the work as it is and counts the transactions (nothing to roll back in memory). */
export class ImmediateTransactions extends TransactionRunner {
  runs = 0;
  run<T>(work: () => Promise<T>): Promise<T> {
    this.runs++;
    return work();
  }
}

/** Thrown by {@link InMemoryOrders} when a save started from a stale version. */
export class InMemoryConcurrencyError extends Error {
  override readonly name = 'InMemoryConcurrencyError';
  readonly httpStatus = 409;
}

/**
 * Orders in memory: each order's events (rebuilt through the aggregate's own `@When` methods on
 * load), and the read model the adapter keeps beside them, with a `version` per saved change and
 * `createdAt` from the clock — what the event store and the `orders` table do for real.
 */
export class InMemoryOrders extends OrderRepository {
  readonly streams = new Map<string, DomainEvent[]>();
  readonly rows = new Map<string, OrderView>();

  constructor(private readonly clock: Clock = new FakeClock()) {
    super();
  }

  async load(id: string): Promise<Order | undefined> {
    const events = this.streams.get(id);
    if (!events?.length) return undefined;
    const order = new Order(id);
    order.replay(events.map((event, i) => ({ event, version: i + 1 }) as never));
    return order;
  }

  async save(order: Order): Promise<void> {
    const events = order.uncommittedEvents;
    if (events.length === 0) return;
    const stored = this.streams.get(order.id) ?? [];
    if (stored.length !== order.version - events.length) {
      throw new InMemoryConcurrencyError(`order ${order.id} changed concurrently`);
    }
    this.streams.set(order.id, [...stored, ...events]);
    order.markCommitted();
    const s = order.snapshot;
    if (s.status === 'new') return;
    const before = this.rows.get(order.id);
    this.rows.set(order.id, {
      id: order.id,
      customerId: s.customerId,
      sku: s.sku,
      quantity: s.quantity,
      unitPriceCents: s.unitPriceCents,
      totalCents: s.totalCents,
      status: s.status,
      createdAt: before?.createdAt ?? this.clock.now().toISOString(),
      version: (before?.version ?? 0) + 1,
    });
  }
}

/** The read side of {@link InMemoryOrders}; `changes` lists the ids `changed` was called for. */
export class InMemoryOrderViews extends OrderViews {
  readonly changes: string[] = [];

  constructor(private readonly orders: InMemoryOrders) {
    super();
  }

  async find(id: string): Promise<OrderView | undefined> {
    return this.current(id);
  }

  async current(id: string): Promise<OrderView | undefined> {
    const row = this.orders.rows.get(id);
    return row ? { ...row } : undefined;
  }

  async list(cursor: string | undefined, limit = 20): Promise<Page<OrderView>> {
    if (cursor !== undefined) throw new RangeError('the in-memory views have a single page');
    return { items: [...this.orders.rows.values()].slice(0, limit) };
  }

  async history(id: string): Promise<OrderHistoryEntry[]> {
    return (this.orders.streams.get(id) ?? []).map((event, i) => ({
      version: i + 1,
      position: i + 1,
      type: event.constructor.name,
      id: event.id,
      occurredAt: event.occurredAt.toISOString(),
      payload: { ...event },
    }));
  }

  async changed(id: string): Promise<void> {
    this.changes.push(id);
  }
}
