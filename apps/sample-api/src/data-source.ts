// The DataSource the TypeORM CLI uses (`npm run migration:*`): the same URL, entities and
// migrations as the app, read from the same configuration (DATABASE_URL, .env files, _FILE).
import 'reflect-metadata';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DataSource } from 'typeorm';
import { loadConfiguration } from '@infrastructure/configuration';
import {
  databaseConfig,
  dataSourceOptions,
  parseDatabaseUrl,
  persistenceOptionsFrom,
  resolvePersistenceOptions,
} from '@infrastructure/persistence';
import { migrations } from './migrations/index.js';
import { OrderSummaryEntity } from './orders/infrastructure/order-summary.entity.js';
import { OrderEntity } from './orders/infrastructure/order.entity.js';

const config = loadConfiguration([databaseConfig]);
const options = resolvePersistenceOptions(
  persistenceOptionsFrom(config.values.database, {
    entities: [OrderEntity, OrderSummaryEntity],
    migrations,
  }),
);
const target = parseDatabaseUrl(options.url);
if (target.file && target.file !== ':memory:') mkdirSync(dirname(target.file), { recursive: true });

// The CLI prints through the DataSource logger: use TypeORM's console logger here.
export default new DataSource({
  ...dataSourceOptions(target, options),
  logger: 'advanced-console',
});
