import type { DomainEvent, DomainEventClass } from '@infrastructure/messaging';
import type { RecordedEvent } from './event-store.js';
import type { ProjectionFailurePolicy } from './event-sourcing.options.js';

export const PROJECTION = Symbol.for('infrastructure.eventSourcing.projection');
export const PROJECTION_HANDLERS = Symbol.for('infrastructure.eventSourcing.projectionHandlers');

/** Options of `@Projection`. */
export interface ProjectionOptions {
  /** Events per batch (one transaction, one checkpoint write). @default the module's */
  batchSize?: number;
  /** `park` or `stop` an event the handler keeps failing on. @default the module's (`park`) */
  onFailure?: ProjectionFailurePolicy;
  /** Handler failures on one event before it is parked. @default the module's (5) */
  maxAttempts?: number;
}

/** A projection handler: gets the event and where it is in the store. */
export type ProjectionHandlerFn<E extends DomainEvent = DomainEvent> = (
  event: E,
  recorded: RecordedEvent<E>,
) => unknown;

/** Projection classes may implement this: `rebuild()` calls it before replaying from 0. */
export interface ResettableProjection {
  /** Clears the read model (inside the rebuild's transaction). */
  reset(): Promise<void> | void;
}

/**
 * Marks a provider as a projection named `name`: its `@When(Event)` methods get every stored event
 * of those types in global order, in batches that commit together with the projection's
 * checkpoint (so a crash never applies an event twice), first catching up, then live.
 */
export function Projection(name: string, options: ProjectionOptions = {}): ClassDecorator {
  return (target) => Reflect.defineMetadata(PROJECTION, { name, options }, target);
}

/** A `@When` declaration: which method handles which event class. */
export interface WhenHandler {
  event: DomainEventClass;
  method: string | symbol;
}

/** @internal The `@When` methods declared on `type` and its superclasses. */
export function whenHandlers(type: Function): readonly WhenHandler[] {
  return (Reflect.getMetadata(PROJECTION_HANDLERS, type) as WhenHandler[] | undefined) ?? [];
}

/**
 * Marks the method that handles an event class: in a `@Projection`, it updates the read model;
 * in an `AggregateRoot`, it changes the aggregate's state (on `apply` and on replay).
 */
export function When(event: DomainEventClass): MethodDecorator {
  return (target, key) => {
    const list =
      (Reflect.getMetadata(PROJECTION_HANDLERS, target.constructor) as
        Array<{ event: DomainEventClass; method: string | symbol }> | undefined) ?? [];
    Reflect.defineMetadata(
      PROJECTION_HANDLERS,
      [...list, { event, method: key }],
      target.constructor,
    );
  };
}
