import { describe, expect, it } from 'vitest';
import { parseDatabaseUrl } from './database-url.js';
import { PersistenceConfigError } from './errors.js';
import { resolvePersistenceOptions } from './persistence.options.js';

describe('parseDatabaseUrl', () => {
  it('understands every supported scheme', () => {
    expect(parseDatabaseUrl('sqlite:./data/app.db')).toMatchObject({
      kind: 'sqlite',
      file: './data/app.db',
      driver: 'better-sqlite3',
    });
    expect(parseDatabaseUrl('sqlite::memory:')).toMatchObject({ kind: 'sqlite', file: ':memory:' });
    expect(parseDatabaseUrl('postgres://u:p@db:6543/app?schema=tenant1')).toMatchObject({
      kind: 'postgres',
      driver: 'pg',
      schema: 'tenant1',
      address: 'db:6543',
      database: 'app',
    });
    expect(parseDatabaseUrl('postgresql://db/app').address).toBe('db:5432');
    expect(parseDatabaseUrl('mariadb://root@127.0.0.1/test')).toMatchObject({
      kind: 'mariadb',
      driver: 'mysql2',
      address: '127.0.0.1:3306',
      url: 'mysql://root@127.0.0.1/test',
    });
    expect(parseDatabaseUrl('mysql://root@h:3307/x')).toMatchObject({
      kind: 'mysql',
      address: 'h:3307',
    });
  });

  it('rejects bad URLs naming DATABASE_URL, the accepted schemes, and no password', () => {
    expect(() => parseDatabaseUrl('localhost')).toThrow(PersistenceConfigError);
    expect(() => parseDatabaseUrl('mongodb://u:pw@h/db')).toThrow(
      /^DATABASE_URL has an unsupported scheme; expected a URL starting with sqlite:, postgres:\/\//,
    );
    expect(() => parseDatabaseUrl('mongodb://u:pw@h/db')).toThrow('got "mongodb://u:***@h/db"');
    expect(() => parseDatabaseUrl('postgres://h')).toThrow('DATABASE_URL names no database');
    expect(() => parseDatabaseUrl('sqlite:')).toThrow('DATABASE_URL names no SQLite file');
  });

  it('keeps a ?schema= as written and refuses one PostgreSQL or TypeORM cannot carry', () => {
    expect(parseDatabaseUrl('postgres://h/db?schema=Mixed%20Case-x').schema).toBe('Mixed Case-x');
    expect(() => parseDatabaseUrl('postgres://u:pw@h/db?schema=a%22b')).toThrow(
      'DATABASE_URL ?schema= "a\\"b" cannot be used: a schema name must not contain a double quote or control characters; got "postgres://u:***@h/db?schema=a%22b"',
    );
    expect(() => parseDatabaseUrl('postgres://h/db?schema=tab%09x')).toThrow(
      PersistenceConfigError,
    );
    expect(() => parseDatabaseUrl(`postgres://h/db?schema=${'s'.repeat(64)}`)).toThrow(
      /\?schema= "s{64}" cannot be used: a schema name is at most 63 bytes \(PostgreSQL would truncate it\)/,
    );
    expect(parseDatabaseUrl(`postgres://h/db?schema=${'s'.repeat(63)}`).schema).toHaveLength(63);
  });
});

describe('PersistenceModule options', () => {
  it('applies defaults and names bad keys', () => {
    expect(resolvePersistenceOptions({ url: 'sqlite::memory:' })).toMatchObject({
      pool: { max: 10, acquireTimeoutMs: 5000, statementTimeoutMs: 15000 },
      connectRetry: { attempts: 5 },
      health: { enabled: true, critical: true, timeoutMs: 1000 },
    });
    expect(() => resolvePersistenceOptions({ url: 'sqlite::memory:', pool: { max: 0 } })).toThrow(
      /PersistenceModule: options\.pool\.max:/,
    );
    expect(() =>
      resolvePersistenceOptions({ url: 'sqlite::memory:', poolSize: 3 } as never),
    ).toThrow(/Unrecognized key: "poolSize"/);
  });
});
