import type { DataSource, EntityManager } from 'typeorm';
import { runExclusive, SqlDialect } from '@infrastructure/persistence';
import { CHECKPOINTS_TABLE } from './event-store.migration.js';

/** Projection checkpoints: the last global position a projection applied. */
export abstract class CheckpointStore {
  /** Reads (and on SQL, locks until commit) the checkpoint inside the current transaction. */
  abstract lock(name: string): Promise<number>;
  /** Writes the checkpoint inside the current transaction. */
  abstract save(name: string, position: number): Promise<void>;
  /** Reads without locking. */
  abstract peek(name: string): Promise<number>;
  /**
   * Creates the checkpoint if it is missing, outside any transaction (called before a projection's
   * first batch). Nothing to do by default: `lock` creates it.
   */
  ensure(name: string): Promise<void> {
    void name;
    return Promise.resolve();
  }
}

export class MemoryCheckpointStore extends CheckpointStore {
  private readonly positions = new Map<string, number>();
  async lock(name: string): Promise<number> {
    return this.positions.get(name) ?? 0;
  }
  async save(name: string, position: number): Promise<void> {
    this.positions.set(name, position);
  }
  async peek(name: string): Promise<number> {
    return this.positions.get(name) ?? 0;
  }
}

/** Checkpoints in `event_store_checkpoints`; `lock` takes the row lock that serialises instances. */
export class SqlCheckpointStore extends CheckpointStore {
  private readonly sql: SqlDialect;

  constructor(
    private readonly dataSource: DataSource,
    private readonly manager: () => EntityManager,
  ) {
    super();
    this.sql = new SqlDialect(dataSource);
  }

  /**
   * Locks the existing row first and creates it only when it is missing: an `INSERT IGNORE` of a
   * row that exists takes a shared lock on MariaDB/MySQL, and two instances holding it that both
   * then ask `FOR UPDATE` deadlock (one batch rolled back each time, an error in the log).
   */
  async lock(name: string): Promise<number> {
    const m = this.manager();
    const select = `SELECT position FROM ${CHECKPOINTS_TABLE} WHERE name = ${this.sql.param(1)}${this.sql.forUpdate}`;
    let [row] = (await m.query(select, [name])) as Array<{ position: number | string }>;
    if (!row) {
      await this.sql.execute(
        this.dataSource,
        m,
        this.sql.insertIgnore(CHECKPOINTS_TABLE, ['name', 'position', 'updated_at']),
        [name, 0, Date.now()],
      );
      [row] = (await m.query(select, [name])) as Array<{ position: number | string }>;
    }
    return Number(row?.position ?? 0);
  }

  /**
   * The row, created on its own (autocommit, no lock kept) before the first batch: two instances
   * whose first batches both find it missing inside their transactions each hold a gap lock from
   * `FOR UPDATE` on MariaDB/MySQL, and their inserts into that gap deadlock (one batch rolled back,
   * an error line at boot).
   */
  override async ensure(name: string): Promise<void> {
    await runExclusive(this.dataSource, () =>
      this.sql.execute(
        this.dataSource,
        this.dataSource.manager,
        this.sql.insertIgnore(CHECKPOINTS_TABLE, ['name', 'position', 'updated_at']),
        [name, 0, Date.now()],
      ),
    );
  }

  async save(name: string, position: number): Promise<void> {
    await this.manager().query(
      `UPDATE ${CHECKPOINTS_TABLE} SET position = ${this.sql.param(1)}, updated_at = ${this.sql.param(2)} WHERE name = ${this.sql.param(3)}`,
      [position, Date.now(), name],
    );
  }

  async peek(name: string): Promise<number> {
    const [row] = (await this.dataSource.query(
      `SELECT position FROM ${CHECKPOINTS_TABLE} WHERE name = ${this.sql.param(1)}`,
      [name],
    )) as Array<{ position: number | string }>;
    return Number(row?.position ?? 0);
  }
}
