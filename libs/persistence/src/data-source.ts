import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { Logger } from '@nestjs/common';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { loadDriver } from '@infrastructure/core';
import { parseDatabaseUrl, type DatabaseTarget } from './database-url.js';
import { SlowQueryLogger } from './instrumentation.js';
import { withoutStatementNames } from './prepared-read.js';
import { DatabaseUnavailableError, PersistenceConfigError } from './errors.js';
import type { ResolvedPersistenceOptions } from './persistence.options.js';

const clientLog = new Logger('Persistence');

/**
 * pg-pool's `onConnect`: gives every new PostgreSQL client an `error` listener of its own for its
 * whole life. pg-pool drops its idle listener when it hands a client out, and TypeORM attaches its
 * own one a microtask later; an error arriving in between (a backend terminated right after it
 * authenticated: its ReadyForQuery and the FATAL come in one read) was emitted with no listener
 * and crashed the process (uncaughtException). The error itself still fails the client's queries
 * (→ 503) and removes it from the pool; this only keeps it from being thrown.
 */
function keepClientErrorsHandled(client: {
  on(event: 'error', listener: (error: Error) => void): unknown;
}): void {
  client.on('error', (error) => clientLog.debug(`PostgreSQL connection error: ${error.message}`));
}

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
    case 'postgres': {
      const secret = o.password;
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
          onConnect: keepClientErrorsHandled,
          ...(target.schema ? { options: searchPathOption(target.schema) } : {}),
          // A password from a secret: pg calls the function for every new connection. pg lets
          // a connection string win over separate fields (its empty password included), so
          // the URL is handed over as fields.
          ...(secret
            ? {
                ...connectionFields(target.url!),
                password: () => {
                  const value = secret.secrets.get(secret.name)?.reveal();
                  if (value === undefined) {
                    throw new Error(`database password secret ${secret.name} not found`);
                  }
                  return value;
                },
              }
            : {}),
        },
      };
    }
    case 'mysql':
    case 'mariadb': {
      const extra: Record<string, unknown> = {
        connectionLimit: o.pool.max,
        idleTimeout: o.pool.idleTimeoutMs,
        maxIdle: o.pool.max,
      };
      const secret = o.password;
      if (secret) {
        // mysql2 takes no password function: TypeORM copies `extra` over the URL's fields each
        // time it builds a pool, so a getter hands each new pool (boot, replaceConnectionPool)
        // the secret's value of the moment.
        Object.defineProperty(extra, 'password', {
          enumerable: true,
          get: () => {
            const value = secret.secrets.get(secret.name)?.reveal();
            if (value === undefined) {
              throw new Error(`database password secret ${secret.name} not found`);
            }
            return value;
          },
        });
      }
      return {
        ...common,
        type: target.type,
        url: target.url,
        poolSize: o.pool.max,
        connectTimeout: o.pool.acquireTimeoutMs,
        extra,
      } as DataSourceOptions;
    }
  }
}

/**
 * A PostgreSQL `?schema=` must exist before anything uses it (the search_path, TypeORM's
 * migrations table). When the app owns the schema (migrations or synchronize at boot) it is
 * created; otherwise a missing one is a configuration problem naming `DATABASE_URL`.
 */
async function ensureSchema(
  ds: DataSource,
  target: DatabaseTarget,
  create: boolean,
): Promise<void> {
  const schema = target.schema;
  if (target.kind !== 'postgres' || !schema) return;
  const found = (await ds.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [
    schema,
  ])) as unknown[];
  if (found.length > 0) return;
  const quoted = `"${schema.replace(/"/g, '""')}"`;
  const where = `database "${target.database}" at ${target.address}`;
  if (!create) {
    throw new PersistenceConfigError(
      `DATABASE_URL names schema "${schema}" (?schema=), which does not exist in ${where}; create it (CREATE SCHEMA ${quoted}) or let the app create it by running migrations at boot (migrationsRun)`,
    );
  }
  try {
    await ds.query(`CREATE SCHEMA IF NOT EXISTS ${quoted}`);
  } catch (error) {
    throw new PersistenceConfigError(
      `DATABASE_URL names schema "${schema}" (?schema=), which does not exist in ${where} and could not be created (${(error as Error).message}); create it (CREATE SCHEMA ${quoted}) as a user allowed to`,
      { cause: error },
    );
  }
  new Logger('Persistence').log(`created schema "${schema}" (DATABASE_URL ?schema=) in ${where}`);
}

/**
 * The startup `options` that put `schema` on the search_path as written. Unquoted, PostgreSQL
 * folds the name to lower case (while TypeORM quotes it, so the two disagree on `MixedCase`);
 * quoted, it keeps case and any character. The server splits `options` on whitespace, with a
 * backslash escaping the next character.
 */
function searchPathOption(schema: string): string {
  const quoted = `"${schema.replace(/"/g, '""')}"`;
  return `-c search_path=${quoted.replace(/[\\\s]/g, (c) => `\\${c}`)}`;
}

