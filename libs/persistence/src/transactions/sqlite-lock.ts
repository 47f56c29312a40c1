import type { DataSource } from 'typeorm';

const tails = new WeakMap<DataSource, Promise<unknown>>();

/**
 * Runs `fn` alone on a SQLite data source: better-sqlite3 has one connection, so two transactions
 * started from concurrent async work would share it ("cannot start a transaction within a
 * transaction", or one's statements landing in the other's transaction). Every unit of work on
 * SQLite and every write the messaging outbox makes outside one goes through this lock, in
 * arrival order. On other databases (a pool of connections) it runs `fn` directly.
 *
 * Do not wait, inside `fn`, for another top-level unit of work on the same SQLite database: it
 * would wait for this one to finish.
 */
export function runExclusive<T>(dataSource: DataSource, fn: () => Promise<T>): Promise<T> {
  if (dataSource.options.type !== 'better-sqlite3') return fn();
  const previous = tails.get(dataSource) ?? Promise.resolve();
  const result = previous.then(fn, fn);
  const tail = result.then(
    () => undefined,
    () => undefined,
  );
  tails.set(dataSource, tail);
  return result;
}
