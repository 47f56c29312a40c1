import { eventStoreMigrations } from '@infrastructure/event-sourcing';
import { messagingMigrations } from '@infrastructure/messaging';
import { auditMigrations } from '@infrastructure/security';
import { CreateOrders1764000000000 } from './1764000000000-create-orders.js';
import { CreateOrderSummaries1764300000000 } from './1764300000000-create-order-summaries.js';
import { MoneyAsBigint1764950000000 } from './1764950000000-money-as-bigint.js';

/** Every migration of the sample API, oldest first (the messaging lib's outbox/inbox, the event store's and the audit log's tables included). */
export const migrations = [
  CreateOrders1764000000000,
  ...messagingMigrations,
  CreateOrderSummaries1764300000000,
  ...eventStoreMigrations,
  ...auditMigrations,
  MoneyAsBigint1764950000000,
];
