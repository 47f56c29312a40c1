import { describe, expect, it } from 'vitest';
import { persistenceOptionsFrom, type databaseConfig } from './persistence.config.js';
import { resolvePersistenceOptions } from './persistence.options.js';
import type { ConfigOf } from '@infrastructure/configuration';

const config = (preparedStatements: boolean): ConfigOf<typeof databaseConfig> =>
  ({
    url: 'postgres://app@db:5432/app',
    poolMax: 7,
    passwordFile: undefined,
    preparedStatements,
    migrationsRun: true,
  }) as ConfigOf<typeof databaseConfig>;

describe('persistenceOptionsFrom', () => {
  it('maps DATABASE_PREPARED_STATEMENTS to pool.preparedStatements beside the pool size', () => {
    expect(persistenceOptionsFrom(config(false)).pool).toEqual({
      max: 7,
      preparedStatements: false,
    });
    expect(resolvePersistenceOptions(persistenceOptionsFrom(config(true))).pool).toMatchObject({
      max: 7,
      preparedStatements: true,
    });
  });

  it('defaults pool.preparedStatements to true and refuses a non-boolean', () => {
    expect(resolvePersistenceOptions({ url: 'sqlite::memory:' }).pool.preparedStatements).toBe(
      true,
    );
    expect(() =>
      resolvePersistenceOptions({
        url: 'sqlite::memory:',
        pool: { preparedStatements: 'no' as unknown as boolean },
      }),
    ).toThrow(/pool\.preparedStatements/);
  });
});
