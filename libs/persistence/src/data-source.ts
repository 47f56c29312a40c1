import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { loadDriver } from '@infrastructure/core';
import { parseDatabaseUrl, type DatabaseTarget } from './database-url.js';
import { SlowQueryLogger } from './instrumentation.js';
import { DatabaseUnavailableError } from './errors.js';
import type { ResolvedPersistenceOptions } from './persistence.options.js';

/** TypeORM options for a target, with pool, timeouts and SQLite pragmas set. */
export function dataSourceOptions(
  target: DatabaseTarget,
  o: ResolvedPersistenceOptions,
  name?: string,
): DataSourceOptions {
  const common = {
    name,
    entities: o.entities,
    migrations: o.migrations,
    migrationsRun: false, // run by us, under an advisory lock, after connecting
    synchronize: o.synchronize,
    logging: false as const,
    logger: new SlowQueryLogger(name ?? 'default'),
    maxQueryExecutionTime: o.slowQueryMs,
  };
  switch (target.type) {
    case 'better-sqlite3':
      return {
        ...common,
        type: 'better-sqlite3',
        database: target.file!,
        enableWAL: target.file !== ':memory:',
        timeout: o.sqliteBusyTimeoutMs,
        prepareDatabase: (db: { pragma(sql: string): unknown }) => {
          db.pragma('foreign_keys = ON');
          db.pragma(`busy_timeout = ${o.sqliteBusyTimeoutMs}`);
        },
      };
    case 'postgres':
      return {
        ...common,
        type: 'postgres',
        url: target.url,
        schema: target.schema,
        poolSize: o.pool.max,
        connectTimeoutMS: o.pool.acquireTimeoutMs,
        extra: {
          max: o.pool.max,
          idleTimeoutMillis: o.pool.idleTimeoutMs,
          connectionTimeoutMillis: o.pool.acquireTimeoutMs,
          statement_timeout: o.pool.statementTimeoutMs,
          application_name: process.env.SERVICE_NAME ?? 'nest-app',
          ...(target.schema ? { options: `-c search_path=${target.schema}` } : {}),
        },
      };
    case 'mysql':
    case 'mariadb':
      return {
        ...common,
        type: target.type,
        url: target.url,
        poolSize: o.pool.max,
        connectTimeout: o.pool.acquireTimeoutMs,
        extra: {
          connectionLimit: o.pool.max,
          idleTimeout: o.pool.idleTimeoutMs,
          maxIdle: o.pool.max,
        },
      } as DataSourceOptions;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Creates and initialises a DataSource: checks the driver is installed, creates the SQLite
 * folder, retries with exponential backoff, then fails naming `host:port` (never the password).
 */
export async function connectDataSource(
  options: ResolvedPersistenceOptions,
  name?: string,
  onRetry?: (attempt: number, delayMs: number, error: unknown) => void,
): Promise<DataSource> {
  const target = parseDatabaseUrl(options.url);
  await loadDriver(target.driver, `PersistenceModule (DATABASE_URL ${target.kind})`);
  if (target.file && target.file !== ':memory:')
    mkdirSync(dirname(target.file), { recursive: true });
  const { attempts, initialDelayMs, maxDelayMs } = options.connectRetry;
  let delay = initialDelayMs;
  let lastError: unknown;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const dataSource = new DataSource(dataSourceOptions(target, options, name));
    try {
      return await dataSource.initialize();
    } catch (error) {
      lastError = error;
      if (dataSource.isInitialized) await dataSource.destroy().catch(() => undefined);
      if (attempt < attempts) {
        onRetry?.(attempt, delay, error);
        await sleep(delay);
        delay = Math.min(delay * 2, maxDelayMs);
      }
    }
  }
  const reason = lastError instanceof Error ? lastError.message : String(lastError);
  throw new DatabaseUnavailableError(
    `cannot connect to ${target.kind} at ${target.address} (database "${target.database}") after ${attempts} attempt(s): ${reason.replace(/:\/\/[^@\s]*@/g, '://***@')}`,
  );
}
