import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EntitySchema, MixedList } from 'typeorm';
import { DataSource } from 'typeorm';
import {
  connectDataSource,
  parseDatabaseUrl,
  resolvePersistenceOptions,
  type PersistenceOptions,
} from '@infrastructure/persistence';

/** Options of {@link TestDatabase.create}. */
export interface TestDatabaseOptions {
  /** Server to make the throwaway database on. @default process.env.TEST_DATABASE_URL ?? a temp SQLite file */
  url?: string;
  entities?: MixedList<Function | string | EntitySchema>;
  migrations?: MixedList<Function | string>;
  /** Create tables from entities (else run `migrations`). @default true when no migrations are given */
  synchronize?: boolean;
}

const uniqueName = () => `t_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;

/**
 * A throwaway real database for one test file: a fresh schema on PostgreSQL, a fresh database on
 * MariaDB/MySQL, a temp file on SQLite. Tables come from `synchronize` or the migrations.
 * Dropped on `destroy()` (or at the end of an `await using` block), even when a test failed.
 *
 * @example
 * await using db = await TestDatabase.create({ url: 'postgres://postgres@127.0.0.1/test', entities: [Order] });
 * const app = await createTestApp({ imports: [PersistenceModule.forRoot(db.moduleOptions())] });
 */
export class TestDatabase implements AsyncDisposable {
  private destroyed = false;

  private constructor(
    /** URL of the throwaway database (use it as DATABASE_URL). */
    readonly url: string,
    /** A connection to it, tables created. */
    readonly dataSource: DataSource,
    private readonly options: TestDatabaseOptions,
    private readonly drop: () => Promise<void>,
  ) {}

  static async create(options: TestDatabaseOptions = {}): Promise<TestDatabase> {
    const base = options.url ?? process.env.TEST_DATABASE_URL ?? 'sqlite:';
    const name = uniqueName();
    let url: string;
    let drop: () => Promise<void>;
    if (base === 'sqlite:' || base.startsWith('sqlite:')) {
      const file = join(tmpdir(), `${name}.db`);
      url = `sqlite:${file}`;
      drop = async () => {
        for (const suffix of ['', '-wal', '-shm']) rmSync(`${file}${suffix}`, { force: true });
      };
    } else {
      const target = parseDatabaseUrl(base);
      const admin = await connectDataSource(
        resolvePersistenceOptions({ url: base, connectRetry: { attempts: 1 } }),
      );
      try {
        if (target.kind === 'postgres') {
          await admin.query(`CREATE SCHEMA "${name}"`);
          const u = new URL(base);
          u.searchParams.set('schema', name);
          url = u.toString();
          drop = () => dropWith(base, `DROP SCHEMA IF EXISTS "${name}" CASCADE`);
        } else {
          await admin.query(`CREATE DATABASE \`${name}\``);
          const u = new URL(base);
          u.pathname = `/${name}`;
          url = u.toString();
          drop = () => dropWith(base, `DROP DATABASE IF EXISTS \`${name}\``);
        }
      } finally {
        await admin.destroy();
      }
    }
    const synchronize = options.synchronize ?? !options.migrations;
    let dataSource: DataSource;
    try {
      dataSource = await connectDataSource(
        resolvePersistenceOptions({
          url,
          entities: options.entities,
          migrations: options.migrations,
          synchronize,
          connectRetry: { attempts: 1 },
          pool: { max: 4 },
        }),
      );
      if (!synchronize) await dataSource.runMigrations();
    } catch (error) {
      await drop();
      throw error;
    }
    return new TestDatabase(url, dataSource, options, drop);
  }

  /** Options for `PersistenceModule.forRoot(...)` pointing at this database (no synchronize: tables exist). */
  moduleOptions(extra: Partial<PersistenceOptions> = {}): PersistenceOptions {
    return {
      url: this.url,
      entities: this.options.entities,
      migrations: this.options.migrations,
      pool: { max: 4 },
      connectRetry: { attempts: 1 },
      ...extra,
    };
  }

  /** Empties every entity table (between tests). */
  async truncateAll(): Promise<void> {
    const ds = this.dataSource;
    const tables = ds.entityMetadatas.map((m) => m.tablePath);
    if (tables.length === 0) return;
    switch (ds.options.type) {
      case 'postgres':
        await ds.query(
          `TRUNCATE ${tables.map((t) => `"${t.split('.').join('"."')}"`).join(', ')} RESTART IDENTITY CASCADE`,
        );
        break;
      case 'mysql':
      case 'mariadb':
        await ds.transaction(async (m) => {
          await m.query('SET FOREIGN_KEY_CHECKS = 0');
          for (const t of tables) await m.query(`TRUNCATE TABLE \`${t}\``);
          await m.query('SET FOREIGN_KEY_CHECKS = 1');
        });
        break;
      default:
        await ds.query('PRAGMA foreign_keys = OFF');
        for (const t of tables) await ds.query(`DELETE FROM "${t}"`);
        await ds.query('PRAGMA foreign_keys = ON');
    }
  }

  /** Closes the connection and drops the database. Safe to call twice. */
  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    try {
      if (this.dataSource.isInitialized) await this.dataSource.destroy();
    } finally {
      await this.drop();
    }
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.destroy();
  }
}

async function dropWith(adminUrl: string, sql: string): Promise<void> {
  const admin = await connectDataSource(
    resolvePersistenceOptions({ url: adminUrl, connectRetry: { attempts: 1 } }),
  );
  try {
    await admin.query(sql);
  } finally {
    await admin.destroy();
  }
}

/** Inserts fixtures: `await seed(db, { Account: [{ id: 'a', balance: 10 }] })` (entity name → rows). */
export async function seed(
  db: TestDatabase,
  fixtures: Record<string, Array<Record<string, unknown>>>,
): Promise<void> {
  await db.dataSource.transaction(async (manager) => {
    for (const [entity, rows] of Object.entries(fixtures)) {
      if (rows.length) await manager.getRepository(entity).insert(rows);
    }
  });
}
