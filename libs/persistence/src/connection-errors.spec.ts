import { describe, expect, it } from 'vitest';
import { isConnectionError, translateConnectionErrors } from './connection-errors.js';
import { DatabaseUnavailableError } from './errors.js';

describe('connection errors', () => {
  it('recognises unreachable or overloaded databases, not bad queries', () => {
    expect(isConnectionError(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }))).toBe(true);
    expect(isConnectionError({ message: 'q failed', driverError: { code: '57P01' } })).toBe(true);
    expect(isConnectionError(new Error('timeout exceeded when trying to connect'))).toBe(true);
    expect(
      isConnectionError(Object.assign(new Error('x'), { code: 'PROTOCOL_CONNECTION_LOST' })),
    ).toBe(true);
    // TypeORM's QueryRunner(Provider)AlreadyReleasedError: the runner was released when its
    // connection failed mid-transaction.
    expect(
      isConnectionError(new Error('Query runner already released. Cannot run queries anymore.')),
    ).toBe(true);
    expect(
      isConnectionError(
        new Error(
          'Database connection provided by a query runner was already released, cannot continue to use its querying methods anymore.',
        ),
      ),
    ).toBe(true);
    expect(isConnectionError(Object.assign(new Error('syntax'), { code: '42601' }))).toBe(false);
    expect(isConnectionError(Object.assign(new Error('dup'), { code: 'ER_DUP_ENTRY' }))).toBe(
      false,
    );
  });

  it('turns them into DatabaseUnavailableError (HTTP 503) and leaves the rest alone', async () => {
    const down = translateConnectionErrors(() =>
      Promise.reject(Object.assign(new Error('gone'), { code: 'ECONNRESET' })),
    );
    await expect(down).rejects.toBeInstanceOf(DatabaseUnavailableError);
    await expect(down).rejects.toMatchObject({ httpStatus: 503 });
    const bad = new Error('syntax error');
    await expect(translateConnectionErrors(() => Promise.reject(bad))).rejects.toBe(bad);
  });
});
