import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

export const EVENTS_TABLE = 'event_store_events';
export const STREAMS_TABLE = 'event_store_streams';
export const SEQUENCE_TABLE = 'event_store_sequence';
export const SNAPSHOTS_TABLE = 'event_store_snapshots';
export const CHECKPOINTS_TABLE = 'event_store_checkpoints';
export const PARKED_TABLE = 'event_store_parked';

/**
 * The event store's tables, portable across SQLite, PostgreSQL and MariaDB:
 * `event_store_events` (global `position` PK, unique `(stream_id, version)`, unique `event_id`),
 * `event_store_streams` (current version and retention per stream), `event_store_sequence` (one
 * row: the last global position; its row lock orders appends so positions commit in order),
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

/** The event store's migrations, oldest first: spread them into your data source's list. */
export const eventStoreMigrations = [CreateEventStore1764400000000, AddParkedEvents1764900000000];
