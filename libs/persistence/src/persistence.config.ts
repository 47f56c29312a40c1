import { cfg, defineConfig, type ConfigOf } from '@infrastructure/configuration';
import type { PersistenceOptions } from './persistence.options.js';

/** Environment variables of the persistence lib (register with `ConfigurationModule`). */
export const databaseConfig = defineConfig('database', {
  url: {
    env: 'DATABASE_URL',
    ...cfg.url({
      schemes: ['sqlite', 'postgres', 'postgresql', 'mysql', 'mariadb'],
      default: 'sqlite:./data/sample.db',
    }),
    description:
      '`sqlite:<file>`, `sqlite::memory:`, `postgres://…[?schema=]`, `mysql://…` or `mariadb://…`.',
  },
  poolMax: {
    env: 'DATABASE_POOL_MAX',
    ...cfg.int({ min: 1, max: 1000, default: 10 }),
    description: 'Connections at most (PostgreSQL/MariaDB).',
  },
  passwordFile: {
    env: 'DATABASE_PASSWORD_FILE',
    ...cfg.string(),
    description:
      "File holding the database password (instead of the URL's), watched: a rotated file replaces the connection pool without a restart (PostgreSQL, MariaDB, MySQL). Wire it as `password: { secrets, name: 'DATABASE_PASSWORD' }` with a SecretsProvider that reads this file (the sample does).",
  },
  preparedStatements: {
    env: 'DATABASE_PREPARED_STATEMENTS',
    ...cfg.bool(true),
    description:
      'PostgreSQL: reads outside a transaction run as named prepared statements (parsed once per connection). Set false behind PgBouncer in transaction mode before 1.21 (or without max_prepared_statements).',
  },
  migrationsRun: {
    env: 'DATABASE_MIGRATIONS_RUN',
    ...cfg.bool(true),
    description: 'Run pending migrations at boot.',
  },
});

/** Maps `databaseConfig` to `PersistenceModule` options (add your entities and migrations). */
export function persistenceOptionsFrom(
  config: ConfigOf<typeof databaseConfig>,
  extra: Omit<PersistenceOptions, 'url'> = {},
): PersistenceOptions {
  return {
    ...extra,
    url: config.url,
    migrationsRun: config.migrationsRun,
    pool: { ...extra.pool, max: config.poolMax, preparedStatements: config.preparedStatements },
  };
}
