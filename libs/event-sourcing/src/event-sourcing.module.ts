import {
  ConfigurableModuleBuilder,
  Module,
  type DynamicModule,
  type Provider,
} from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { extendModule } from '@infrastructure/core';
import { EventBus } from '@infrastructure/messaging';
import { UnitOfWork } from '@infrastructure/persistence';
import { CheckpointStore, MemoryCheckpointStore, SqlCheckpointStore } from './checkpoint-store.js';
import { EventSourcingError } from './errors.js';
import { EventStore } from './event-store.js';
import {
  EVENT_SOURCING_OPTIONS,
  resolveEventSourcingOptions,
  type EventSourcingOptions,
  type ResolvedEventSourcingOptions,
} from './event-sourcing.options.js';
import { EventSourcing } from './event-sourcing.service.js';
import { MemoryEventStore } from './memory-event-store.js';
import {
  MemoryParkedEventStore,
  ParkedEventStore,
  SqlParkedEventStore,
} from './parked-event-store.js';
import { ParkedEvents } from './parked-events.js';
import { ProjectionRunner } from './projection.runner.js';
import { MemorySnapshotStore, SnapshotStore, SqlSnapshotStore } from './snapshot-store.js';
import { SqlEventStore } from './sql-event-store.js';

export const {
  ConfigurableModuleClass,
  MODULE_OPTIONS_TOKEN: EVENT_SOURCING_MODULE_OPTIONS,
  OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<EventSourcingOptions>({ moduleName: 'EventSourcing' })
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createEventSourcingOptions')
  .setExtras<{ isGlobal?: boolean }>({ isGlobal: true }, (def, extras) => ({
    ...def,
    global: extras.isGlobal,
  }))
  .build();

interface Backend {
  store: EventStore;
  snapshots: SnapshotStore;
  checkpoints: CheckpointStore;
  parked: ParkedEventStore;
  es: EventSourcing;
}

const BACKEND = 'EVENT_SOURCING:BACKEND';

async function createBackend(
  options: ResolvedEventSourcingOptions,
  dataSource?: DataSource,
  uow?: UnitOfWork,
  bus?: EventBus,
): Promise<Backend> {
  const kind = options.store ?? (dataSource && uow ? 'sql' : 'memory');
  if (kind === 'memory') {
    const store = new MemoryEventStore();
    const snapshots = new MemorySnapshotStore();
    return {
      store,
      snapshots,
      checkpoints: new MemoryCheckpointStore(),
      parked: new MemoryParkedEventStore(),
      es: new EventSourcing(store, snapshots, bus, uow),
    };
  }
  if (!dataSource || !uow) {
    throw new EventSourcingError(
      "EventSourcingModule: options.store 'sql' needs the persistence lib (import PersistenceModule.forRoot), or use store: 'memory'",
    );
  }
  const store = new SqlEventStore(dataSource, uow);
  if (options.createTables) await store.ensureTables();
  else if (!(await store.tablesExist())) {
    throw new EventSourcingError(
      'EventSourcingModule: the event store tables are missing: add eventStoreMigrations to your migrations, or set options.createTables to true',
    );
  }
  const snapshots = new SqlSnapshotStore(dataSource, uow);
  return {
    store,
    snapshots,
    checkpoints: new SqlCheckpointStore(dataSource, () => uow.manager),
    parked: new SqlParkedEventStore(dataSource, () => uow.manager),
    es: new EventSourcing(store, snapshots, bus, uow),
  };
}

function withEventSourcing(module: DynamicModule): DynamicModule {
  const providers: Provider[] = [
    {
      provide: EVENT_SOURCING_OPTIONS,
      useFactory: (o: EventSourcingOptions) => resolveEventSourcingOptions(o),
      inject: [EVENT_SOURCING_MODULE_OPTIONS],
    },
    {
      provide: BACKEND,
      useFactory: createBackend,
      // Injected (not looked up) so Nest builds them first; all optional: memory store without them.
      inject: [
        EVENT_SOURCING_OPTIONS,
        { token: getDataSourceToken(), optional: true },
        { token: UnitOfWork, optional: true },
        { token: EventBus, optional: true },
      ],
    },
    { provide: EventStore, useFactory: (b: Backend) => b.store, inject: [BACKEND] },
    { provide: SnapshotStore, useFactory: (b: Backend) => b.snapshots, inject: [BACKEND] },
    { provide: CheckpointStore, useFactory: (b: Backend) => b.checkpoints, inject: [BACKEND] },
    { provide: ParkedEventStore, useFactory: (b: Backend) => b.parked, inject: [BACKEND] },
    { provide: EventSourcing, useFactory: (b: Backend) => b.es, inject: [BACKEND] },
    ProjectionRunner,
    ParkedEvents,
  ];
  return extendModule(module, {
    imports: [DiscoveryModule],
    providers,
    exports: [
      EventStore,
      SnapshotStore,
      CheckpointStore,
      ParkedEventStore,
      EventSourcing,
      ProjectionRunner,
      ParkedEvents,
    ],
  });
}

/**
 * The event store (SQL on the persistence lib's database, or in memory), snapshots, event-sourced
 * repositories' dependencies (`EventSourcing`) and the projection runner for `@Projection`
 * providers. Global by default.
 */
@Module({})
export class EventSourcingModule extends ConfigurableModuleClass {
  static override forRoot(options: typeof OPTIONS_TYPE = {}): DynamicModule {
    return withEventSourcing(super.forRoot(options));
  }

  static override forRootAsync(options: typeof ASYNC_OPTIONS_TYPE): DynamicModule {
    return withEventSourcing(super.forRootAsync(options));
  }
}
