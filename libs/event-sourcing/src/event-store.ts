import type { DomainEvent } from '@infrastructure/messaging';

/**
 * What the stream's current version must be for an append to succeed:
 * `'any'` (no check), `'no-stream'` (the stream has no event yet), or the exact version (the
 * number of events in the stream, i.e. the version of its last event).
 */
export type ExpectedVersion = 'any' | 'no-stream' | number;

/** An event as stored: the domain event (an instance of its registered class) and its place. */
export interface RecordedEvent<E extends DomainEvent = DomainEvent> {
  event: E;
  streamId: string;
  /** Version within the stream: 1 for the first event. */
  version: number;
  /** Global position across all streams: gap-free, in commit order, 1 for the first event. */
  position: number;
  /** When the store wrote it (epoch ms). */
  recordedAt: number;
}

/** Result of an append. */
export interface AppendResult {
  /** The stream's version after the append (pass it as the next `expectedVersion`). */
  nextExpectedVersion: number;
  /** Global position of the last appended event. */
  lastPosition: number;
}

/** Options of `read`. */
export interface ReadStreamOptions {
  /** First version to return (forward) or the highest (backward). @default 1 / the last */
  fromVersion?: number;
  /** @default 'forward' */
  direction?: 'forward' | 'backward';
  /** @default no limit */
  limit?: number;
}

/** Options of `readAll`. */
export interface ReadAllOptions {
  /** Return events with a position greater than this. @default 0 */
  fromPosition?: number;
  /** @default 1000 */
  limit?: number;
}

/** Retention of one stream; events outside it are not returned by reads. */
export interface StreamMetadata {
  /** Events with a lower version are hidden (and may be deleted by `scavenge`). */
  truncateBefore?: number;
  /** Events older than this (ms, by `recordedAt`) are hidden. */
  maxAgeMs?: number;
}

/** A live subscription to the global stream; `close()` stops it. */
export interface EventStoreSubscription {
  close(): Promise<void>;
}

/**
 * The event store port: append-only streams with optimistic concurrency, a gap-free global order,
 * and subscriptions. Appends inside a unit of work (persistence lib) commit with it.
 */
export abstract class EventStore {
  /**
   * Appends `events` to `streamId` as one atomic write.
   * @throws StreamConcurrencyError when the stream's version is not `expectedVersion`.
   */
  abstract append(
    streamId: string,
    events: readonly DomainEvent[],
    options?: { expectedVersion?: ExpectedVersion },
  ): Promise<AppendResult>;

  /** Events of one stream, upcast to the current schema version of their class. */
  abstract read(streamId: string, options?: ReadStreamOptions): Promise<RecordedEvent[]>;

  /**
   * Events of every stream in global order, never past a position that an unfinished append may
   * still commit (a batch can stop short of `limit` while one is in flight: read again).
   */
  abstract readAll(options?: ReadAllOptions): Promise<RecordedEvent[]>;

  /** The stream's current version (0 when it has no event). */
  abstract version(streamId: string): Promise<number>;

  /**
   * Position of the last committed event of the store (0 when empty). On PostgreSQL appends
   * commit out of order, so a lower position may still be in flight: wait on it (as
   * `ProjectionRunner.caughtUp` does), but do not start a subscription from it and expect every
   * later-committed event; start from a checkpoint instead.
   */
  abstract headPosition(): Promise<number>;

  /** Sets a stream's retention. */
  abstract setStreamMetadata(streamId: string, metadata: StreamMetadata): Promise<void>;

  /** A stream's retention (`{}` when none). */
  abstract streamMetadata(streamId: string): Promise<StreamMetadata>;

  /**
   * Calls `handler` for every event after `fromPosition` in global order, first catching up, then
   * live (woken by appends in this process, and by polling for other processes' appends).
   * The handler's failure stops the subscription (`onError` is called); resume from your checkpoint.
   */
  abstract subscribe(
    fromPosition: number,
    handler: (event: RecordedEvent) => Promise<void> | void,
    options?: { batchSize?: number; pollIntervalMs?: number; onError?: (error: unknown) => void },
  ): EventStoreSubscription;

  /** Resolves on the next append committed by this process (used by live subscriptions). */
  abstract appended(): Promise<void>;
}
