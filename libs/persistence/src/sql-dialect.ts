import type { DataSource, EntityManager } from 'typeorm';

/** The three SQL flavours the libs write raw SQL for. */
export type SqlDialectName = 'postgres' | 'mysql' | 'sqlite';

/**
 * The small differences between PostgreSQL, MariaDB/MySQL and SQLite that raw SQL in the libs
 * (outbox, inbox, event store) has to care about: placeholders, row locks, insert-if-absent, and
 * rows affected by a write.
 */
export class SqlDialect {
  readonly name: SqlDialectName;

  constructor(dataSource: DataSource) {
    const type = dataSource.options.type;
    if (type === 'postgres') this.name = 'postgres';
    else if (type === 'mysql' || type === 'mariadb') this.name = 'mysql';
    else if (type === 'better-sqlite3') this.name = 'sqlite';
    else
      throw new TypeError(
        `unsupported database type '${type}' (PostgreSQL, MariaDB/MySQL, SQLite)`,
      );
  }

  /** The `i`-th placeholder (1-based): `$i` on PostgreSQL, `?` elsewhere. */
  param(i: number): string {
    return this.name === 'postgres' ? `$${i}` : '?';
  }

  /** `count` placeholders from the `from`-th, comma-separated. */
  params(from: number, count: number): string {
    return Array.from({ length: count }, (_, i) => this.param(from + i)).join(', ');
  }

  /** ` FOR UPDATE` where rows can be locked (empty on SQLite: one writer). */
  get forUpdate(): string {
    return this.name === 'sqlite' ? '' : ' FOR UPDATE';
  }

  /** `INSERT INTO table (columns) VALUES (…)` that does nothing when the key exists. */
  insertIgnore(table: string, columns: readonly string[]): string {
    const values = this.params(1, columns.length);
    const cols = columns.join(', ');
    if (this.name === 'postgres') {
      return `INSERT INTO ${table} (${cols}) VALUES (${values}) ON CONFLICT DO NOTHING`;
    }
    if (this.name === 'mysql') return `INSERT IGNORE INTO ${table} (${cols}) VALUES (${values})`;
    return `INSERT OR IGNORE INTO ${table} (${cols}) VALUES (${values})`;
  }

  /**
   * Runs a write through `manager`'s connection (its transaction, if any) and returns the rows it
   * affected, whatever the driver's result shape.
   */
  async execute(
    dataSource: DataSource,
    manager: EntityManager,
    sql: string,
    parameters: unknown[],
  ): Promise<number> {
    const own = manager.queryRunner ? undefined : dataSource.createQueryRunner();
    const runner = manager.queryRunner ?? own!;
    try {
      const result = (await runner.query(sql, parameters, true)) as { affected?: number };
      return result.affected ?? 0;
    } finally {
      await own?.release();
    }
  }
}
