import { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { ClsServiceManager } from 'nestjs-cls';
import type { DataSource, EntityManager } from 'typeorm';

/** CLS key of the after-commit callbacks of the current (outermost) transaction. */
export const AFTER_COMMIT = Symbol.for('infrastructure.persistence.afterCommit');

/** Callbacks waiting for the outermost commit. */
export type AfterCommitHooks = Array<() => unknown>;

type Options = ConstructorParameters<typeof TransactionalAdapterTypeOrm>[0];
type TxOptions = { isolationLevel?: Parameters<DataSource['transaction']>[0] } | undefined;

/**
 * The TypeORM adapter of @nestjs-cls/transactional, plus after-commit callbacks: a new
 * transaction collects them in its context; they run, in order, once it has committed. A nested
 * (savepoint) transaction that rolls back drops the callbacks it added.
 */
export class AfterCommitTypeOrmAdapter extends TransactionalAdapterTypeOrm {
  constructor(adapterOptions: Options) {
    super(adapterOptions);
    const base = this.optionsFactory;
    this.optionsFactory = (dataSource: DataSource) => {
      const o = base(dataSource);
      return {
        ...o,
        wrapWithTransaction: async (
          options: TxOptions,
          fn: (...args: unknown[]) => Promise<unknown>,
          setClient: (tx?: EntityManager) => void,
        ) => {
          const hooks: AfterCommitHooks = [];
          const cls = ClsServiceManager.getClsService();
          const result = await o.wrapWithTransaction(
            options as never,
            () => {
              cls.set(AFTER_COMMIT, hooks);
              return fn();
            },
            setClient,
          );
          for (const hook of hooks) await hook();
          return result;
        },
        wrapWithNestedTransaction: async (
          options: TxOptions,
          fn: (...args: unknown[]) => Promise<unknown>,
          setClient: (tx?: EntityManager) => void,
          client: EntityManager,
        ) => {
          const hooks = ClsServiceManager.getClsService().get(AFTER_COMMIT) as
            AfterCommitHooks | undefined;
          const mark = hooks?.length ?? 0;
          try {
            return await o.wrapWithNestedTransaction(options as never, fn, setClient, client);
          } catch (error) {
            hooks?.splice(mark); // the savepoint rolled back: its callbacks must not run
            throw error;
          }
        },
      };
    };
  }
}
