import type { DomainEvent } from './domain-event.js';

/** Options of one publish. */
export interface PublishOptions {
  /** Extra headers to send with the messages. */
  headers?: Record<string, string>;
}

/**
 * The port domain and application code publish through. Inside a unit of work the events leave
 * only after the transaction commits; a rollback publishes nothing.
 * Replace it in tests: `overrideProvider(EventBus).useValue(new MockEventBus())`.
 */
export abstract class EventBus {
  abstract publish(
    events: DomainEvent | readonly DomainEvent[],
    options?: PublishOptions,
  ): Promise<void>;
}
