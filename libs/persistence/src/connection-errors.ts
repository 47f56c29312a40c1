import { DatabaseUnavailableError } from './errors.js';

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'PROTOCOL_CONNECTION_LOST',
  'ER_CON_COUNT_ERROR',
  'ER_SERVER_SHUTDOWN',
  'SQLITE_BUSY',
]);

/** PostgreSQL SQLSTATEs that mean "not available now": connection class 08, shutdown 57P0x, statement timeout, too many connections. */
const PG_UNAVAILABLE = /^(08\d{3}|57P0[1-4]|57014|53300|3D000)$/;

// "Query runner already released" / "…provided by a query runner was already released…":
// TypeORM releases a PostgreSQL query runner as soon as its connection emits an error (a
// terminated backend), so the transaction's next statement fails with
// QueryRunnerAlreadyReleasedError or QueryRunnerProviderAlreadyReleasedError; the transaction
// is lost like any other connection failure (the fault drill bench/drills/postgres-terminate.mjs
// got 500s from both).
const MESSAGES =
  /timeout exceeded when trying to connect|Connection terminated|connect ECONNREFUSED|Client has encountered a connection error|Pool is closed|database .* is not currently accepting connections|Can't add new command when connection is in closed state|Query runner already released|connection provided by a query runner was already released/i;

/** True when an error from the driver means the database is unreachable or overloaded, not that the query is wrong. */
export function isConnectionError(error: unknown): boolean {
  if (!error || typeof error !== 'object') return false;
  const e = error as { code?: unknown; message?: unknown; driverError?: unknown; cause?: unknown };
  if (typeof e.code === 'string' && (NETWORK_CODES.has(e.code) || PG_UNAVAILABLE.test(e.code)))
    return true;
  if (typeof e.message === 'string' && MESSAGES.test(e.message)) return true;
  return isConnectionError(e.driverError) || (e.cause !== error && isConnectionError(e.cause));
}

/** Rethrows connection-level failures as {@link DatabaseUnavailableError} (→ 503), everything else unchanged. */
export async function translateConnectionErrors<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof DatabaseUnavailableError || !isConnectionError(error)) throw error;
    throw new DatabaseUnavailableError(`database unavailable: ${(error as Error).message}`, {
      cause: error,
    });
  }
}
