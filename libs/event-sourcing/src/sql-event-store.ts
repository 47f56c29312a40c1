import type { DataSource } from 'typeorm';
import { fromEnvelope, toEnvelope, type DomainEvent } from '@infrastructure/messaging';
import { runExclusive, SqlDialect, type UnitOfWork } from '@infrastructure/persistence';
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
import {
  AddParkedEvents1764900000000,
  CreateEventStore1764400000000,
  EVENTS_TABLE,
  PARKED_TABLE,
  SEQUENCE_TABLE,
  SNAPSHOTS_TABLE,
  STREAMS_TABLE,
} from './event-store.migration.js';

interface EventRow {
  position: number | string;
  stream_id: string;
  version: number | string;
  data: string;
  recorded_at: number | string;
}

/**
 * The event store on the persistence lib's database (SQLite, PostgreSQL, MariaDB). An append runs
 * in the current unit of work (or its own): it locks the stream's row (`SELECT … FOR UPDATE`) and
 * checks the expected version, takes the next global positions from the one-row sequence (whose
 * row lock makes positions commit in order, so readers never see a gap that fills later), inserts
 * the events (unique `(stream_id, version)` as the last line of defence) and bumps the stream.
 */
export class SqlEventStore extends BaseEventStore {
  private readonly sql: SqlDialect;

  constructor(
    private readonly dataSource: DataSource,
    private readonly uow: UnitOfWork,
  ) {
    super();
    this.sql = new SqlDialect(dataSource);
  }

  /** Creates the tables when they are missing. */
  async ensureTables(): Promise<void> {
    const q = this.dataSource.createQueryRunner();
    try {
      if (!(await q.hasTable(SEQUENCE_TABLE))) await new CreateEventStore1764400000000().up(q);
      if (!(await q.hasTable(PARKED_TABLE))) await new AddParkedEvents1764900000000().up(q);
    } finally {
      await q.release();
    }
  }

  /** True when the tables exist. */
  async tablesExist(): Promise<boolean> {
    const q = this.dataSource.createQueryRunner();
    try {
      return (await q.hasTable(SEQUENCE_TABLE)) && (await q.hasTable(PARKED_TABLE));
    } finally {
      await q.release();
    }
  }

  private p(i: number): string {
    return this.sql.param(i);
  }

  /**
   * A read: in the current transaction when there is one; otherwise alone on SQLite (its one
   * connection may be inside another unit of work's transaction, whose rows are not committed).
   */
  private select<T>(sql: string, params: unknown[] = []): Promise<T[]> {
    if (this.uow.active) return this.uow.manager.query(sql, params) as Promise<T[]>;
    return runExclusive(this.dataSource, () => this.dataSource.query(sql, params) as Promise<T[]>);
  }

  async append(
    streamId: string,
    events: readonly DomainEvent[],
    options: { expectedVersion?: ExpectedVersion } = {},
  ): Promise<AppendResult> {
    const expected = options.expectedVersion ?? 'any';
    const result = await this.uow.run(async () => {
      const m = this.uow.manager;
      // The stream's row, created if absent, then locked: concurrent appends to it queue here.
      await this.sql.execute(
        this.dataSource,
        m,
        this.sql.insertIgnore(STREAMS_TABLE, ['stream_id', 'version']),
        [streamId, 0],
      );
      const [stream] = (await m.query(
        `SELECT version FROM ${STREAMS_TABLE} WHERE stream_id = ${this.p(1)}${this.sql.forUpdate}`,
        [streamId],
      )) as Array<{ version: number | string }>;
      const current = Number(stream?.version ?? 0);
      if (
        (expected === 'no-stream' && current !== 0) ||
        (typeof expected === 'number' && expected !== current)
      ) {
        throw new StreamConcurrencyError(streamId, expected, current);
      }
      if (events.length === 0) {
        const head = await this.headPositionWith(m);
        return { nextExpectedVersion: current, lastPosition: head };
      }
      // Global positions: the sequence row's lock is held until commit, so positions commit in order.
      await m.query(
        `UPDATE ${SEQUENCE_TABLE} SET position = position + ${this.p(1)} WHERE id = 1`,
        [events.length],
      );
      const last = await this.headPositionWith(m);
      const first = last - events.length + 1;
      const now = Date.now();
      const params: unknown[] = [];
      const rows = events.map((event, i) => {
        const envelope = toEnvelope(event, false);
        const base = params.length;
        params.push(
          first + i,
          streamId,
          current + i + 1,
          envelope.id,
          envelope.type,
          JSON.stringify({ ...envelope, version: current + i + 1 }),
          now,
        );
        return `(${this.sql.params(base + 1, 7)})`;
      });
      await m.query(
        `INSERT INTO ${EVENTS_TABLE} (position, stream_id, version, event_id, type, data, recorded_at) VALUES ${rows.join(', ')}`,
        params,
      );
      await m.query(
        `UPDATE ${STREAMS_TABLE} SET version = ${this.p(1)} WHERE stream_id = ${this.p(2)}`,
        [current + events.length, streamId],
      );
      await this.uow.afterCommit(() => this.notifyAppended());
      return { nextExpectedVersion: current + events.length, lastPosition: last };
    });
    return result;
  }

  private async headPositionWith(m: { query: DataSource['query'] }): Promise<number> {
    const [row] = (await m.query(`SELECT position FROM ${SEQUENCE_TABLE} WHERE id = 1`)) as Array<{
      position: number | string;
    }>;
    return Number(row?.position ?? 0);
  }

