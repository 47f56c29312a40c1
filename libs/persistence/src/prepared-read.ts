import { QueryFailedError, type DataSource } from 'typeorm';
import { isConnectionError, translateConnectionErrors } from './connection-errors.js';
import { operationOf, queryObserverOf } from './instrumentation.js';

/** What the fast path needs of pg's client and pool (pg is an optional peer: no type import). */
interface PgClient {
  query(config: { name?: string; text: string; values: unknown[] }): Promise<{ rows: unknown[] }>;
  release(error?: Error): void;
}
interface PgPool {
  connect(): Promise<PgClient>;
}

/** Statement names by SQL text: the same text always has the same name on every connection. */
const names = new Map<string, string>();
/**
 * Beyond this many distinct texts a read runs unnamed (still without a query runner): each name
 * is a prepared statement on every pooled connection, and texts with inlined values (a `LIMIT`)
 * must not grow that without bound.
 */
const MAX_NAMES = 500;

/** Data sources whose reads run unnamed (`pool.preparedStatements: false`). */
const unnamed = new WeakSet<DataSource>();

/** @internal `pool.preparedStatements: false`: {@link preparedRead} sends no statement names. */
export function withoutStatementNames(dataSource: DataSource): void {
  unnamed.add(dataSource);
}

function statementName(text: string): string | undefined {
  let name = names.get(text);
  if (name === undefined && names.size < MAX_NAMES) {
    name = `infra_${names.size + 1}`;
    names.set(text, name);
  }
  return name;
}

/**
 * "cached plan must not change result type": a prepared statement outlived a change of a column
 * it returns (a migration while the app runs). That connection is dropped (each one holding the old
 * plan is, the first time it answers so) and the read is retried once, unnamed.
 */
const STALE_PLAN = '0A000';

/**
 * True when `dataSource` can take {@link preparedRead}: PostgreSQL without replication
 * (one pool, `driver.master`), and nothing that observes queries through a query runner (entity
 * subscribers see BeforeQuery/AfterQuery/AfterLoad) or caches results.
 */
export function supportsPreparedReads(dataSource: DataSource): boolean {
  const options = dataSource.options as {
    type: string;
    replication?: unknown;
    cache?: unknown;
  };
  return (
    options.type === 'postgres' &&
    !options.replication &&
    !options.cache &&
    dataSource.subscribers.length === 0 &&
    poolOf(dataSource) !== undefined
  );
}

function poolOf(dataSource: DataSource): PgPool | undefined {
  // Read per call: replaceConnectionPool swaps it on a password rotation.
  return (dataSource.driver as unknown as { master?: PgPool }).master;
}

/**
 * A read outside any transaction (for libs with their own SQL on this data source: the event
 * store), straight on TypeORM's pg pool as a named prepared statement (parsed and planned once per
 * connection) instead of through a new QueryRunner per query. Keeps what the runner path gives:
 * `db_query_duration_seconds` by operation, the slow-query log, `QueryFailedError` for SQL errors
 * and `DatabaseUnavailableError` (503) for connection failures. Only where
 * {@link supportsPreparedReads} holds; a transaction's reads go through its manager.
 */
export async function preparedRead<T>(
  dataSource: DataSource,
  text: string,
  values: unknown[],
): Promise<T[]> {
  const observe = queryObserverOf(dataSource);
  const started = performance.now();
  let outcome: 'ok' | 'error' = 'ok';
  try {
    return await translateConnectionErrors(() =>
      run<T>(dataSource, text, values, !unnamed.has(dataSource)),
    );
  } catch (error) {
    outcome = 'error';
    throw error;
  } finally {
    const ms = performance.now() - started;
    observe?.(operationOf(text), outcome, ms / 1000);
    const slow = dataSource.options.maxQueryExecutionTime;
    if (slow && ms > slow) dataSource.logger.logQuerySlow(Math.round(ms), text, values);
  }
}

async function run<T>(
  dataSource: DataSource,
  text: string,
  values: unknown[],
  named: boolean,
): Promise<T[]> {
  const pool = poolOf(dataSource);
  if (!pool) throw new TypeError('preparedRead needs an initialised PostgreSQL data source');
  const client = await pool.connect();
  let result: { rows: unknown[] };
  try {
    const name = named ? statementName(text) : undefined;
    result = await client.query(name ? { name, text, values } : { text, values });
  } catch (error) {
    const stale = (error as { code?: unknown }).code === STALE_PLAN;
    const broken = isConnectionError(error);
    // A broken connection (or one holding a stale plan) leaves the pool; a failed statement does not.
    client.release(broken || stale ? (error as Error) : undefined);
    if (stale && named) return run<T>(dataSource, text, values, false);
    if (broken) throw error;
    dataSource.logger.logQueryError(error as Error, text, values);
    throw new QueryFailedError(text, values, error as Error);
  }
  client.release();
  return result.rows as T[];
}
