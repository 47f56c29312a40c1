import { fromEnvelope, toEnvelope, type DomainEvent } from '@infrastructure/messaging';
import { StreamConcurrencyError } from './errors.js';
import type {
  AppendResult,
  ExpectedVersion,
  ReadAllOptions,
  ReadStreamOptions,
  RecordedEvent,
  StreamMetadata,
} from './event-store.js';
import { BaseEventStore } from './event-store.base.js';

interface Stored {
  streamId: string;
  version: number;
  position: number;
  recordedAt: number;
  /** The envelope as JSON: reads rebuild (and upcast) instances like the SQL store does. */
  data: string;
}

/**
 * In-process event store with the SQL store's semantics (versions, global positions, retention,
 * upcasting on read). Nothing survives a restart: for tests and the embedded default.
 */
export class MemoryEventStore extends BaseEventStore {
  private readonly all: Stored[] = [];
  private readonly streams = new Map<string, { events: Stored[]; metadata: StreamMetadata }>();

  async append(
    streamId: string,
    events: readonly DomainEvent[],
    options: { expectedVersion?: ExpectedVersion } = {},
  ): Promise<AppendResult> {
    const expected = options.expectedVersion ?? 'any';
    let stream = this.streams.get(streamId);
    const current = stream?.events.length ?? 0;
    if (
      (expected === 'no-stream' && current !== 0) ||
      (typeof expected === 'number' && expected !== current)
    ) {
      throw new StreamConcurrencyError(streamId, expected, current);
    }
    if (!stream) this.streams.set(streamId, (stream = { events: [], metadata: {} }));
    const now = Date.now();
    for (const [i, event] of events.entries()) {
      const version = current + i + 1;
      const stored: Stored = {
        streamId,
        version,
        position: this.all.length + 1,
        recordedAt: now,
        data: JSON.stringify({ ...toEnvelope(event, false), version }),
      };
      this.all.push(stored);
      stream.events.push(stored);
    }
    if (events.length > 0) queueMicrotask(() => this.notifyAppended());
    return { nextExpectedVersion: stream.events.length, lastPosition: this.all.length };
  }

  async read(streamId: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    const stream = this.streams.get(streamId);
    if (!stream) return [];
    const { truncateBefore = 1, maxAgeMs } = stream.metadata;
    const oldest = maxAgeMs === undefined ? 0 : Date.now() - maxAgeMs;
    let events = stream.events.filter((e) => e.version >= truncateBefore && e.recordedAt >= oldest);
    if (options.direction === 'backward') {
      events = events.filter((e) => e.version <= (options.fromVersion ?? Infinity)).toReversed();
    } else {
      events = events.filter((e) => e.version >= (options.fromVersion ?? 1));
    }
    return events.slice(0, options.limit ?? events.length).map(toRecorded);
  }

  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    const from = options.fromPosition ?? 0;
    return this.all.slice(from, from + (options.limit ?? 1000)).map(toRecorded);
  }

  async version(streamId: string): Promise<number> {
    return this.streams.get(streamId)?.events.length ?? 0;
  }

  async headPosition(): Promise<number> {
    return this.all.length;
  }

  async setStreamMetadata(streamId: string, metadata: StreamMetadata): Promise<void> {
    let stream = this.streams.get(streamId);
    if (!stream) this.streams.set(streamId, (stream = { events: [], metadata: {} }));
    stream.metadata = { ...metadata };
  }

  async streamMetadata(streamId: string): Promise<StreamMetadata> {
    return { ...this.streams.get(streamId)?.metadata };
  }
}

function toRecorded(s: Stored): RecordedEvent {
  return {
    event: fromEnvelope(JSON.parse(s.data) as unknown),
    streamId: s.streamId,
    version: s.version,
    position: s.position,
    recordedAt: s.recordedAt,
  };
}