  async read(streamId: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    const backward = options.direction === 'backward';
    // One round trip: the stream's retention is applied by joining its row, not read first.
    const params: unknown[] = [streamId, backward ? 1 : (options.fromVersion ?? 1), Date.now()];
    let where = `e.stream_id = ${this.p(1)} AND e.version >= ${this.p(2)}
        AND (s.truncate_before IS NULL OR e.version >= s.truncate_before)
        AND (s.max_age_ms IS NULL OR e.recorded_at >= ${this.p(3)} - s.max_age_ms)`;
    if (backward && options.fromVersion !== undefined) {
      params.push(options.fromVersion);
      where += ` AND e.version <= ${this.p(params.length)}`;
    }
    const limit = options.limit ? ` LIMIT ${Math.trunc(options.limit)}` : '';
    const rows = await this.select<EventRow>(
      `SELECT e.position, e.stream_id, e.version, e.data, e.recorded_at
         FROM ${EVENTS_TABLE} e LEFT JOIN ${STREAMS_TABLE} s ON s.stream_id = e.stream_id
        WHERE ${where} ORDER BY e.version ${backward ? 'DESC' : 'ASC'}${limit}`,
      params,
    );
    return rows.map(toRecorded);
  }

  /**
   * The latest snapshot of `schemaVersion` (if any) and the stream's events after it, in one
   * round trip (`UNION ALL`): what `EventSourcedRepository.load` needs with SQL snapshots.
   */
  async readFromSnapshot(
    streamId: string,
    schemaVersion: number,
  ): Promise<{ snapshot?: { version: number; state: unknown }; events: RecordedEvent[] }> {
    const p = (i: number) => this.p(i);
    const rows = await this.select<EventRow & { kind: number | string }>(
      `SELECT 0 AS kind, sn.version AS version, sn.state AS data, 0 AS position,
              sn.taken_at AS recorded_at, sn.stream_id AS stream_id
         FROM ${SNAPSHOTS_TABLE} sn WHERE sn.stream_id = ${p(1)} AND sn.schema_version = ${p(2)}
       UNION ALL
       SELECT 1, e.version, e.data, e.position, e.recorded_at, e.stream_id
         FROM ${EVENTS_TABLE} e LEFT JOIN ${STREAMS_TABLE} s ON s.stream_id = e.stream_id
        WHERE e.stream_id = ${p(3)}
          AND e.version > COALESCE((SELECT sn2.version FROM ${SNAPSHOTS_TABLE} sn2
                                     WHERE sn2.stream_id = ${p(4)} AND sn2.schema_version = ${p(5)}), 0)
          AND (s.truncate_before IS NULL OR e.version >= s.truncate_before)
          AND (s.max_age_ms IS NULL OR e.recorded_at >= ${p(6)} - s.max_age_ms)
        ORDER BY kind, version`,
      [streamId, schemaVersion, streamId, streamId, schemaVersion, Date.now()],
    );
    const first = rows[0];
    const snapshot =
      first && Number(first.kind) === 0
        ? { version: Number(first.version), state: JSON.parse(first.data) as unknown }
        : undefined;
    return {
      ...(snapshot ? { snapshot } : {}),
      events: rows.filter((r) => Number(r.kind) === 1).map(toRecorded),
    };
  }

  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    const rows = await this.select<EventRow>(
      `SELECT position, stream_id, version, data, recorded_at FROM ${EVENTS_TABLE}
        WHERE position > ${this.p(1)} ORDER BY position LIMIT ${Math.trunc(options.limit ?? 1000)}`,
      [options.fromPosition ?? 0],
    );
    return rows.map(toRecorded);
  }

  async version(streamId: string): Promise<number> {
    const [row] = await this.select<{ version: number | string }>(
      `SELECT version FROM ${STREAMS_TABLE} WHERE stream_id = ${this.p(1)}`,
      [streamId],
    );
    return Number(row?.version ?? 0);
  }

  async headPosition(): Promise<number> {
    const [row] = await this.select<{ position: number | string }>(
      `SELECT position FROM ${SEQUENCE_TABLE} WHERE id = 1`,
    );
    return Number(row?.position ?? 0);
  }

  async setStreamMetadata(streamId: string, metadata: StreamMetadata): Promise<void> {
    await this.uow.run(async () => {
      const m = this.uow.manager;
      await this.sql.execute(
        this.dataSource,
        m,
        this.sql.insertIgnore(STREAMS_TABLE, ['stream_id', 'version']),
        [streamId, 0],
      );
      await m.query(
        `UPDATE ${STREAMS_TABLE} SET truncate_before = ${this.p(1)}, max_age_ms = ${this.p(2)} WHERE stream_id = ${this.p(3)}`,
        [metadata.truncateBefore ?? null, metadata.maxAgeMs ?? null, streamId],
      );
    });
  }

  async streamMetadata(streamId: string): Promise<StreamMetadata> {
    const [row] = await this.select<{
      truncate_before: number | string | null;
      max_age_ms: number | string | null;
    }>(`SELECT truncate_before, max_age_ms FROM ${STREAMS_TABLE} WHERE stream_id = ${this.p(1)}`, [
      streamId,
    ]);
    return {
      ...(row?.truncate_before != null ? { truncateBefore: Number(row.truncate_before) } : {}),
      ...(row?.max_age_ms != null ? { maxAgeMs: Number(row.max_age_ms) } : {}),
    };
  }
}

function toRecorded(row: EventRow): RecordedEvent {
  return {
    event: fromEnvelope(JSON.parse(row.data) as unknown),
    streamId: row.stream_id,
    version: Number(row.version),
    position: Number(row.position),
    recordedAt: Number(row.recorded_at),
  };
}
