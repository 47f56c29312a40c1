import type { EntityManager } from 'typeorm';
import { translateConnectionErrors } from './connection-errors.js';
import { queryObserverOf } from './instrumentation.js';

/** What node-postgres answers a simple query with: one result per statement. */
interface PgClient {
  escapeLiteral(value: string): string;
  query(sql: string): Promise<{ rows: unknown[] } | Array<{ rows: unknown[] }>>;
}

/**
 * PostgreSQL: several statements in one round trip, on `manager`'s connection (its transaction),
 * through the simple query protocol, so **no parameters**: put values in with `literal` (the
 * driver's `escapeLiteral`) or as numbers you produced. Answers the rows of each statement, in
 * order. Connection failures become `DatabaseUnavailableError` (503), and the batch is counted in
 * `db_query_duration_seconds` as operation `batch`. For hot paths that would otherwise pay one
 * round trip per statement (the event store's append).
 */
export async function runStatementBatch(
  manager: EntityManager,
  build: (literal: (value: string) => string) => string,
): Promise<unknown[][]> {
  if (manager.connection.options.type !== 'postgres') {
    throw new TypeError('runStatementBatch is PostgreSQL only');
  }
  const runner = manager.queryRunner ?? manager.connection.createQueryRunner();
  const own = manager.queryRunner === undefined;
  const observe = queryObserverOf(manager.connection);
  const started = performance.now();
  let outcome: 'ok' | 'error' = 'ok';
  try {
    const client = (await runner.connect()) as PgClient;
    const sql = build((value) => client.escapeLiteral(value));
    const results = await translateConnectionErrors(() => client.query(sql));
    return (Array.isArray(results) ? results : [results]).map((r) => r.rows);
  } catch (error) {
    outcome = 'error';
    throw error;
  } finally {
    observe?.('batch', outcome, (performance.now() - started) / 1000);
    if (own) await runner.release();
  }
}
