import { AggregateRoot, When, type Snapshottable } from '@infrastructure/event-sourcing';
import {
  InvalidOrderLineError,
  OrderAlreadyCancelledError,
  OrderAlreadyPlacedError,
} from './order.errors.js';
import { OrderCancelled, OrderPaymentRecorded, OrderPlaced } from './order.events.js';

/** Order lifecycle. */
export type OrderStatus = 'placed' | 'paid' | 'payment_declined' | 'cancelled';

/** What is ordered: one line. */
export interface OrderLine {
  customerId: string;
  sku: string;
  quantity: number;
  unitPriceCents: number;
}

/** The order's state, rebuilt from its events (also its snapshot). */
export interface OrderState extends OrderLine {
  totalCents: number;
  status: OrderStatus | 'new';
}

/**
 * The order aggregate: its event stream (`order-<id>`) is the source of truth. Commands check the
 * invariants and apply an event (stamped with the time the caller's clock gives); state changes
 * only in the `@When` methods, which also rebuild it from history.
 */
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

  place(line: OrderLine, at: Date): void {
    if (this.state.status !== 'new') throw new OrderAlreadyPlacedError(this.id);
    const { customerId, sku, quantity, unitPriceCents } = line;
    if (!Number.isInteger(quantity) || quantity < 1) {
      throw new InvalidOrderLineError(`quantity must be a positive integer, got ${quantity}`);
    }
    if (!Number.isInteger(unitPriceCents) || unitPriceCents < 0) {
      throw new InvalidOrderLineError(
        `unitPriceCents must be a non-negative integer, got ${unitPriceCents}`,
      );
    }
    const totalCents = quantity * unitPriceCents;
    if (!Number.isSafeInteger(totalCents)) {
      throw new InvalidOrderLineError(`the total of ${quantity} × ${unitPriceCents} is too large`);
    }
    this.apply(
      new OrderPlaced(this.id, customerId, totalCents, sku, quantity, unitPriceCents, {
        occurredAt: at,
      }),
    );
  }

  cancel(reason: string, at: Date): void {
    if (this.state.status === 'cancelled') throw new OrderAlreadyCancelledError(this.id);
    this.apply(
      new OrderCancelled(this.id, this.state.customerId, this.state.totalCents, reason, {
        occurredAt: at,
      }),
    );
  }

  /** Records the provider's answer; false when there is nothing to record (not pending any more). */
  recordPayment(approved: boolean, authorizationId: string, at: Date): boolean {
    if (this.state.status !== 'placed') return false;
    this.apply(new OrderPaymentRecorded(this.id, approved, authorizationId, { occurredAt: at }));
    return true;
  }

  @When(OrderPlaced)
  protected placed(e: OrderPlaced): void {
    this.state = {
      customerId: e.customerId,
      sku: e.sku,
      quantity: e.quantity,
      unitPriceCents: e.unitPriceCents,
      totalCents: e.totalCents,
      status: 'placed',
    };
  }

  @When(OrderPaymentRecorded)
  protected paymentRecorded(e: OrderPaymentRecorded): void {
    this.state = { ...this.state, status: e.approved ? 'paid' : 'payment_declined' };
  }

  @When(OrderCancelled)
  protected cancelled(): void {
    this.state = { ...this.state, status: 'cancelled' };
  }

  toSnapshot(): unknown {
    return this.state;
  }

  restoreSnapshot(state: unknown): void {
    this.state = state as OrderState;
  }
}
