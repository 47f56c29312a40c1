import type { DataSource, EntityManager } from 'typeorm';
import { fromEnvelope, toEnvelope, type DomainEvent } from '@infrastructure/messaging';
import {
  preparedRead,
  runExclusive,
  runStatementBatch,
  SqlDialect,
  supportsPreparedReads,
  type UnitOfWork,
} from '@infrastructure/persistence';
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
  ConcurrentAppends1765300000000,
  CreateEventStore1764400000000,
  EVENTS_TABLE,
  PARKED_TABLE,
  POSITION_SEQUENCE,
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

/** PostgreSQL `readAll` rows: the writer's horizon and the reading snapshot's `xmin`. */
interface PgEventRow extends EventRow {
  horizon: string | null;
  xmin: string;
}

const XID_WRAP = 2n ** 32n;

/**
 * The 64-bit form of a subtransaction's 32-bit xid `sub`, from its parent's 64-bit xid `top`
 * (a subtransaction's xid is assigned after its parent's, less than 2^31 later).
 */
export function subXid8(top: string, sub: string): bigint {
  const parent = BigInt(top);
  return parent + ((BigInt(sub) - (parent % XID_WRAP) + XID_WRAP) % XID_WRAP);
}

/**
 * The event store on the persistence lib's database (SQLite, PostgreSQL, MariaDB). An append runs
 * in the current unit of work (or its own): it locks the stream's row (`SELECT … FOR UPDATE`) and
 * checks the expected version, takes the next global positions, inserts the events (unique
 * `(stream_id, version)` as the last line of defence) and bumps the stream.
 *
 * Positions never let a reader skip an event that commits later:
 * - SQLite and MariaDB take them from the one-row `event_store_sequence`, whose row lock is held
 *   until commit, so positions commit in order (appends to different streams queue on it).
 * - PostgreSQL draws them from a sequence (no lock; positions may commit out of order, and a
 *   rolled-back append leaves a hole) and stores with each row a `horizon`: the xid of a
 *   subtransaction it opens after drawing its positions. Every append holds its own xid before it
 *   draws, so the writer of a missing position (drawn before the next row's) has an xid below the
 *   next row's horizon. `readAll` stops before a hole whose next row's horizon is above its
 *   snapshot's `xmin` (the oldest transaction in flight): once `xmin` reaches it, the hole's writer
 *   has ended, and what it committed is visible in that same snapshot; a rolled-back hole is then
 *   passed for good.
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
      if (this.sql.name === 'postgres' && !(await q.hasColumn(EVENTS_TABLE, 'horizon'))) {
        await new ConcurrentAppends1765300000000().up(q);
      }
    } finally {
      await q.release();
    }
  }

  /** True when the tables exist. */
  async tablesExist(): Promise<boolean> {
    const q = this.dataSource.createQueryRunner();
    try {
      return (
        (await q.hasTable(SEQUENCE_TABLE)) &&
        (await q.hasTable(PARKED_TABLE)) &&
        (this.sql.name !== 'postgres' || (await q.hasColumn(EVENTS_TABLE, 'horizon')))
      );
    } finally {
      await q.release();
    }
  }

  private p(i: number): string {
    return this.sql.param(i);
  }

  /**
   * A read: in the current transaction when there is one; otherwise on PostgreSQL a prepared
   * statement straight on the pool (no query runner: `preparedRead`), and alone on SQLite (its one
   * connection may be inside another unit of work's transaction, whose rows are not committed).
   */
  private select<T>(sql: string, params: unknown[] = []): Promise<T[]> {
    if (this.uow.active) return this.uow.manager.query(sql, params) as Promise<T[]>;
    if (supportsPreparedReads(this.dataSource))
      return preparedRead<T>(this.dataSource, sql, params);
    return runExclusive(this.dataSource, () => this.dataSource.query(sql, params) as Promise<T[]>);
  }

  async append(
    streamId: string,
    events: readonly DomainEvent[],
    options: { expectedVersion?: ExpectedVersion } = {},
  ): Promise<AppendResult> {
    const expected = options.expectedVersion ?? 'any';
    if (typeof expected === 'number' && !Number.isSafeInteger(expected)) {
      throw new TypeError(`expectedVersion must be an integer, 'any' or 'no-stream': ${expected}`);
    }
    return this.uow.run(async () => {
      const m = this.uow.manager;
      if (this.sql.name === 'postgres' && events.length > 0) {
        return this.appendPostgres(m, streamId, events, expected);
      }
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
      await m.query(`UPDATE ${SEQUENCE_TABLE} SET position = position + ? WHERE id = 1`, [
        events.length,
      ]);
      const last = await this.headPositionWith(m);
      const first = last - events.length + 1;
      await this.insertEvents(m, streamId, events, current, (i) => first + i);
      await m.query(`UPDATE ${STREAMS_TABLE} SET version = ? WHERE stream_id = ?`, [
        current + events.length,
        streamId,
      ]);
      await this.uow.afterCommit(() => this.notifyAppended());
      return { nextExpectedVersion: current + events.length, lastPosition: last };
    });
  }

  /**
   * PostgreSQL, in two round trips: one batch of statements (simple protocol, the stream id as an
   * escaped literal) that creates and locks the stream's row and takes the transaction's xid,
   * draws the positions from the sequence when the expected version holds, and bumps the version
   * in a subtransaction whose xid becomes the rows' horizon (assigned after the draw); then the
   * events' insert.
   */
  private async appendPostgres(
    m: EntityManager,
    streamId: string,
    events: readonly DomainEvent[],
    expected: ExpectedVersion,
  ): Promise<AppendResult> {
    const n = events.length;
    const holds =
      expected === 'any' ? 'TRUE' : `version = ${expected === 'no-stream' ? 0 : expected}`;
    const results = await runStatementBatch(m, (literal) => {
      const stream = literal(streamId);
      return `INSERT INTO ${STREAMS_TABLE} (stream_id, version) VALUES (${stream}, 0) ON CONFLICT DO NOTHING;
         SELECT version, pg_current_xact_id() AS xid FROM ${STREAMS_TABLE} WHERE stream_id = ${stream} FOR UPDATE;
         SELECT nextval('${POSITION_SEQUENCE}')::text AS position FROM generate_series(1,
           (SELECT CASE WHEN ${holds} THEN ${n} ELSE 0 END FROM ${STREAMS_TABLE} WHERE stream_id = ${stream}));
         SAVEPOINT event_store_horizon;
         UPDATE ${STREAMS_TABLE} SET version = version + ${n} WHERE stream_id = ${stream} AND ${holds}
           RETURNING xmin::text AS sub, pg_current_xact_id()::text AS top;
         RELEASE SAVEPOINT event_store_horizon`;
    });
    const current = Number((results[1]![0] as { version: number }).version);
    const bumped = results[4]![0] as { sub: string; top: string } | undefined;
    if (!bumped) throw new StreamConcurrencyError(streamId, expected, current);
    const positions = (results[2] as Array<{ position: string }>)
      .map((r) => Number(r.position))
      .sort((a, b) => a - b);
    const horizon = String(subXid8(bumped.top, bumped.sub));
    await this.insertEvents(m, streamId, events, current, (i) => positions[i]!, horizon);
    await this.uow.afterCommit(() => this.notifyAppended());
    return { nextExpectedVersion: current + n, lastPosition: positions[n - 1]! };
  }

  /** One multi-row insert of `events` after `current`, at `position(i)`. */
  private async insertEvents(
    m: EntityManager,
    streamId: string,
    events: readonly DomainEvent[],
    current: number,
    position: (i: number) => number,
    horizon?: string,
  ): Promise<void> {
    const now = Date.now();
    const params: unknown[] = [];
    const width = horizon === undefined ? 7 : 8;
    const rows = events.map((event, i) => {
      const envelope = toEnvelope(event, false);
      const base = params.length;
      params.push(
        position(i),
        streamId,
        current + i + 1,
        envelope.id,
        envelope.type,
        JSON.stringify({ ...envelope, version: current + i + 1 }),
        now,
      );
      if (horizon !== undefined) params.push(horizon);
      return `(${this.sql.params(base + 1, width)})`;
    });
    await m.query(
      `INSERT INTO ${EVENTS_TABLE} (position, stream_id, version, event_id, type, data, recorded_at${horizon === undefined ? '' : ', horizon'}) VALUES ${rows.join(', ')}`,
      params,
    );
  }

  private async headPositionWith(m: { query: DataSource['query'] }): Promise<number> {
    const [row] = (await m.query(this.headSql())) as Array<{ position: number | string | null }>;
    return Number(row?.position ?? 0);
  }

  /** The highest committed position: the sequence row, or on PostgreSQL the highest row. */
  private headSql(): string {
    return this.sql.name === 'postgres'
      ? `SELECT MAX(position) AS position FROM ${EVENTS_TABLE}`
      : `SELECT position FROM ${SEQUENCE_TABLE} WHERE id = 1`;
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
    const from = options.fromPosition ?? 0;
    const limit = Math.trunc(options.limit ?? 1000);
    if (this.sql.name !== 'postgres') {
      const rows = await this.select<EventRow>(
        `SELECT position, stream_id, version, data, recorded_at FROM ${EVENTS_TABLE}
          WHERE position > ? ORDER BY position LIMIT ${limit}`,
        [from],
      );
      return rows.map(toRecorded);
    }
    // One statement, one snapshot: its xmin and the rows it sees.
    const rows = await this.select<PgEventRow>(
      `SELECT position, stream_id, version, data, recorded_at, horizon,
              pg_snapshot_xmin(pg_current_snapshot())::text AS xmin
         FROM ${EVENTS_TABLE} WHERE position > $1 ORDER BY position LIMIT ${limit}`,
      [from],
    );
    return rows.slice(0, settledPrefix(rows, from)).map(toRecorded);
  }

  async version(streamId: string): Promise<number> {
    const [row] = await this.select<{ version: number | string }>(
      `SELECT version FROM ${STREAMS_TABLE} WHERE stream_id = ${this.p(1)}`,
      [streamId],
    );
    return Number(row?.version ?? 0);
  }

  async headPosition(): Promise<number> {
    const [row] = await this.select<{ position: number | string | null }>(this.headSql());
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

/**
 * How many of `rows` (ascending positions after `from`) a reader may pass: up to the first hole
 * whose next row was written while a transaction at or above the snapshot's `xmin` may still hold
 * the missing position. Rows without a horizon were written under the sequence row's lock (before
 * `ConcurrentAppends1765300000000`): no hole before them can fill later.
 */
export function settledPrefix(
  rows: ReadonlyArray<{ position: number | string; horizon: string | null; xmin: string }>,
  from: number,
): number {
  let previous = from;
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    const position = Number(row.position);
    if (
      position !== previous + 1 &&
      row.horizon !== null &&
      BigInt(row.horizon) > BigInt(row.xmin)
    ) {
      return i;
    }
    previous = position;
  }
  return rows.length;
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
