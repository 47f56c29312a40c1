import type { DataSource } from 'typeorm';
import { runExclusive, SqlDialect, type UnitOfWork } from '@infrastructure/persistence';
import { SNAPSHOTS_TABLE } from './event-store.migration.js';

/** A stored snapshot of one stream. */
export interface Snapshot {
  streamId: string;
  /** Stream version the state includes. */
  version: number;
  /** Shape of `state`: a snapshot of another schema version is ignored on load. */
  schemaVersion: number;
  state: unknown;
}

/** Where aggregate snapshots live (one per stream, the latest). */
export abstract class SnapshotStore {
  abstract load(streamId: string): Promise<Snapshot | undefined>;
  abstract save(snapshot: Snapshot): Promise<void>;
}

/** Snapshots in memory (tests, embedded default). */
export class MemorySnapshotStore extends SnapshotStore {
  private readonly snapshots = new Map<string, string>();
  async load(streamId: string): Promise<Snapshot | undefined> {
    const found = this.snapshots.get(streamId);
    return found === undefined ? undefined : (JSON.parse(found) as Snapshot);
  }
  async save(snapshot: Snapshot): Promise<void> {
    this.snapshots.set(snapshot.streamId, JSON.stringify(snapshot));
  }
}

/** Snapshots in `event_store_snapshots` (JSON state), written in the current unit of work. */
export class SqlSnapshotStore extends SnapshotStore {
  private readonly sql: SqlDialect;

  constructor(
    private readonly dataSource: DataSource,
    private readonly uow: UnitOfWork,
  ) {
    super();
    this.sql = new SqlDialect(dataSource);
  }

  async load(streamId: string): Promise<Snapshot | undefined> {
    const query = `SELECT version, schema_version, state FROM ${SNAPSHOTS_TABLE} WHERE stream_id = ${this.sql.param(1)}`;
    const rows = (await (this.uow.active
      ? this.uow.manager.query(query, [streamId])
      : runExclusive(this.dataSource, () => this.dataSource.query(query, [streamId])))) as Array<{
      version: number | string;
      schema_version: number | string;
      state: string;
    }>;
    const row = rows[0];
    if (!row) return undefined;
    return {
      streamId,
      version: Number(row.version),
      schemaVersion: Number(row.schema_version),
      state: JSON.parse(row.state) as unknown,
    };
  }

  async save(snapshot: Snapshot): Promise<void> {
    await this.uow.run(async () => {
      const m = this.uow.manager;
      await m.query(`DELETE FROM ${SNAPSHOTS_TABLE} WHERE stream_id = ${this.sql.param(1)}`, [
        snapshot.streamId,
      ]);
      await m.query(
        `INSERT INTO ${SNAPSHOTS_TABLE} (stream_id, version, schema_version, state, taken_at) VALUES (${this.sql.params(1, 5)})`,
        [
          snapshot.streamId,
          snapshot.version,
          snapshot.schemaVersion,
          JSON.stringify(snapshot.state),
          Date.now(),
        ],
      );
    });
  }
}
