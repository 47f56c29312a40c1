import type { EventBus } from '@infrastructure/messaging';
import type { UnitOfWork } from '@infrastructure/persistence';
import type { EventSourcingParts } from './event-sourced.repository.js';
import type { EventStore } from './event-store.js';
import type { SnapshotStore } from './snapshot-store.js';

/**
 * The event store, snapshot store, EventBus and unit of work, as one injectable: pass it to your
 * `EventSourcedRepository` subclasses.
 */
export class EventSourcing implements EventSourcingParts {
  constructor(
    readonly store: EventStore,
    readonly snapshots: SnapshotStore,
    readonly bus?: EventBus,
    readonly uow?: UnitOfWork,
  ) {}

  /** Runs `fn` in a unit of work (directly on the memory store without persistence). */
  run<T>(fn: () => Promise<T>): Promise<T> {
    return this.uow ? this.uow.run(fn) : fn();
  }
}
