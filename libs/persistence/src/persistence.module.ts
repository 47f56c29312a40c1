import { Logger, Module, type DynamicModule, type Provider } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { getDataSourceToken, getEntityManagerToken } from '@nestjs/typeorm';
import { ClsPluginTransactional } from '@nestjs-cls/transactional';
import { AfterCommit, extendModule } from '@infrastructure/core';
import { getLogger, HealthRegistry, MetricsService } from '@infrastructure/monitoring';
import { ClsModule } from 'nestjs-cls';
import type { DataSource } from 'typeorm';
import { connectDataSource, replaceConnectionPool } from './data-source.js';
import { instrumentDataSource } from './instrumentation.js';
import { runMigrationsLocked } from './migrations.js';
import { parseDatabaseUrl } from './database-url.js';
import { persistenceOptionsToken, persistenceTargetToken } from './persistence.constants.js';
import {
  ASYNC_OPTIONS_TYPE,
  ConfigurableModuleClass,
  OPTIONS_TYPE,
  PERSISTENCE_MODULE_OPTIONS,
} from './persistence.module-definition.js';
import {
  resolvePersistenceOptions,
  type PersistenceOptions,
  type ResolvedPersistenceOptions,
} from './persistence.options.js';
import { AfterCommitTypeOrmAdapter } from './transactions/after-commit-adapter.js';
import { UnitOfWork } from './transactions/unit-of-work.js';

/** Registers the readiness check and closes the connection on shutdown. */
class ConnectionLifecycle {
  private readonly log = getLogger('Persistence');

  constructor(
    private readonly name: string,
    private readonly dataSource: DataSource,
    private readonly options: ResolvedPersistenceOptions,
    private readonly moduleRef: ModuleRef,
  ) {}

  private unsubscribe?: () => void;
  private rotating = Promise.resolve();

  onModuleInit(): void {
    const secret = this.options.password;
    if (secret) {
      this.unsubscribe = secret.secrets.onChange(secret.name, (value) => {
        if (value === undefined) {
          this.log.warn(
            `database password secret ${secret.name} disappeared; keeping the current pool`,
          );
          return;
        }
        // One replacement at a time: a burst of rotations ends on the last value.
        this.rotating = this.rotating.then(() => this.replacePool(secret.name));
      });
    }
    let metrics: MetricsService | undefined;
    try {
      metrics = this.moduleRef.get(MetricsService, { strict: false });
    } catch {
      metrics = undefined;
    }
    if (metrics) instrumentDataSource(this.dataSource, metrics, this.name);
    if (!this.options.health.enabled) return;
    let registry: HealthRegistry | undefined;
    try {
      // The monitoring lib is optional: register the check only when its registry is there.
      registry = this.moduleRef.get(HealthRegistry, { strict: false });
    } catch {
      return;
    }
    if (!registry) return;
    registry.register(
      this.name === 'default' ? 'database' : `database:${this.name}`,
      async () => {
        await this.dataSource.query('SELECT 1');
        return { type: this.dataSource.options.type };
      },
      { critical: this.options.health.critical, timeoutMs: this.options.health.timeoutMs },
    );
  }

  private async replacePool(name: string): Promise<void> {
    if (!this.dataSource.isInitialized) return;
    try {
      const { drained } = await replaceConnectionPool(this.dataSource);
      this.log.info({ secret: name }, 'database password rotated; connection pool replaced');
      void drained.then(
        () => this.log.info({ secret: name }, 'old connection pool drained'),
        (error: unknown) =>
          this.log.warn(
            { secret: name, reason: (error as Error).message },
            'old pool close failed',
          ),
      );
    } catch (error) {
      this.log.error(
        { secret: name, reason: (error as Error).message },
        'the rotated database password does not connect; keeping the current pool',
      );
    }
  }

  async onApplicationShutdown(): Promise<void> {
    this.unsubscribe?.();
    await this.rotating;
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}

function withPersistence(module: DynamicModule, name: string): DynamicModule {
  const connection = name === 'default' ? undefined : name;
  const dataSourceToken = getDataSourceToken(connection);
  const optionsToken = persistenceOptionsToken(name);
  const targetToken = persistenceTargetToken(name);
  const logger = new Logger(connection ? `Persistence:${name}` : 'Persistence');
  const providers: Provider[] = [
    {
      provide: optionsToken,
      useFactory: (o: PersistenceOptions) => resolvePersistenceOptions(o),
      inject: [PERSISTENCE_MODULE_OPTIONS],
    },
    {
      provide: targetToken,
      useFactory: (o: ResolvedPersistenceOptions) => parseDatabaseUrl(o.url),
      inject: [optionsToken],
    },
    {
      provide: dataSourceToken,
      useFactory: async (o: ResolvedPersistenceOptions) => {
        const ds = await connectDataSource(o, connection, (attempt, delay, error) =>
          logger.warn(
            `database not reachable (attempt ${attempt}): ${(error as Error).message}; retrying in ${delay} ms`,
          ),
        );
        if (o.migrationsRun) {
          const applied = await runMigrationsLocked(ds);
          if (applied.length)
            logger.log(
              `applied ${applied.length} migration(s): ${applied.map((m) => m.name).join(', ')}`,
            );
        }
        return ds;
      },
      inject: [optionsToken],
    },
    {
      provide: getEntityManagerToken(connection),
      useFactory: (ds: DataSource) => ds.manager,
      inject: [dataSourceToken],
    },
    {
      provide: `PERSISTENCE:LIFECYCLE:${name}`,
      useFactory: (ds: DataSource, o: ResolvedPersistenceOptions, ref: ModuleRef) =>
        new ConnectionLifecycle(name, ds, o, ref),
      inject: [dataSourceToken, optionsToken, ModuleRef],
    },
    ...(connection ? [] : [UnitOfWork, { provide: AfterCommit, useExisting: UnitOfWork }]),
  ];
  return extendModule(module, {
    imports: [
      ClsModule.registerPlugins([
        new ClsPluginTransactional({
          connectionName: connection,
          adapter: new AfterCommitTypeOrmAdapter({ dataSourceToken }),
        }),
      ]),
    ],
    providers,
    exports: [
      optionsToken,
      targetToken,
      dataSourceToken,
      getEntityManagerToken(connection),
      ...(connection ? [] : [UnitOfWork, AfterCommit]),
      ClsModule,
    ],
  });
}

/**
 * A TypeORM connection chosen by URL (SQLite, PostgreSQL, MariaDB/MySQL) with pool defaults,
 * connect retries, a readiness check, and transactions (`UnitOfWork`, `@Transactional()`) that
 * repositories join automatically. `TypeOrmModule.forFeature([Entity])` works on top of it.
 */
@Module({})
export class PersistenceModule extends ConfigurableModuleClass {
  static override forRoot(options: typeof OPTIONS_TYPE): DynamicModule {
    return withPersistence(super.forRoot(options), options.name ?? 'default');
  }

  static override forRootAsync(options: typeof ASYNC_OPTIONS_TYPE): DynamicModule {
    return withPersistence(super.forRootAsync(options), options.name ?? 'default');
  }
}
