import type { DomainEvent } from '@infrastructure/messaging';
import { EventSourcingError } from './errors.js';
import type { RecordedEvent } from './event-store.js';
import { whenHandlers } from './projection.decorators.js';

type Handler = (event: DomainEvent) => void;

/** Per aggregate class: the method that applies each event class (resolved once, then cached). */
const routes = new WeakMap<Function, Map<Function, string | symbol | undefined>>();

/**
 * The `@When(Event)` method of `type` for `event`'s class (the exact class first, then a
 * superclass it was declared for), else the deprecated `when<EventClass>` method by name.
 */
function methodFor(
  type: Function,
  aggregate: object,
  event: DomainEvent,
): string | symbol | undefined {
  let byEvent = routes.get(type);
  if (!byEvent) routes.set(type, (byEvent = new Map()));
  const eventClass = event.constructor;
  if (byEvent.has(eventClass)) return byEvent.get(eventClass);
  const declared = whenHandlers(type);
  const method =
    declared.find((h) => h.event === eventClass)?.method ??
    declared.find((h) => event instanceof h.event)?.method ??
    (typeof (aggregate as Record<string, unknown>)[`when${eventClass.name}`] === 'function'
      ? `when${eventClass.name}`
      : undefined);
  byEvent.set(eventClass, method);
  return method;
}

/**
 * Base of event-sourced aggregates. Commands check invariants and call `apply(event)`; state
 * changes only in the aggregate's `@When(EventClass)` methods (the same decorator projections
 * use), which also rebuild the state from history.
 *
 * @example
 * export class Order extends AggregateRoot {
 *   status: 'new' | 'placed' | 'cancelled' = 'new';
 *   constructor(readonly id: string) { super(); }
 *   place(customerId: string, totalCents: number) {
 *     if (this.status !== 'new') throw new OrderAlreadyPlacedError(this.id);
 *     this.apply(new OrderPlaced(this.id, customerId, totalCents));
 *   }
 *   @When(OrderPlaced) protected placed(e: OrderPlaced) { this.status = 'placed'; }
 * }
 *
 * Deprecated fallback: a method named `when<EventClassName>` (e.g. `whenOrderPlaced`) still
 * applies an event that has no `@When` handler, as before 0.3; it will be removed in a future
 * major release. Decorate the method with `@When(EventClass)` instead (renaming is not needed).
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

  /** Records `event` and changes the state through its `@When(EventClass)` method. */
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
    const method = methodFor(this.constructor, this, event);
    const handler =
      method === undefined
        ? undefined
        : (this as unknown as Record<string | symbol, Handler | undefined>)[method];
    if (typeof handler !== 'function') {
      const name = event.constructor.name;
      throw new EventSourcingError(
        `${this.constructor.name} has no handler for ${name}: decorate the method that applies it ` +
          `with @When(${name})`,
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
