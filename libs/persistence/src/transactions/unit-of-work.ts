import { Inject, Injectable } from '@nestjs/common';
import { Propagation, TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { ClsServiceManager } from 'nestjs-cls';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { runExclusive } from './sqlite-lock.js';
import { translateConnectionErrors } from '../connection-errors.js';
import type { DatabaseTarget } from '../database-url.js';
import { UnsupportedPropagationError } from '../errors.js';
import { PERSISTENCE_TARGET } from '../persistence.constants.js';
import { AFTER_COMMIT, type AfterCommitHooks } from './after-commit-adapter.js';
import type { AfterCommit as AfterCommitPort } from '@infrastructure/core';

/** How a unit of work relates to one already running. */
export type TransactionPropagation =
  'required' | 'requiresNew' | 'never' | 'mandatory' | 'supports';

/** Isolation levels TypeORM knows. */
export type IsolationLevel =
  'READ UNCOMMITTED' | 'READ COMMITTED' | 'REPEATABLE READ' | 'SERIALIZABLE';

/** Options of a unit of work. */
export interface UnitOfWorkOptions {
  /** @default 'required' (join the current transaction or start one) */
  propagation?: TransactionPropagation;
  /** @default the database's default */
  isolationLevel?: IsolationLevel;
}

const PROPAGATION: Record<TransactionPropagation, Propagation> = {
  required: Propagation.Required,
  requiresNew: Propagation.RequiresNew,
  never: Propagation.Never,
  mandatory: Propagation.Mandatory,
  supports: Propagation.Supports,
};

/**
 * Transactions for application services: `unitOfWork.run(fn)` (or `@Transactional()`) runs `fn`
 * in a database transaction that repositories join automatically; nested calls join the outer
 * one; an error rolls everything back. `afterCommit(fn)` defers work (publishing, cache eviction)
 * until the outermost transaction has committed.
 */
@Injectable()
export class UnitOfWork implements AfterCommitPort {
  constructor(
    private readonly host: TransactionHost<TransactionalAdapterTypeOrm>,
    @Inject(PERSISTENCE_TARGET) private readonly target: DatabaseTarget,
    @Inject(getDataSourceToken()) private readonly dataSource: DataSource,
  ) {}

  /** Runs `fn` in a transaction (see {@link UnitOfWorkOptions}). */
  run<T>(fn: () => Promise<T>, options: UnitOfWorkOptions = {}): Promise<T> {
    const propagation = options.propagation ?? 'required';
    if (
      propagation === 'requiresNew' &&
      this.target.kind === 'sqlite' &&
      this.host.isTransactionActive()
    ) {
      // better-sqlite3 has one connection: the library would silently use a SAVEPOINT, rolled back
      // with the outer transaction — the opposite of "independent". Refuse instead.
      throw new UnsupportedPropagationError(
        'requiresNew inside a transaction is not supported on SQLite (one connection: it would become a savepoint ' +
          'rolled back with the outer transaction). Run it after the outer transaction, or use PostgreSQL/MariaDB.',
      );
    }
    const run = () =>
      options.isolationLevel
        ? this.host.withTransaction(
            PROPAGATION[propagation],
            { isolationLevel: options.isolationLevel },
            fn,
          )
        : this.host.withTransaction(PROPAGATION[propagation], fn);
    const cls = ClsServiceManager.getClsService();
    // SQLite has one connection: a new top-level transaction waits for the running one.
    const exclusive =
      this.target.kind === 'sqlite' && !(cls.isActive() && this.host.isTransactionActive())
        ? () => runExclusive(this.dataSource, run)
        : run;
    return translateConnectionErrors(() => (cls.isActive() ? exclusive() : cls.run(exclusive)));
  }

  /** True inside a transaction. */
  get active(): boolean {
    return ClsServiceManager.getClsService().isActive() && this.host.isTransactionActive();
  }

  /** The entity manager of the current transaction, or the default one outside. */
  get manager(): EntityManager {
    return this.host.tx;
  }

  /**
   * Runs `fn` once the outermost transaction has committed (not at all if it rolls back);
   * outside a transaction, runs it now.
   */
  async afterCommit(fn: () => unknown): Promise<void> {
    const cls = ClsServiceManager.getClsService();
    const hooks = cls.isActive()
      ? (cls.get(AFTER_COMMIT) as AfterCommitHooks | undefined)
      : undefined;
    if (hooks && this.host.isTransactionActive()) hooks.push(fn);
    else await fn();
  }
}
