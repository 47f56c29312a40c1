export { EventSourcingModule, EVENT_SOURCING_MODULE_OPTIONS } from './event-sourcing.module.js';
export {
  resolveEventSourcingOptions,
  type EventSourcingOptions,
  type ProjectionFailurePolicy,
  type ResolvedEventSourcingOptions,
} from './event-sourcing.options.js';
export {
  EventStore,
  type AppendResult,
  type EventStoreSubscription,
  type ExpectedVersion,
  type ReadAllOptions,
  type ReadStreamOptions,
  type RecordedEvent,
  type StreamMetadata,
} from './event-store.js';
export { SqlEventStore } from './sql-event-store.js';
export { MemoryEventStore } from './memory-event-store.js';
export {
  MemorySnapshotStore,
  SnapshotStore,
  SqlSnapshotStore,
  type Snapshot,
} from './snapshot-store.js';
export { CheckpointStore, MemoryCheckpointStore, SqlCheckpointStore } from './checkpoint-store.js';
export { AggregateRoot, type Snapshottable } from './aggregate-root.js';
export {
  EventSourcedRepository,
  type EventSourcedRepositoryOptions,
  type EventSourcingParts,
} from './event-sourced.repository.js';
export { EventSourcing } from './event-sourcing.service.js';
export {
  Projection,
  When,
  type ProjectionHandlerFn,
  type ProjectionOptions,
  type ResettableProjection,
} from './projection.decorators.js';
export { ProjectionRunner } from './projection.runner.js';
export {
  MemoryParkedEventStore,
  ParkedEventStore,
  SqlParkedEventStore,
  type ParkedEvent,
} from './parked-event-store.js';
export { ParkedEvents, type ParkedReplayResult } from './parked-events.js';
export { EventSourcingError, StreamConcurrencyError } from './errors.js';
export {
  AddParkedEvents1764900000000,
  ConcurrentAppends1765300000000,
  CreateEventStore1764400000000,
  eventStoreMigrations,
} from './event-store.migration.js';
