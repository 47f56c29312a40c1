import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';
import { GENESIS_HASH } from './audit-chain.js';

export const AUDIT_LOG_TABLE = 'audit_log';
export const AUDIT_HEAD_TABLE = 'audit_log_head';

/**
 * The audit log's tables, portable across SQLite, PostgreSQL and MariaDB:
 * `audit_log` (append-only; `id` is the position in the hash chain, assigned by the writer, so a
 * deleted row leaves a visible gap; `prev_hash` and `hash` are hex SHA-256; times are epoch
 * milliseconds) and `audit_log_head` (one row: the last id and hash; its row lock orders writers
 * so concurrent instances never fork the chain).
 */
export class CreateAuditLog1764600000000 implements MigrationInterface {
  name = 'CreateAuditLog1764600000000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: AUDIT_LOG_TABLE,
        columns: [
          { name: 'id', type: 'bigint', isPrimary: true },
          { name: 'occurred_at', type: 'bigint' },
          { name: 'action', type: 'varchar', length: '100' },
          { name: 'outcome', type: 'varchar', length: '16' },
          { name: 'actor', type: 'varchar', length: '200', isNullable: true },
          { name: 'target', type: 'varchar', length: '200', isNullable: true },
          { name: 'correlation_id', type: 'varchar', length: '128', isNullable: true },
          { name: 'metadata', type: 'text' },
          { name: 'prev_hash', type: 'varchar', length: '64' },
          { name: 'hash', type: 'varchar', length: '64' },
        ],
      }),
      true,
    );
    await q.createTable(
      new Table({
        name: AUDIT_HEAD_TABLE,
        columns: [
          { name: 'id', type: 'int', isPrimary: true },
          { name: 'last_id', type: 'bigint' },
          { name: 'last_hash', type: 'varchar', length: '64' },
        ],
      }),
      true,
    );
    const [row] = (await q.query(`SELECT COUNT(*) AS n FROM ${AUDIT_HEAD_TABLE}`)) as Array<{
      n: number | string;
    }>;
    if (Number(row?.n ?? 0) === 0) {
      await q.query(
        `INSERT INTO ${AUDIT_HEAD_TABLE} (id, last_id, last_hash) VALUES (1, 0, '${GENESIS_HASH}')`,
      );
    }
    const table = await q.getTable(AUDIT_LOG_TABLE);
    for (const [name, column] of [
      ['idx_audit_log_occurred', 'occurred_at'],
      ['idx_audit_log_action', 'action'],
      ['idx_audit_log_actor', 'actor'],
    ] as const) {
      if (!table?.indices.some((i) => i.name === name)) {
        await q.createIndex(AUDIT_LOG_TABLE, new TableIndex({ name, columnNames: [column] }));
      }
    }
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable(AUDIT_HEAD_TABLE, true);
    await q.dropTable(AUDIT_LOG_TABLE, true);
  }
}

/** The audit log's migrations, oldest first: spread them into your data source's list. */
export const auditMigrations = [CreateAuditLog1764600000000];
