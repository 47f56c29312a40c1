import type { MigrationInterface, QueryRunner } from 'typeorm';

const COLUMNS = [
  ['orders', 'total_cents'],
  ['orders', 'unit_price_cents'],
  ['order_summaries', 'total_cents'],
] as const;

/**
 * Money columns become BIGINT: one order can total 1,000 × 10,000,000 cents, beyond a 32-bit
 * `int`, and a customer's summary adds orders up. SQLite's INTEGER is already 64-bit.
 */
export class MoneyAsBigint1764950000000 implements MigrationInterface {
  name = 'MoneyAsBigint1764950000000';

  up(q: QueryRunner): Promise<void> {
    return widen(q, 'bigint');
  }

  down(q: QueryRunner): Promise<void> {
    return widen(q, 'int');
  }
}

async function widen(q: QueryRunner, type: 'bigint' | 'int'): Promise<void> {
  const dialect = q.connection.options.type;
  for (const [table, column] of COLUMNS) {
    if (dialect === 'postgres') {
      await q.query(`ALTER TABLE ${table} ALTER COLUMN ${column} TYPE ${type}`);
    } else if (dialect === 'mysql' || dialect === 'mariadb') {
      await q.query(`ALTER TABLE ${table} MODIFY ${column} ${type.toUpperCase()} NOT NULL`);
    }
  }
}
