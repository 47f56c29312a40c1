import { ConflictException } from '@nestjs/common';
import { AggregateRoot, type Snapshottable } from '@infrastructure/event-sourcing';
import { OrderCancelled, OrderPaymentRecorded, OrderPlaced } from './order-placed.event.js';
import type { OrderStatus } from './order.entity.js';

interface OrderState {
  customerId: string;
  sku: string;
  quantity: number;
  unitPriceCents: number;
  totalCents: number;
  status: OrderStatus | 'new';
}

/** The order aggregate: its event stream (`order-<id>`) is the source of truth. */
export class Order extends AggregateRoot implements Snapshottable {
  private state: OrderState = {
    customerId: '',
    sku: '',
    quantity: 0,
    unitPriceCents: 0,
    totalCents: 0,
    status: 'new',
  };

  constructor(readonly id: string) {
    super();
  }

  get snapshot(): Readonly<OrderState> {
    return this.state;
  }

  place(line: { customerId: string; sku: string; quantity: number; unitPriceCents: number }): void {
    if (this.state.status !== 'new') throw new ConflictException(`Order ${this.id} exists already`);
    this.apply(
      new OrderPlaced(
        this.id,
        line.customerId,
        line.quantity * line.unitPriceCents,
        line.sku,
        line.quantity,
        line.unitPriceCents,
      ),
    );
  }

  cancel(reason: string): void {
    if (this.state.status === 'cancelled') {
      throw new ConflictException(`Order ${this.id} is cancelled already`);
    }
    this.apply(new OrderCancelled(this.id, this.state.customerId, this.state.totalCents, reason));
  }

  /** Records the provider's answer; false when there is nothing to record (not pending any more). */
  recordPayment(approved: boolean, authorizationId: string): boolean {
    if (this.state.status !== 'placed') return false;
    this.apply(new OrderPaymentRecorded(this.id, approved, authorizationId));
    return true;
  }

  protected whenOrderPaymentRecorded(e: OrderPaymentRecorded): void {
    this.state = { ...this.state, status: e.approved ? 'paid' : 'payment_declined' };
  }

  protected whenOrderPlaced(e: OrderPlaced): void {
    this.state = {
      customerId: e.customerId,
      sku: e.sku,
      quantity: e.quantity,
      unitPriceCents: e.unitPriceCents,
      totalCents: e.totalCents,
      status: 'placed',
    };
  }

  protected whenOrderCancelled(): void {
    this.state = { ...this.state, status: 'cancelled' };
  }

  toSnapshot(): unknown {
    return this.state;
  }

  restoreSnapshot(state: unknown): void {
    this.state = state as OrderState;
  }
}
