import { maskUrlPassword } from '@infrastructure/core';
import { PersistenceConfigError } from './errors.js';

/** The database kinds a URL can name. */
export type DatabaseKind = 'sqlite' | 'postgres' | 'mysql' | 'mariadb';

/** A parsed `DATABASE_URL`. */
export interface DatabaseTarget {
  kind: DatabaseKind;
  /** TypeORM driver type. */
  type: 'better-sqlite3' | 'postgres' | 'mysql' | 'mariadb';
  /** The npm package of the driver. */
  driver: 'better-sqlite3' | 'pg' | 'mysql2';
  /** SQLite file path or `:memory:`. */
  file?: string;
  /** Network URL (postgres/mysql), as given. */
  url?: string;
  /** Postgres schema from `?schema=`. */
  schema?: string;
  /** `host:port` for messages (never the password). */
  address: string;
  /** The database name (or file). */
  database: string;
}

/** The URL schemes `DATABASE_URL` accepts. */
export const ACCEPTED_SCHEMES = [
  'sqlite:',
  'postgres://',
  'postgresql://',
  'mysql://',
  'mariadb://',
] as const;

/**
 * Parses `sqlite:<file>`, `sqlite::memory:`, `postgres://…` (`?schema=` supported),
 * `mysql://…` or `mariadb://…`.
 * @throws PersistenceConfigError naming `setting` and the accepted schemes.
 */
export function parseDatabaseUrl(url: string, setting = 'DATABASE_URL'): DatabaseTarget {
  const bad = (why: string) =>
    new PersistenceConfigError(
      `${setting} ${why}; expected a URL starting with ${ACCEPTED_SCHEMES.join(', ')}, got "${maskUrlPassword(url)}"`,
    );
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
  if (scheme === 'sqlite') {
    const file = url.slice('sqlite:'.length).replace(/^\/\//, '');
    if (!file) throw bad('names no SQLite file');
    return {
      kind: 'sqlite',
      type: 'better-sqlite3',
      driver: 'better-sqlite3',
      file,
      address: file,
      database: file,
    };
  }
  if (!scheme || !['postgres', 'postgresql', 'mysql', 'mariadb'].includes(scheme)) {
    throw bad('has an unsupported scheme');
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw bad('is not a valid URL');
  }
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
  if (!parsed.hostname) throw bad('names no host');
  if (!database) throw bad('names no database');
  const postgres = scheme === 'postgres' || scheme === 'postgresql';
  const port = parsed.port || (postgres ? '5432' : '3306');
  const address = `${parsed.hostname}:${port}`;
  if (postgres) {
    const schema = parsed.searchParams.get('schema') || undefined;
    if (schema !== undefined) {
      const why = schemaDefect(schema);
      if (why) {
        throw new PersistenceConfigError(
          `${setting} ?schema= ${JSON.stringify(schema)} cannot be used: ${why}; got "${maskUrlPassword(url)}"`,
        );
      }
    }
    parsed.searchParams.delete('schema');
    return {
      kind: 'postgres',
      type: 'postgres',
      driver: 'pg',
      url: parsed.toString(),
      schema,
      address,
      database,
    };
  }
  // mysql2 reads mysql:// URLs; MariaDB speaks the same protocol.
  parsed.protocol = 'mysql:';
  return {
    kind: scheme === 'mariadb' ? 'mariadb' : 'mysql',
    type: scheme === 'mariadb' ? 'mariadb' : 'mysql',
    driver: 'mysql2',
    url: parsed.toString(),
    address,
    database,
  };
}

/**
 * Why PostgreSQL or TypeORM cannot carry a `?schema=` name, or undefined. Any other name works
 * (case, spaces and punctuation are kept: the lib quotes it); TypeORM does not escape a double
 * quote inside a name, and PostgreSQL silently truncates a name longer than 63 bytes.
 */
function schemaDefect(schema: string): string | undefined {
  // oxlint-disable-next-line no-control-regex -- control characters are what is refused
  if (/["\u0000-\u001f\u007f]/.test(schema)) {
    return 'a schema name must not contain a double quote or control characters';
  }
  if (Buffer.byteLength(schema, 'utf8') > 63) {
    return 'a schema name is at most 63 bytes (PostgreSQL would truncate it)';
  }
  return undefined;
}
