import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

export const OUTBOX_TABLE = 'outbox_messages';
export const INBOX_TABLE = 'inbox_messages';

/**
 * The `outbox_messages` and `inbox_messages` tables, portable across SQLite, PostgreSQL and
 * MariaDB. Add `messagingMigrations` to your data source's migrations (or let the module create
 * the tables at boot with `outbox.createTables`, the default).
 * Times are epoch milliseconds (bigint) so every dialect compares them the same way.
 */
export class CreateMessagingTables1764200000000 implements MigrationInterface {
  name = 'CreateMessagingTables1764200000000';

  async up(q: QueryRunner): Promise<void> {
    const sqlite = q.connection.options.type === 'better-sqlite3';
    await q.createTable(
      new Table({
        name: OUTBOX_TABLE,
        columns: [
          {
            name: 'position',
            type: sqlite ? 'integer' : 'bigint',
            isPrimary: true,
            isGenerated: true,
            generationStrategy: 'increment',
          },
          { name: 'message_id', type: 'varchar', length: '64', isUnique: true },
          { name: 'type', type: 'varchar', length: '200' },
          { name: 'message_key', type: 'varchar', length: '200', isNullable: true },
          { name: 'body', type: 'text' },
          { name: 'headers', type: 'text' },
          { name: 'created_at', type: 'bigint' },
          { name: 'sent_at', type: 'bigint', isNullable: true },
          { name: 'claimed_by', type: 'varchar', length: '64', isNullable: true },
          { name: 'claimed_until', type: 'bigint', isNullable: true },
          { name: 'attempts', type: 'int', default: 0 },
          { name: 'last_error', type: 'varchar', length: '1000', isNullable: true },
        ],
      }),
      true,
    );
    await ensureIndex(q, OUTBOX_TABLE, 'idx_outbox_pending', ['sent_at', 'position']);
    await ensureIndex(q, OUTBOX_TABLE, 'idx_outbox_claimed', ['claimed_until']);
    await q.createTable(
      new Table({
        name: INBOX_TABLE,
        columns: [
          { name: 'message_id', type: 'varchar', length: '64', isPrimary: true },
          { name: 'handler', type: 'varchar', length: '200', isPrimary: true },
          { name: 'processed_at', type: 'bigint' },
        ],
      }),
      true,
    );
    await ensureIndex(q, INBOX_TABLE, 'idx_inbox_processed', ['processed_at']);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable(INBOX_TABLE, true);
    await q.dropTable(OUTBOX_TABLE, true);
  }
}

/** Idempotent: the tables may have been created at boot (`outbox.createTables`) before. */
async function ensureIndex(q: QueryRunner, table: string, name: string, columnNames: string[]) {
  const existing = await q.getTable(table);
  if (existing?.indices.some((i) => i.name === name)) return;
  await q.createIndex(table, new TableIndex({ name, columnNames }));
}

/** The messaging lib's migrations, oldest first: spread them into your data source's list. */
export const messagingMigrations = [CreateMessagingTables1764200000000];
