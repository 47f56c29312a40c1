import { Table, type MigrationInterface, type QueryRunner } from 'typeorm';

/** The `order_summaries` read model (a projection of OrderPlaced), portable across databases. */
export class CreateOrderSummaries1764300000000 implements MigrationInterface {
  name = 'CreateOrderSummaries1764300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'order_summaries',
        columns: [
          { name: 'customer_id', type: 'varchar', length: '64', isPrimary: true },
          { name: 'orders_count', type: 'int' },
          { name: 'total_cents', type: 'int' },
          { name: 'last_order_id', type: 'varchar', length: '36' },
          { name: 'last_order_at', type: 'bigint' },
        ],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('order_summaries');
  }
}
