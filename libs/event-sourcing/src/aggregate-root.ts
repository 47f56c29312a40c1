import type { DomainEvent } from '@infrastructure/messaging';
import { EventSourcingError } from './errors.js';
import type { RecordedEvent } from './event-store.js';

type Handler = (event: DomainEvent) => void;

/**
 * Base of event-sourced aggregates. Commands check invariants and call `apply(event)`; state
 * changes only in `when<EventClass>(event)` methods, which also rebuild the state from history.
 *
 * @example
 * export class Order extends AggregateRoot {
 *   status: 'new' | 'placed' | 'cancelled' = 'new';
 *   constructor(readonly id: string) { super(); }
 *   place(customerId: string, totalCents: number) {
 *     if (this.status !== 'new') throw new ConflictException('already placed');
 *     this.apply(new OrderPlaced(this.id, customerId, totalCents));
 *   }
 *   protected whenOrderPlaced(e: OrderPlaced) { this.status = 'placed'; }
 * }
 *
 * For snapshots, implement `toSnapshot()` and `restoreSnapshot(state)` (see EventSourcedRepository).
 */
export abstract class AggregateRoot {
  abstract readonly id: string;
  private currentVersion = 0;
  private pending: DomainEvent[] = [];

  /** Version including the events applied but not saved yet (0 for a new aggregate). */
  get version(): number {
    return this.currentVersion;
  }

  /** Events applied since the last save, oldest first. */
  get uncommittedEvents(): readonly DomainEvent[] {
    return this.pending;
  }

  /** Records `event` and changes the state through its `when<EventClass>` method. */
  protected apply(event: DomainEvent): void {
    this.route(event);
    this.pending.push(event);
    this.currentVersion++;
  }

  /** @internal Rebuilds state from stored events (no recording). */
  replay(history: readonly RecordedEvent[]): void {
    for (const recorded of history) {
      this.route(recorded.event);
      this.currentVersion = recorded.version;
    }
  }

  /** @internal Sets the version after a snapshot was restored. */
  restoredAt(version: number): void {
    this.currentVersion = version;
  }

  /** @internal Called by the repository once the events are stored. */
  markCommitted(): void {
    this.pending = [];
  }

  private route(event: DomainEvent): void {
    const method = `when${event.constructor.name}`;
    const handler = (this as unknown as Record<string, Handler | undefined>)[method];
    if (typeof handler !== 'function') {
      throw new EventSourcingError(
        `${this.constructor.name} has no ${method}(event) method to apply ${event.constructor.name}`,
      );
    }
    handler.call(this, event);
  }
}

/** An aggregate that can be snapshotted. */
export interface Snapshottable {
  toSnapshot(): unknown;
  restoreSnapshot(state: unknown): void;
}

export function isSnapshottable(a: object): a is Snapshottable {
  return (
    typeof (a as Partial<Snapshottable>).toSnapshot === 'function' &&
    typeof (a as Partial<Snapshottable>).restoreSnapshot === 'function'
  );
}