/** `postgres://user@host:port/db` as pg's separate connection fields. */
function connectionFields(url: string): Record<string, unknown> {
  const parsed = new URL(url);
  const extra = [...parsed.searchParams.keys()];
  if (extra.length > 0) {
    throw new PersistenceConfigError(
      `PersistenceModule: options.password (a rotating secret) does not combine with URL parameters (${extra.join(', ')})`,
    );
  }
  return {
    connectionString: undefined,
    host: decodeURIComponent(parsed.hostname),
    port: Number(parsed.port || 5432),
    user: decodeURIComponent(parsed.username),
    database: decodeURIComponent(parsed.pathname.replace(/^\//, '')),
  };
}

/** What {@link replaceConnectionPool} needs of TypeORM's PostgreSQL driver and pg's pool. */
interface PooledDriver {
  options: unknown;
  master?: { end(): Promise<void> };
  createPool(options: unknown, credentials: unknown): Promise<{ end(): Promise<void> }>;
}

/** What {@link replaceConnectionPool} needs of a mysql2 pool (its callback API). */
interface MysqlPool {
  on(event: 'release', listener: () => void): unknown;
  off(event: 'release', listener: () => void): unknown;
  end(callback: (error?: Error | null) => void): void;
}

/** What {@link replaceConnectionPool} needs of TypeORM's MySQL/MariaDB driver. */
interface MysqlDriver {
  options: { replication?: unknown };
  pool?: MysqlPool;
  createConnectionOptions(options: unknown, credentials: unknown): unknown;
  createPool(connectionOptions: unknown): Promise<MysqlPool>;
}

/**
 * Ends a mysql2 pool once none of its connections is in use: `pool.end()` alone would close
 * busy ones too (a transaction in flight would be cut). Idle connections wait for the last busy
 * one, then all close together.
 */
function endWhenIdle(pool: MysqlPool): Promise<void> {
  return new Promise((resolve, reject) => {
    // mysql2 keeps its connection lists in fields it does not document (stable since v1).
    const count = (list: string) => (Reflect.get(pool, list) as { length: number }).length;
    const busy = () => count('_allConnections') - count('_freeConnections');
    const end = () => pool.end((error) => (error ? reject(error) : resolve()));
    if (busy() <= 0) return end();
    const released = () => {
      if (busy() > 0) return;
      pool.off('release', released);
      end();
    };
    pool.on('release', released);
  });
}

/**
 * Replaces a DataSource's connection pool with a new one (new credentials, e.g. a rotated
 * password): the new pool connects first (if that fails the old pool stays and this rejects),
 * then takes all new queries, and the old pool ends gracefully: a transaction in flight commits
 * on its connection. PostgreSQL: idle connections close at once, busy ones when released.
 * MariaDB/MySQL (not with `replication`): the old pool closes once its last busy connection is
 * released. Resolves with `drained`, which settles once the old pool has closed its last
 * connection.
 */
export async function replaceConnectionPool(
  dataSource: DataSource,
): Promise<{ drained: Promise<void> }> {
  const type = dataSource.options.type;
  if (type === 'mysql' || type === 'mariadb') {
    const driver = dataSource.driver as unknown as MysqlDriver;
    if (driver.options.replication) {
      throw new TypeError(`replaceConnectionPool: ${type} with replication is not supported`);
    }
    const old = driver.pool;
    // TypeORM builds the options the way it did at initialize (URL, then `extra`).
    driver.pool = await driver.createPool(
      driver.createConnectionOptions(driver.options, driver.options),
    );
    return { drained: old ? endWhenIdle(old) : Promise.resolve() };
  }
  if (type !== 'postgres') {
    throw new TypeError(`replaceConnectionPool: ${type} is not supported`);
  }
  const driver = dataSource.driver as unknown as PooledDriver;
  const old = driver.master;
  // TypeORM builds the pool the way it did at initialize (same options, error handler).
  driver.master = await driver.createPool(driver.options, driver.options);
  return { drained: old ? old.end() : Promise.resolve() };
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
  // Synchronize after the schema check: TypeORM's own would fail on a missing ?schema= first.
  const dsOptions = { ...dataSourceOptions(target, options, name), synchronize: false };
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const dataSource = new DataSource(dsOptions);
    let connected: DataSource;
    try {
      connected = await dataSource.initialize();
    } catch (error) {
      lastError = error;
      if (dataSource.isInitialized) await dataSource.destroy().catch(() => undefined);
      if (attempt < attempts) {
        onRetry?.(attempt, delay, error);
        await sleep(delay);
        delay = Math.min(delay * 2, maxDelayMs);
      }
      continue;
    }
    try {
      // Configuration, not connectivity: checked once, never retried.
      await ensureSchema(connected, target, options.migrationsRun || options.synchronize);
      if (options.synchronize) await connected.synchronize();
    } catch (error) {
      await connected.destroy().catch(() => undefined);
      throw error;
    }
    if (!options.pool.preparedStatements) withoutStatementNames(connected);
    return connected;
  }
  const reason = lastError instanceof Error ? lastError.message : String(lastError);
  throw new DatabaseUnavailableError(
    `cannot connect to ${target.kind} at ${target.address} (database "${target.database}") after ${attempts} attempt(s): ${reason.replace(/:\/\/[^@\s]*@/g, '://***@')}`,
  );
}
