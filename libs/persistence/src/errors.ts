/** Bad persistence configuration; the message names the setting (e.g. `DATABASE_URL`). */
export class PersistenceConfigError extends Error {
  override readonly name = 'PersistenceConfigError';
}

/**
 * The database cannot be reached (at boot after every retry, or for a query at run time).
 * Carries `httpStatus: 503` so the problem-details filter answers 503, not 500.
 */
export class DatabaseUnavailableError extends Error {
  override readonly name = 'DatabaseUnavailableError';
  readonly httpStatus = 503;
  readonly publicMessage = 'The database is unavailable; try again shortly.';
}

/** An optimistic-lock conflict: the row changed since it was read. */
export class ConcurrencyError extends Error {
  override readonly name: string = 'ConcurrencyError';
  constructor(
    readonly entity: string,
    readonly id: unknown,
    readonly expectedVersion: number,
    readonly actualVersion: number | undefined,
  ) {
    super(
      `${entity} ${String(id)} was changed by someone else: expected version ${expectedVersion}, ` +
        `found ${actualVersion === undefined ? 'no row' : `version ${actualVersion}`}`,
    );
  }
}

/** A propagation the database cannot honour (e.g. `requiresNew` on SQLite). */
export class UnsupportedPropagationError extends Error {
  override readonly name = 'UnsupportedPropagationError';
}

/**
 * A page cursor this API never issued (tampered, truncated, from another listing). A RangeError
 * with `httpStatus: 400`, so the problem-details filter answers 400 "Invalid cursor".
 */
export class InvalidCursorError extends RangeError {
  override readonly name = 'InvalidCursorError';
  readonly httpStatus = 400;
  readonly publicMessage = 'Invalid cursor';
  readonly countsAsFailure = false;
}
