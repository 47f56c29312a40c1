import { Injectable } from '@nestjs/common';
import { Cacheable, CacheStore } from '@infrastructure/caching';
import { EventStore } from '@infrastructure/event-sourcing';
import { toEnvelope } from '@infrastructure/messaging';
import type { Page } from '@infrastructure/persistence';
import {
  OrderViews,
  type OrderHistoryEntry,
  type OrderView,
} from '../application/ports/order-views.js';
import { orderTag } from './order-cache.js';
import type { OrderEntity } from './order.entity.js';
import { OrderRowRepository } from './order-row.repository.js';
import { OrderStreams } from './order.streams.js';

export function toView(order: OrderEntity): OrderView {
  return {
    id: order.id,
    customerId: order.customerId,
    sku: order.sku,
    quantity: order.quantity,
    unitPriceCents: order.unitPriceCents,
    totalCents: order.totalCents,
    status: order.status,
    createdAt: new Date(order.createdAt).toISOString(),
    version: order.version,
  };
}

/** The `OrderViews` port on the `orders` table (cache-aside) and the order's event stream. */
@Injectable()
export class TypeOrmOrderViews extends OrderViews {
  constructor(
    private readonly rows: OrderRowRepository,
    private readonly streams: OrderStreams,
    private readonly store: EventStore,
    private readonly cache: CacheStore,
  ) {
    super();
  }

  /**
   * Cache-aside: `order:<id>` tagged `order:<id>` (evicted by `changed` after a change commits and
   * by the order-events handler on every instance). `undefined` (not found) is not cached.
   */
  @Cacheable({
    key: (id: string) => `order:${id}`,
    ttlMs: 30_000,
    tags: (id: string) => [orderTag(id)],
  })
  find(id: string): Promise<OrderView | undefined> {
    return this.current(id);
  }

  async current(id: string): Promise<OrderView | undefined> {
    const row = await this.rows.findById(id);
    return row ? toView(row) : undefined;
  }

  async list(cursor: string | undefined, limit: number | undefined): Promise<Page<OrderView>> {
    const page = await this.rows.findMany(undefined, { cursor, limit });
    return { ...page, items: page.items.map(toView) };
  }

  async history(id: string): Promise<OrderHistoryEntry[]> {
    const events = await this.store.read(this.streams.streamId(id));
    return events.map(({ event, version, position }) => {
      const envelope = toEnvelope(event);
      return {
        version,
        position,
        type: envelope.type,
        id: envelope.id,
        occurredAt: envelope.occurredAt,
        payload: envelope.payload,
      };
    });
  }

  async changed(id: string): Promise<void> {
    await this.cache.invalidateTags([orderTag(id)]);
  }
}
