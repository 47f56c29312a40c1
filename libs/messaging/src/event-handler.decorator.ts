import type { DomainEventClass } from './domain-event.js';

/** Retry policy of a handler: `attempts` in total (first try included), exponential backoff with jitter. */
export interface RetryPolicy {
  /** @default 3 */
  attempts?: number;
  /** First delay. @default 100 */
  initialDelayMs?: number;
  /** Longest delay. @default 10000 */
  maxDelayMs?: number;
}

/** Options of `@EventHandler`. */
export interface EventHandlerOptions {
  /** Consumer group: each group gets every event once. @default `<serviceName>.<Class>.<method>` */
  group?: string;
  /** @default the module's retry policy */
  retry?: RetryPolicy;
  /** Deliveries of this group handled at once (broker prefetch). @default the module's `prefetch` */
  concurrency?: number;
  /**
   * `false`: this handler runs without the idempotent inbox (no transaction around it, no
   * `inbox_messages` row): for handlers that are idempotent on their own or only call out (HTTP,
   * mail) and must not hold a database transaction open meanwhile. Redeliveries then reach it
   * again. @default true when the module's inbox is on
   */
  inbox?: boolean;
}

export const EVENT_HANDLER = Symbol.for('infrastructure.messaging.eventHandler');

/** Metadata stored by `@EventHandler`. */
export interface EventHandlerMetadata {
  event: DomainEventClass;
  options: EventHandlerOptions;
}

/**
 * Marks a provider method as a handler of an event class; discovered at boot. Several handlers
 * may take the same event; each consumer group gets every event once. A handler that throws is
 * retried with backoff, then dead-lettered.
 *
 * @example
 * @EventHandler(OrderPlaced, { group: 'order-summaries' })
 * async project(event: OrderPlaced) { ... }
 */
export function EventHandler(
  event: DomainEventClass,
  options: EventHandlerOptions = {},
): MethodDecorator {
  return (target, key) => {
    const list =
      (Reflect.getMetadata(EVENT_HANDLER, target, key) as EventHandlerMetadata[] | undefined) ?? [];
    Reflect.defineMetadata(EVENT_HANDLER, [...list, { event, options }], target, key);
  };
}
