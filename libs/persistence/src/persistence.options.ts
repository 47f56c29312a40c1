import type { EntitySchema, MixedList } from 'typeorm';
import { z } from 'zod';
import {
  isSecretReference,
  SECRET_REFERENCE_EXPECTED,
  validateModuleOptions,
  type SecretReference,
} from '@infrastructure/core';
import { PersistenceConfigError } from './errors.js';

/** Options of `PersistenceModule.forRoot` / the factory of `forRootAsync`. */
export interface PersistenceOptions {
  /** `sqlite:<file>`, `sqlite::memory:`, `postgres://…[?schema=]`, `mysql://…` or `mariadb://…`. Required. */
  url: string;
  /** Entity classes or schemas. @default [] */
  entities?: MixedList<Function | string | EntitySchema>;
  /** Migration classes or globs. @default [] */
  migrations?: MixedList<Function | string>;
  /** Run pending migrations at boot. @default false */
  migrationsRun?: boolean;
  /** Create/alter tables from entities at boot (tests only; never in production). @default false */
  synchronize?: boolean;
  /** Connection pool (PostgreSQL/MariaDB). */
  pool?: {
    /** Connections at most. @default 10 */
    max?: number;
    /** Close a connection idle this long. @default 30000 */
    idleTimeoutMs?: number;
    /** Give up waiting for a connection after this long. @default 5000 */
    acquireTimeoutMs?: number;
    /** Server-side statement timeout (PostgreSQL). @default 15000 */
    statementTimeoutMs?: number;
    /**
     * PostgreSQL: reads outside a transaction (`findById`, the event store's reads) run as named
     * prepared statements, parsed and planned once per connection. Turn off behind a pooler that
     * does not keep them per client (PgBouncer in transaction mode before 1.21, or without
     * `max_prepared_statements`): they then run unnamed, still without a query runner.
     * @default true
     */
    preparedStatements?: boolean;
  };
  /** Connecting at boot. */
  connectRetry?: {
    /** Tries before the boot fails. @default 5 */
    attempts?: number;
    /** First delay; doubles each try. @default 200 */
    initialDelayMs?: number;
    /** Longest delay. @default 5000 */
    maxDelayMs?: number;
  };
  /**
   * The password from a secrets provider (the security lib's `SecretsProvider`), instead of the
   * URL's: `{ secrets, name: 'DATABASE_PASSWORD' }`. PostgreSQL, MariaDB and MySQL. Every new
   * connection (PostgreSQL) or pool (MariaDB/MySQL) uses the current value, and when the secret
   * rotates the pool is replaced: a new pool
   * connects with the new password (refused → the old pool stays, an error is logged), then the
   * old one closes its idle connections and each busy one once it is released (transactions in
   * flight finish). @default the URL's password
   */
  password?: SecretReference;
  /** SQLite busy timeout: how long a writer waits for the lock. @default 5000 */
  sqliteBusyTimeoutMs?: number;
  /** Queries slower than this are logged (SQL text, no parameter values). @default 500 */
  slowQueryMs?: number;
  /** Health check. */
  health?: {
    /** Register the `database` check in the monitoring health registry when present. @default true */
    enabled?: boolean;
    /** @default 1000 */
    timeoutMs?: number;
    /** A failing critical check makes readiness 503. @default true */
    critical?: boolean;
  };
}

/** Extras known before the options factory runs. */
export interface PersistenceExtras {
  /** Connection name for several databases (`PersistenceModule.forRoot({ name: 'reporting', … })`). @default 'default' */
  name?: string;
  /** Register globally. @default true */
  isGlobal?: boolean;
}

const schema = z
  .object({
    url: z.string().min(1),
    entities: z.array(z.any()).optional(),
    migrations: z.array(z.any()).optional(),
    migrationsRun: z.boolean().optional(),
    synchronize: z.boolean().optional(),
    pool: z
      .object({
        max: z.number().int().min(1).max(1000).optional(),
        idleTimeoutMs: z.number().int().min(0).optional(),
        acquireTimeoutMs: z.number().int().min(1).optional(),
        statementTimeoutMs: z.number().int().min(0).optional(),
        preparedStatements: z.boolean().optional(),
      })
      .strict()
      .optional(),
    connectRetry: z
      .object({
        attempts: z.number().int().min(1).max(100).optional(),
        initialDelayMs: z.number().int().min(0).optional(),
        maxDelayMs: z.number().int().min(0).optional(),
      })
      .strict()
      .optional(),
    password: z
      .custom<SecretReference>(isSecretReference, { message: SECRET_REFERENCE_EXPECTED })
      .optional(),
    sqliteBusyTimeoutMs: z.number().int().min(0).optional(),
    slowQueryMs: z.number().int().min(1).optional(),
    health: z
      .object({
        enabled: z.boolean().optional(),
        timeoutMs: z.number().int().min(1).optional(),
        critical: z.boolean().optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

/** Options with every default applied. */
export type ResolvedPersistenceOptions = Required<
  Pick<
    PersistenceOptions,
    'url' | 'migrationsRun' | 'synchronize' | 'sqliteBusyTimeoutMs' | 'slowQueryMs'
  >
> & {
  entities: NonNullable<PersistenceOptions['entities']>;
  migrations: NonNullable<PersistenceOptions['migrations']>;
  pool: Required<NonNullable<PersistenceOptions['pool']>>;
  connectRetry: Required<NonNullable<PersistenceOptions['connectRetry']>>;
  health: Required<NonNullable<PersistenceOptions['health']>>;
  password?: PersistenceOptions['password'];
};

/** Validates options, naming the bad key, and applies defaults. */
export function resolvePersistenceOptions(options: PersistenceOptions): ResolvedPersistenceOptions {
  validateModuleOptions('PersistenceModule', schema, options, PersistenceConfigError);
  if (options.password && !/^(postgres(ql)?|mysql|mariadb):/i.test(options.url)) {
    throw new PersistenceConfigError(
      'PersistenceModule: options.password (a rotating secret) is supported for PostgreSQL, MariaDB and MySQL only',
    );
  }
  return {
    ...(options.password ? { password: options.password } : {}),
    url: options.url,
    entities: options.entities ?? [],
    migrations: options.migrations ?? [],
    migrationsRun: options.migrationsRun ?? false,
    synchronize: options.synchronize ?? false,
    sqliteBusyTimeoutMs: options.sqliteBusyTimeoutMs ?? 5000,
    slowQueryMs: options.slowQueryMs ?? 500,
    pool: {
      max: options.pool?.max ?? 10,
      idleTimeoutMs: options.pool?.idleTimeoutMs ?? 30_000,
      acquireTimeoutMs: options.pool?.acquireTimeoutMs ?? 5000,
      statementTimeoutMs: options.pool?.statementTimeoutMs ?? 15_000,
      preparedStatements: options.pool?.preparedStatements ?? true,
    },
    connectRetry: {
      attempts: options.connectRetry?.attempts ?? 5,
      initialDelayMs: options.connectRetry?.initialDelayMs ?? 200,
      maxDelayMs: options.connectRetry?.maxDelayMs ?? 5000,
    },
    health: {
      enabled: options.health?.enabled ?? true,
      timeoutMs: options.health?.timeoutMs ?? 1000,
      critical: options.health?.critical ?? true,
    },
  };
}
