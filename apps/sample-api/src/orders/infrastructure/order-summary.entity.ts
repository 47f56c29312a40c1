import { Column, Entity, PrimaryColumn } from 'typeorm';
import { money } from './order.entity.js';

/**
 * Read model: one row per customer, projected from `OrderPlaced` events (table `order_summaries`,
 * created by the CreateOrderSummaries migration). Eventually consistent with `orders`.
 */
@Entity('order_summaries')
export class OrderSummaryEntity {
  @PrimaryColumn({ name: 'customer_id', type: 'varchar', length: 64 }) customerId!: string;
  @Column({ name: 'orders_count', type: 'int' }) ordersCount!: number;
  @Column({ name: 'total_cents', type: 'bigint', transformer: money }) totalCents!: number;
  @Column({ name: 'last_order_id', type: 'varchar', length: 36 }) lastOrderId!: string;
  /** Epoch milliseconds of the last projected order. */
  @Column({ name: 'last_order_at', type: 'bigint', transformer: { to: Number, from: Number } })
  lastOrderAt!: number;
}
