import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

export const EVENTS_TABLE = 'event_store_events';
export const STREAMS_TABLE = 'event_store_streams';
export const SEQUENCE_TABLE = 'event_store_sequence';
export const SNAPSHOTS_TABLE = 'event_store_snapshots';
export const CHECKPOINTS_TABLE = 'event_store_checkpoints';
export const PARKED_TABLE = 'event_store_parked';
/** PostgreSQL: the sequence global positions are drawn from (see `ConcurrentAppends1765300000000`). */
export const POSITION_SEQUENCE = 'event_store_position_seq';

/**
 * The event store's tables, portable across SQLite, PostgreSQL and MariaDB:
 * `event_store_events` (global `position` PK, unique `(stream_id, version)`, unique `event_id`),
 * `event_store_streams` (current version and retention per stream), `event_store_sequence` (one
 * row: the last global position on SQLite and MariaDB, where its row lock orders appends so
 * positions commit in order; PostgreSQL moves to a sequence with `ConcurrentAppends1765300000000`),
 * `event_store_snapshots`, `event_store_checkpoints` (projections). Times are epoch milliseconds.
 */
export class CreateEventStore1764400000000 implements MigrationInterface {
  name = 'CreateEventStore1764400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: EVENTS_TABLE,
        columns: [
          { name: 'position', type: 'bigint', isPrimary: true },
          { name: 'stream_id', type: 'varchar', length: '200' },
          { name: 'version', type: 'int' },
          { name: 'event_id', type: 'varchar', length: '64', isUnique: true },
          { name: 'type', type: 'varchar', length: '200' },
          { name: 'data', type: 'text' },
          { name: 'recorded_at', type: 'bigint' },
        ],
        uniques: [{ name: 'uq_event_store_stream_version', columnNames: ['stream_id', 'version'] }],
      }),
      true,
    );
    await q.createTable(
      new Table({
        name: STREAMS_TABLE,
        columns: [
          { name: 'stream_id', type: 'varchar', length: '200', isPrimary: true },
          { name: 'version', type: 'int' },
          { name: 'truncate_before', type: 'int', isNullable: true },
          { name: 'max_age_ms', type: 'bigint', isNullable: true },
        ],
      }),
      true,
    );
    await q.createTable(
      new Table({
        name: SEQUENCE_TABLE,
        columns: [
          { name: 'id', type: 'int', isPrimary: true },
          { name: 'position', type: 'bigint' },
        ],
      }),
      true,
    );
    const [row] = (await q.query(`SELECT COUNT(*) AS n FROM ${SEQUENCE_TABLE}`)) as Array<{
      n: number | string;
    }>;
    if (Number(row?.n ?? 0) === 0) {
      await q.query(`INSERT INTO ${SEQUENCE_TABLE} (id, position) VALUES (1, 0)`);
    }
    await q.createTable(
      new Table({
        name: SNAPSHOTS_TABLE,
        columns: [
          { name: 'stream_id', type: 'varchar', length: '200', isPrimary: true },
          { name: 'version', type: 'int' },
          { name: 'schema_version', type: 'int' },
          { name: 'state', type: 'text' },
          { name: 'taken_at', type: 'bigint' },
        ],
      }),
      true,
    );
    await q.createTable(
      new Table({
        name: CHECKPOINTS_TABLE,
        columns: [
          { name: 'name', type: 'varchar', length: '200', isPrimary: true },
          { name: 'position', type: 'bigint' },
          { name: 'updated_at', type: 'bigint' },
        ],
      }),
      true,
    );
    const events = await q.getTable(EVENTS_TABLE);
    if (!events?.indices.some((i) => i.name === 'idx_event_store_recorded')) {
      await q.createIndex(
        EVENTS_TABLE,
        new TableIndex({ name: 'idx_event_store_recorded', columnNames: ['recorded_at'] }),
      );
    }
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of [
      CHECKPOINTS_TABLE,
      SNAPSHOTS_TABLE,
      SEQUENCE_TABLE,
      STREAMS_TABLE,
      EVENTS_TABLE,
    ]) {
      await q.dropTable(t, true);
    }
  }
}

/**
 * `event_store_parked`: events a projection skipped after its handler kept failing on them
 * (primary key `(projection, position)`), with the last error and the attempts.
 */
export class AddParkedEvents1764900000000 implements MigrationInterface {
  name = 'AddParkedEvents1764900000000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: PARKED_TABLE,
        columns: [
          { name: 'projection', type: 'varchar', length: '200', isPrimary: true },
          { name: 'position', type: 'bigint', isPrimary: true },
          { name: 'event_id', type: 'varchar', length: '64' },
          { name: 'stream_id', type: 'varchar', length: '200' },
          { name: 'type', type: 'varchar', length: '200' },
          { name: 'error', type: 'text' },
          { name: 'attempts', type: 'int' },
          { name: 'parked_at', type: 'bigint' },
        ],
      }),
      true,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable(PARKED_TABLE, true);
  }
}

/**
 * PostgreSQL only (a no-op elsewhere): appends stop queueing on the `event_store_sequence` row.
 * Positions come from the sequence `event_store_position_seq` (started after the highest stored
 * position), and each event row gets a `horizon`: an xid taken after its positions were drawn,
 * above the xid of every transaction that drew an earlier one. Readers use it to tell a
 * gap that may still fill (its writer is in flight) from one that never will (rolled back).
 *
 * Stop the writers of the previous release before running it: an old instance would keep drawing
 * positions from the sequence row, which no longer follows, and its appends would fail on the
 * primary key (nothing is overwritten).
 */
export class ConcurrentAppends1765300000000 implements MigrationInterface {
  name = 'ConcurrentAppends1765300000000';

  async up(q: QueryRunner): Promise<void> {
    if (q.connection.options.type !== 'postgres') return;
    await q.query(
      `CREATE SEQUENCE IF NOT EXISTS ${POSITION_SEQUENCE} AS bigint MINVALUE 1 CACHE 1`,
    );
    await q.query(
      `SELECT setval('${POSITION_SEQUENCE}', GREATEST(m.position, 1), m.position > 0)
         FROM (SELECT GREATEST(
                 COALESCE((SELECT position FROM ${SEQUENCE_TABLE} WHERE id = 1), 0),
                 COALESCE((SELECT MAX(position) FROM ${EVENTS_TABLE}), 0)) AS position) m`,
    );
    await q.query(`ALTER TABLE ${EVENTS_TABLE} ADD COLUMN IF NOT EXISTS horizon bigint`);
  }

  async down(q: QueryRunner): Promise<void> {
    if (q.connection.options.type !== 'postgres') return;
    await q.query(
      `UPDATE ${SEQUENCE_TABLE} SET position = COALESCE((SELECT MAX(position) FROM ${EVENTS_TABLE}), 0) WHERE id = 1`,
    );
    await q.query(`ALTER TABLE ${EVENTS_TABLE} DROP COLUMN IF EXISTS horizon`);
    await q.query(`DROP SEQUENCE IF EXISTS ${POSITION_SEQUENCE}`);
  }
}

/** The event store's migrations, oldest first: spread them into your data source's list. */
export const eventStoreMigrations = [
  CreateEventStore1764400000000,
  AddParkedEvents1764900000000,
  ConcurrentAppends1765300000000,
];
