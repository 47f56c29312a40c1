import type { DomainEvent, EventBus } from '@infrastructure/messaging';
import type { UnitOfWork } from '@infrastructure/persistence';
import { isSnapshottable, type AggregateRoot } from './aggregate-root.js';
import type { EventStore } from './event-store.js';
import { SqlSnapshotStore, type SnapshotStore } from './snapshot-store.js';
import { SqlEventStore } from './sql-event-store.js';

/** What repositories need; `EventSourcingModule` provides it as `EventSourcing`. */
export interface EventSourcingParts {
  store: EventStore;
  snapshots: SnapshotStore;
  /** Publishes saved events (through the outbox, in the same transaction). */
  bus?: EventBus;
  /** Runs a save in one transaction (absent on the memory store without persistence). */
  uow?: UnitOfWork;
}

/** Options of an event-sourced repository. */
export interface EventSourcedRepositoryOptions<T extends AggregateRoot> {
  /** Stream id = `<streamPrefix>-<aggregate id>`. */
  streamPrefix: string;
  /** A blank aggregate with this id, before history is applied. */
  create: (id: string) => T;
  /** Take a snapshot when a save crosses a multiple of this version (needs `toSnapshot`/`restoreSnapshot`). @default off */
  snapshotEvery?: number;
  /** Schema version of your snapshot state; snapshots of another version are ignored. @default 1 */
  snapshotSchemaVersion?: number;
  /** Publish saved events on the EventBus (same transaction: the outbox). @default true */
  publish?: boolean;
}

/**
 * Loads aggregates from their stream (latest snapshot of the current schema version, then the
 * events after it) and saves them: appends the uncommitted events with the aggregate's expected
 * version (a concurrent save gets `StreamConcurrencyError`), publishes them through the EventBus
 * and takes a snapshot every `snapshotEvery` events — all in one unit of work.
 *
 * @example
 * @Injectable()
 * export class OrderStreams extends EventSourcedRepository<Order> {
 *   constructor(es: EventSourcing) {
 *     super(es, { streamPrefix: 'order', create: (id) => new Order(id), snapshotEvery: 50 });
 *   }
 * }
 */
export class EventSourcedRepository<T extends AggregateRoot> {
  constructor(
    protected readonly parts: EventSourcingParts,
    protected readonly options: EventSourcedRepositoryOptions<T>,
  ) {}

  /** The stream of one aggregate. */
  streamId(id: string): string {
    return `${this.options.streamPrefix}-${id}`;
  }

  /** The aggregate rebuilt from its stream, or undefined when the stream has no event. */
  async load(id: string, options: { useSnapshot?: boolean } = {}): Promise<T | undefined> {
    const streamId = this.streamId(id);
    const aggregate = this.options.create(id);
    const schemaVersion = this.options.snapshotSchemaVersion ?? 1;
    const snapshots =
      options.useSnapshot !== false && this.options.snapshotEvery && isSnapshottable(aggregate);
    if (
      snapshots &&
      this.parts.store instanceof SqlEventStore &&
      this.parts.snapshots instanceof SqlSnapshotStore
    ) {
      // Same database: snapshot and tail in one round trip.
      const { snapshot, events } = await this.parts.store.readFromSnapshot(streamId, schemaVersion);
      if (snapshot) {
        aggregate.restoreSnapshot(snapshot.state);
        aggregate.restoredAt(snapshot.version);
      }
      aggregate.replay(events);
      return aggregate.version === 0 ? undefined : aggregate;
    }
    let from = 1;
    if (snapshots) {
      const snapshot = await this.parts.snapshots.load(streamId);
      if (snapshot && snapshot.schemaVersion === schemaVersion) {
        aggregate.restoreSnapshot(snapshot.state);
        aggregate.restoredAt(snapshot.version);
        from = snapshot.version + 1;
      }
    }
    const history = await this.parts.store.read(streamId, { fromVersion: from });
    aggregate.replay(history);
    return aggregate.version === 0 ? undefined : aggregate;
  }

  /** Saves the aggregate's uncommitted events (nothing to do when there are none). */
  async save(aggregate: T): Promise<void> {
    const events: readonly DomainEvent[] = aggregate.uncommittedEvents;
    if (events.length === 0) return;
    const before = aggregate.version - events.length;
    const work = async () => {
      await this.parts.store.append(this.streamId(aggregate.id), events, {
        expectedVersion: before === 0 ? 'no-stream' : before,
      });
      if (this.options.publish !== false && this.parts.bus) await this.parts.bus.publish(events);
      const every = this.options.snapshotEvery;
      if (
        every &&
        isSnapshottable(aggregate) &&
        Math.floor(aggregate.version / every) > Math.floor(before / every)
      ) {
        await this.parts.snapshots.save({
          streamId: this.streamId(aggregate.id),
          version: aggregate.version,
          schemaVersion: this.options.snapshotSchemaVersion ?? 1,
          state: aggregate.toSnapshot(),
        });
      }
    };
    if (this.parts.uow) await this.parts.uow.run(work);
    else await work();
    aggregate.markCommitted();
  }
}
