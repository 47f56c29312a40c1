import { Injectable, NotFoundException } from '@nestjs/common';
import { Cacheable, CacheEvict } from '@infrastructure/caching';
import { randomUUID } from 'node:crypto';
import { EventStore, type RecordedEvent } from '@infrastructure/event-sourcing';
import { getLogger } from '@infrastructure/monitoring';
import { Transactional, type Page } from '@infrastructure/persistence';
import { Order } from './order.aggregate.js';
import { OrderEntity } from './order.entity.js';
import { OrderRepository } from './order.repository.js';
import { OrderStreams } from './order.streams.js';
import type { PlaceOrderDto } from './orders.dto.js';

/** The cache tag of one order. */
export const orderTag = (id: string): string => `order:${id}`;

/** An order as the API returns it. */
export interface OrderView {
  id: string;
  customerId: string;
  sku: string;
  quantity: number;
  unitPriceCents: number;
  totalCents: number;
  status: string;
  createdAt: string;
  version: number;
}

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

/**
 * Application service for orders. The `Order` aggregate's events are the source of truth; the
 * `orders` table is an inline projection written in the same transaction (so reads right after a
 * write see it), and the events reach other consumers through the outbox.
 */
@Injectable()
export class OrdersService {
  private readonly log = getLogger('OrdersService');

  constructor(
    private readonly orders: OrderRepository,
    private readonly streams: OrderStreams,
    private readonly store: EventStore,
  ) {}

  @Transactional()
  async place(cmd: PlaceOrderDto): Promise<OrderEntity> {
    const order = new Order(randomUUID());
    order.place(cmd);
    await this.streams.save(order); // events + outbox, this transaction
    const s = order.snapshot;
    await this.orders.save(
      Object.assign(new OrderEntity(), {
        id: order.id,
        customerId: s.customerId,
        sku: s.sku,
        quantity: s.quantity,
        unitPriceCents: s.unitPriceCents,
        totalCents: s.totalCents,
        status: 'placed' as const,
      }),
    );
    this.log.info({ orderId: order.id, totalCents: s.totalCents }, 'Order placed');
    return (await this.orders.findById(order.id))!;
  }

  @Transactional()
  @CacheEvict({ tags: (args) => [orderTag(args[0] as string)] }) // after the commit
  async cancel(id: string, reason: string): Promise<OrderEntity> {
    const order = await this.streams.load(id);
    const row = await this.orders.findById(id);
    if (!order || !row) throw new NotFoundException(`Order ${id} does not exist`);
    order.cancel(reason); // 409 when cancelled already
    await this.streams.save(order); // a concurrent change of the stream → 409
    row.status = 'cancelled';
    await this.orders.save(row);
    this.log.info({ orderId: id, reason }, 'Order cancelled');
    return (await this.orders.findById(id))!;
  }

  /**
   * Records the payment provider's answer (idempotent: an order that is no longer pending is left
   * as it is, so a redelivered event changes nothing).
   */
  @Transactional()
  @CacheEvict({ tags: (args) => [orderTag(args[0] as string)] })
  async recordPayment(id: string, approved: boolean, authorizationId: string): Promise<void> {
    const order = await this.streams.load(id);
    const row = await this.orders.findById(id);
    if (!order || !row || !order.recordPayment(approved, authorizationId)) return;
    await this.streams.save(order);
    row.status = approved ? 'paid' : 'payment_declined';
    await this.orders.save(row);
  }

  /**
   * One order as the API shows it, cache-aside: `order:<id>` tagged `order:<id>` (evicted after a
   * cancel commits and by the order-events handler on every instance). Plain data, not an entity:
   * cached values come back as plain objects. `undefined` (not found) is not cached.
   */
  @Cacheable({
    key: (id: string) => `order:${id}`,
    ttlMs: 30_000,
    tags: (id: string) => [orderTag(id)],
  })
  async view(id: string): Promise<OrderView | undefined> {
    const order = await this.orders.findById(id);
    return order ? toView(order) : undefined;
  }

  list(cursor: string | undefined, limit: number | undefined): Promise<Page<OrderEntity>> {
    return this.orders.findMany(undefined, { cursor, limit });
  }

  /** The order's event stream, oldest first (empty when there is no such order). */
  events(id: string): Promise<RecordedEvent[]> {
    return this.store.read(this.streams.streamId(id));
  }
}
