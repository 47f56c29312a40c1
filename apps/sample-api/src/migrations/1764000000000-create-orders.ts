import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

/** The `orders` table, portable across SQLite, PostgreSQL and MariaDB. */
export class CreateOrders1764000000000 implements MigrationInterface {
  name = 'CreateOrders1764000000000';

  async up(q: QueryRunner): Promise<void> {
    const sqlite = q.connection.options.type === 'better-sqlite3';
    await q.createTable(
      new Table({
        name: 'orders',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'customer_id', type: 'varchar', length: '64' },
          { name: 'sku', type: 'varchar', length: '64' },
          { name: 'quantity', type: 'int' },
          { name: 'unit_price_cents', type: 'int' },
          { name: 'total_cents', type: 'int' },
          { name: 'status', type: 'varchar', length: '20' },
          sqlite
            ? {
                name: 'created_at',
                type: 'datetime',
                default: "(strftime('%Y-%m-%d %H:%M:%f', 'now'))",
              }
            : {
                name: 'created_at',
                type: q.connection.options.type === 'postgres' ? 'timestamp' : 'datetime',
                precision: 3,
                default:
                  q.connection.options.type === 'postgres' ? 'now()' : 'CURRENT_TIMESTAMP(3)',
              },
          { name: 'version', type: 'int' },
        ],
      }),
    );
    await q.createIndex(
      'orders',
      new TableIndex({ name: 'idx_orders_customer', columnNames: ['customer_id'] }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('orders');
  }
}
