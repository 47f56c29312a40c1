// mysql2 exposes its pool sizes only as underscored fields (_allConnections, _freeConnections).
/* eslint-disable no-underscore-dangle */
import type { Gauge, Histogram } from 'prom-client';
import type { DataSource, Logger as TypeOrmLogger, QueryRunner } from 'typeorm';
import { getLogger, type MetricsService } from '@infrastructure/monitoring';

const OPERATION =
  /^\s*(select|insert|update|delete|begin|start|commit|rollback|savepoint|release|with|create|alter|drop|truncate)\b/i;

/** The SQL verb as a bounded label value; never the SQL text. */
export function operationOf(sql: string): string {
  const verb = OPERATION.exec(sql)?.[1]?.toLowerCase();
  if (!verb) return 'other';
  if (verb === 'start') return 'begin';
  if (verb === 'release') return 'savepoint';
  if (verb === 'with') return 'select';
  return verb;
}

/**
 * TypeORM logger that only reports slow queries, with the SQL text but never the parameter
 * values (they may hold personal data or secrets): `{ durationMs, sql, parameterCount }`.
 */
export class SlowQueryLogger implements TypeOrmLogger {
  private readonly out = getLogger('SlowQuery');

  constructor(private readonly connection: string) {}

  logQuerySlow(time: number, query: string, parameters?: unknown[]): void {
    this.out.warn(
      {
        connection: this.connection,
        durationMs: time,
        sql: query.slice(0, 2000),
        parameterCount: parameters?.length ?? 0,
      },
      `Slow query (${time} ms)`,
    );
  }
  logQuery(): void {}
  logQueryError(): void {}
  logSchemaBuild(): void {}
  logMigration(message: string): void {
    this.out.info({ connection: this.connection }, message);
  }
  log(): void {}
}

interface PoolLike {
  totalCount?: number;
  idleCount?: number;
  waitingCount?: number;
  _allConnections?: { length: number };
  _freeConnections?: { length: number };
  _connectionQueue?: { length: number };
}

function poolOf(dataSource: DataSource): PoolLike | undefined {
  return (
    (dataSource.driver as unknown as { master?: PoolLike; pool?: PoolLike }).master ??
    (dataSource.driver as unknown as { pool?: PoolLike }).pool
  );
}

/** Records a query that did not go through a query runner's `query` (statement batches). */
type QueryObserver = (operation: string, outcome: 'ok' | 'error', seconds: number) => void;
const observers = new WeakMap<DataSource, QueryObserver>();

/** @internal The query-duration observer of an instrumented data source, if any. */
export function queryObserverOf(dataSource: DataSource): QueryObserver | undefined {
  return observers.get(dataSource);
}

/**
 * Query-duration histogram by operation and pool gauges (size, in use, waiting) for a connection.
 * Wraps `query` of every query runner the DataSource creates, once per runner.
 */
export function instrumentDataSource(
  dataSource: DataSource,
  metrics: MetricsService,
  connection: string,
): void {
  const histogram: Histogram<'connection' | 'operation' | 'outcome'> = metrics.histogram({
    name: 'db_query_duration_seconds',
    help: 'Database query time by connection, SQL operation and outcome.',
    labelNames: ['connection', 'operation', 'outcome'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  });
  const gauge = (
    name: string,
    help: string,
    read: (p: PoolLike) => number | undefined,
  ): Gauge<'connection'> =>
    metrics.gauge({
      name,
      help,
      labelNames: ['connection'],
      collect() {
        const pool = poolOf(dataSource);
        const value = pool && dataSource.isInitialized ? read(pool) : undefined;
        if (value !== undefined) this.set({ connection }, value);
      },
    });
  gauge(
    'db_pool_connections',
    'Open connections in the pool.',
    (p) => p.totalCount ?? p._allConnections?.length,
  );
  gauge('db_pool_connections_in_use', 'Connections checked out of the pool.', (p) =>
    p.totalCount !== undefined && p.idleCount !== undefined
      ? p.totalCount - p.idleCount
      : p._allConnections && p._freeConnections
        ? p._allConnections.length - p._freeConnections.length
        : undefined,
  );
  gauge(
    'db_pool_waiting',
    'Requests waiting for a connection.',
    (p) => p.waitingCount ?? p._connectionQueue?.length,
  );

  observers.set(dataSource, (operation, outcome, seconds) =>
    histogram.observe({ connection, operation, outcome }, seconds),
  );
  const create = dataSource.createQueryRunner.bind(dataSource);
  // SQLite's drivers hand out one query runner for every call: wrap each runner once, or every
  // call would add a layer (each query counted N times, then a stack overflow on every query).
  const instrumented = new WeakSet<QueryRunner>();
  dataSource.createQueryRunner = (
    ...args: Parameters<DataSource['createQueryRunner']>
  ): QueryRunner => {
    const runner = create(...args);
    if (instrumented.has(runner)) return runner;
    instrumented.add(runner);
    const query = runner.query.bind(runner) as (...a: unknown[]) => Promise<unknown>;
    (runner as { query: (...a: unknown[]) => Promise<unknown> }).query = async (
      ...a: unknown[]
    ) => {
      const started = performance.now();
      const labels = { connection, operation: operationOf(String(a[0])), outcome: 'ok' };
      try {
        return await query(...a);
      } catch (error) {
        labels.outcome = 'error';
        throw error;
      } finally {
        histogram.observe(labels, (performance.now() - started) / 1000);
      }
    };
    return runner;
  };
}
