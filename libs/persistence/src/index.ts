export { PersistenceModule } from './persistence.module.js';
export { PERSISTENCE_MODULE_OPTIONS } from './persistence.module-definition.js';
export {
  PERSISTENCE_TARGET,
  persistenceOptionsToken,
  persistenceTargetToken,
} from './persistence.constants.js';
export type {
  PersistenceExtras,
  PersistenceOptions,
  ResolvedPersistenceOptions,
} from './persistence.options.js';
export { resolvePersistenceOptions } from './persistence.options.js';
export {
  ACCEPTED_SCHEMES,
  parseDatabaseUrl,
  type DatabaseKind,
  type DatabaseTarget,
} from './database-url.js';
// Moved to @infrastructure/core (redactUrl is its maskUrlPassword); re-exported for callers.
export { maskUrlPassword as redactUrl, MissingDependencyError } from '@infrastructure/core';
export { connectDataSource, dataSourceOptions, replaceConnectionPool } from './data-source.js';
export {
  ConcurrencyError,
  DatabaseUnavailableError,
  InvalidCursorError,
  PersistenceConfigError,
  UnsupportedPropagationError,
} from './errors.js';
export {
  Repository,
  Specification,
  type Comparison,
  type Criteria,
  type Page,
  type PageRequest,
} from './repository/repository.js';
export { TypeOrmRepository } from './repository/typeorm.repository.js';
export {
  UnitOfWork,
  type IsolationLevel,
  type TransactionPropagation,
  type UnitOfWorkOptions,
} from './transactions/unit-of-work.js';
export { Transactional } from './transactions/transactional.decorator.js';
export { runExclusive } from './transactions/sqlite-lock.js';
export { SqlDialect, type SqlDialectName } from './sql-dialect.js';
export { runStatementBatch } from './statement-batch.js';
export { preparedRead, supportsPreparedReads } from './prepared-read.js';
export { databaseConfig, persistenceOptionsFrom } from './persistence.config.js';
export { runMigrationsLocked } from './migrations.js';
export { isConnectionError, translateConnectionErrors } from './connection-errors.js';
