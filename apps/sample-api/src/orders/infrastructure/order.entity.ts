import { Column, CreateDateColumn, Entity, Index, PrimaryColumn, VersionColumn } from 'typeorm';
import type { OrderStatus } from '../domain/order.aggregate.js';

/** Cents in BIGINT columns: numbers in JS (exact up to 2^53), strings from pg and mysql2. */
export const money = {
  to: (v: number) => v,
  from: (v: string | number | null) => (v === null ? v : Number(v)),
};

/**
 * An order as stored (table `orders`, created by the CreateOrders migration): the inline
 * projection of the order's events, written only by {@link OrdersTableProjection}.
 */
@Entity('orders')
export class OrderEntity {
  @PrimaryColumn({ type: 'varchar', length: 36 }) id!: string;
  @Index('idx_orders_customer')
  @Column({ name: 'customer_id', type: 'varchar', length: 64 })
  customerId!: string;
  @Column({ type: 'varchar', length: 64 }) sku!: string;
  @Column({ type: 'int' }) quantity!: number;
  @Column({ name: 'unit_price_cents', type: 'bigint', transformer: money }) unitPriceCents!: number;
  @Column({ name: 'total_cents', type: 'bigint', transformer: money }) totalCents!: number;
  @Column({ type: 'varchar', length: 20 }) status!: OrderStatus;
  @CreateDateColumn({ name: 'created_at', precision: 3 }) createdAt!: Date;
  @VersionColumn() version!: number;
}
