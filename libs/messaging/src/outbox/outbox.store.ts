import type { DataSource, EntityManager } from 'typeorm';
import { runExclusive, runStatementBatch, SqlDialect } from '@infrastructure/persistence';
import type { OutgoingMessage } from '../transports/transport.js';
import {
  CreateMessagingTables1764200000000,
  INBOX_TABLE,
  OUTBOX_TABLE,
} from './messaging-tables.migration.js';

/** A claimed outbox row, ready to publish. */
export interface OutboxRow extends OutgoingMessage {
  position: number;
  messageId: string;
}

/** Pending rows and the age of the oldest one. */
export interface OutboxStats {
  pending: number;
  oldestCreatedAt: number | null;
}

const CLAIM_LOCK_KEY = 7_236_189_442; // pg_advisory_xact_lock key of outbox claims

/**
 * The SQL behind the outbox and inbox, per dialect. Claims take a short transaction: a
 * database-wide claim lock (PostgreSQL advisory lock, in the same round trip as the claim itself;
 * MariaDB GET_LOCK; SQLite has one writer),
 * then `SELECT … FOR UPDATE SKIP LOCKED` of the oldest unclaimed rows, skipping every key another
 * relay holds a lease on (per-key order across relays), then a lease (`claimed_by`,
 * `claimed_until`). Publishing happens outside the transaction; only the lease holder marks rows
 * sent; an expired lease (a relay that died) makes rows claimable again.
 */
export class OutboxStore {
  private readonly sql: SqlDialect;

  constructor(readonly dataSource: DataSource) {
    this.sql = new SqlDialect(dataSource);
  }

  private p(i: number): string {
    return this.sql.param(i);
  }

  private list(from: number, count: number): string {
    return this.sql.params(from, count);
  }

  /** Creates the tables when they are missing (`outbox.createTables`). */
  async ensureTables(): Promise<void> {
    const q = this.dataSource.createQueryRunner();
    try {
      if ((await q.hasTable(OUTBOX_TABLE)) && (await q.hasTable(INBOX_TABLE))) return;
      await new CreateMessagingTables1764200000000().up(q);
    } finally {
      await q.release();
    }
  }

  /** True when both tables exist. */
  async tablesExist(): Promise<boolean> {
    const q = this.dataSource.createQueryRunner();
    try {
      return (await q.hasTable(OUTBOX_TABLE)) && (await q.hasTable(INBOX_TABLE));
    } finally {
      await q.release();
    }
  }

  /** A write outside any unit of work (alone on SQLite, see `runExclusive`). */
  private write(sql: string, params: unknown[]): Promise<unknown> {
    return runExclusive(this.dataSource, () => this.dataSource.query(sql, params));
  }

  /**
   * Inserts messages through `manager`: the current transaction's inside a unit of work, or the
   * data source's (autocommit, alone on SQLite) outside one.
   */
  insert(manager: EntityManager, messages: readonly OutgoingMessage[]): Promise<void> {
    return manager.queryRunner?.isTransactionActive
      ? this.insertNow(manager, messages)
      : runExclusive(this.dataSource, () => this.insertNow(manager, messages));
  }

  private async insertNow(
    manager: EntityManager,
    messages: readonly OutgoingMessage[],
  ): Promise<void> {
    const now = Date.now();
    const chunk = 200;
    for (let i = 0; i < messages.length; i += chunk) {
      const part = messages.slice(i, i + chunk);
      const params: unknown[] = [];
      const rows = part.map((m) => {
        const base = params.length;
        params.push(
          m.headers['x-message-id'] ?? crypto.randomUUID(),
          m.type,
          m.key ?? null,
          m.body,
          JSON.stringify(m.headers),
          now,
        );
        return `(${this.list(base + 1, 6)})`;
      });
      await manager.query(
        `INSERT INTO ${OUTBOX_TABLE} (message_id, type, message_key, body, headers, created_at) VALUES ${rows.join(', ')}`,
        params,
      );
    }
  }

  /** Leases up to `limit` publishable rows to `relayId` for `leaseMs`, oldest first. */
  claim(relayId: string, limit: number, leaseMs: number): Promise<OutboxRow[]> {
    return runExclusive(this.dataSource, () => this.claimNow(relayId, limit, leaseMs));
  }

  private async claimNow(relayId: string, limit: number, leaseMs: number): Promise<OutboxRow[]> {
    if (this.sql.name === 'postgres') return this.claimPostgres(relayId, limit, leaseMs);
    const q = this.dataSource.createQueryRunner();
    await q.connect();
    let locked = false;
    try {
      if (this.sql.name === 'mysql') {
        const [row] = (await q.query(`SELECT GET_LOCK('outbox_claim', 10) AS got`)) as Array<{
          got: number | string;
        }>;
        locked = Number(row?.got) === 1;
        if (!locked) return [];
      }
      await q.startTransaction();
      try {
        const now = Date.now();
        // Keys another relay holds a lease on: none of their rows may be taken now (per-key order).
        const held = (
          (await q.query(
            `SELECT DISTINCT message_key AS k FROM ${OUTBOX_TABLE}
              WHERE claimed_until >= ${this.p(1)} AND claimed_by <> ${this.p(2)}
                AND sent_at IS NULL AND message_key IS NOT NULL`,
            [now, relayId],
          )) as Array<{ k: string }>
        ).map((r) => r.k);
        const params: unknown[] = [now, ...held];
        const notHeld =
          held.length === 0
            ? ''
            : ` AND (o.message_key IS NULL OR o.message_key NOT IN (${this.list(2, held.length)}))`;
        const forUpdate = this.sql.name === 'sqlite' ? '' : ' FOR UPDATE SKIP LOCKED';
        const rows = (await q.query(
          `SELECT o.position, o.message_id, o.type, o.message_key, o.body, o.headers
             FROM ${OUTBOX_TABLE} o
            WHERE o.sent_at IS NULL
              AND (o.claimed_until IS NULL OR o.claimed_until < ${this.p(1)})${notHeld}
            ORDER BY o.position
            LIMIT ${Math.trunc(limit)}${forUpdate}`,
          params,
        )) as Array<Record<string, unknown>>;
        if (rows.length > 0) {
          const positions = rows.map((r) => Number(r.position));
          await q.query(
            `UPDATE ${OUTBOX_TABLE} SET claimed_by = ${this.p(1)}, claimed_until = ${this.p(2)}
              WHERE position IN (${this.list(3, positions.length)})`,
            [relayId, now + leaseMs, ...positions],
          );
        }
        await q.commitTransaction();
        return rows.map(toOutboxRow);
      } catch (error) {
        await q.rollbackTransaction();
        throw error;
      }
    } finally {
      if (locked) await q.query(`SELECT RELEASE_LOCK('outbox_claim')`).catch(() => undefined);
      await q.release();
    }
  }

  /**
   * PostgreSQL: the whole claim in one round trip (it was six: begin, lock, key fence, select,
   * lease, commit). A multi-statement simple query runs as one implicit transaction, and each of
   * its statements takes its own snapshot: the lease `UPDATE` runs after the claim lock is held
   * and sees what the lock's previous holder committed. One `UPDATE … RETURNING` picks the oldest
   * unleased rows whose key no other relay holds (`FOR UPDATE SKIP LOCKED`) and leases them.
   */
  private async claimPostgres(
    relayId: string,
    limit: number,
    leaseMs: number,
  ): Promise<OutboxRow[]> {
    const now = Date.now();
    const [, leased] = await runStatementBatch(this.dataSource.manager, (literal) => {
      const me = literal(relayId);
      return `SELECT pg_advisory_xact_lock(${CLAIM_LOCK_KEY});
        WITH held AS (
          SELECT DISTINCT message_key FROM ${OUTBOX_TABLE}
           WHERE claimed_until >= ${now} AND claimed_by <> ${me}
             AND sent_at IS NULL AND message_key IS NOT NULL
        ), picked AS (
          SELECT o.position FROM ${OUTBOX_TABLE} o
           WHERE o.sent_at IS NULL
             AND (o.claimed_until IS NULL OR o.claimed_until < ${now})
             AND (o.message_key IS NULL OR o.message_key NOT IN (SELECT message_key FROM held))
           ORDER BY o.position
           LIMIT ${Math.trunc(limit)}
           FOR UPDATE SKIP LOCKED
        )
        UPDATE ${OUTBOX_TABLE} AS t SET claimed_by = ${me}, claimed_until = ${now + leaseMs}
          FROM picked WHERE t.position = picked.position
        RETURNING t.position, t.message_id, t.type, t.message_key, t.body, t.headers`;
    });
    return (leased as Array<Record<string, unknown>>)
      .map(toOutboxRow)
      .sort((a, b) => a.position - b.position);
  }

  /** Marks rows sent (only those still leased to `relayId`). */
  async markSent(relayId: string, positions: readonly number[]): Promise<void> {
    if (positions.length === 0) return;
    await this.write(
      `UPDATE ${OUTBOX_TABLE} SET sent_at = ${this.p(1)}, claimed_by = NULL, claimed_until = NULL
        WHERE claimed_by = ${this.p(2)} AND position IN (${this.list(3, positions.length)})`,
      [Date.now(), relayId, ...positions],
    );
  }

  /** Gives rows back after a failed publish, recording the error. */
  async release(relayId: string, positions: readonly number[], error: string): Promise<void> {
    if (positions.length === 0) return;
    await this.write(
      `UPDATE ${OUTBOX_TABLE}
          SET claimed_by = NULL, claimed_until = NULL, attempts = attempts + 1, last_error = ${this.p(1)}
        WHERE claimed_by = ${this.p(2)} AND position IN (${this.list(3, positions.length)})`,
      [error.slice(0, 1000), relayId, ...positions],
    );
  }

  /** Count of unsent rows and the creation time of the oldest. */
  async stats(): Promise<OutboxStats> {
    const [row] = (await this.dataSource.query(
      `SELECT COUNT(*) AS pending, MIN(created_at) AS oldest FROM ${OUTBOX_TABLE} WHERE sent_at IS NULL`,
    )) as Array<{ pending: number | string; oldest: number | string | null }>;
    return {
      pending: Number(row?.pending ?? 0),
      oldestCreatedAt: row?.oldest == null ? null : Number(row.oldest),
    };
  }

  /** Deletes sent outbox rows and inbox rows older than their retention; returns rows deleted. */
  async cleanup(outboxRetentionMs: number, inboxRetentionMs: number): Promise<number> {
    const now = Date.now();
    let deleted = 0;
    const sent = await this.deleteBatched(
      `${OUTBOX_TABLE}`,
      'position',
      `sent_at IS NOT NULL AND sent_at < ${this.p(1)}`,
      now - outboxRetentionMs,
    );
    deleted += sent;
    deleted += await runExclusive(this.dataSource, () =>
      this.exec(
        this.dataSource.manager,
        `DELETE FROM ${INBOX_TABLE} WHERE processed_at < ${this.p(1)}`,
        [now - inboxRetentionMs],
      ),
    );
    return deleted;
  }

  private async deleteBatched(
    table: string,
    key: string,
    where: string,
    param: number,
  ): Promise<number> {
    let total = 0;
    for (;;) {
      const rows = (await this.dataSource.query(
        `SELECT ${key} AS k FROM ${table} WHERE ${where} ORDER BY ${key} LIMIT 5000`,
        [param],
      )) as Array<{ k: number | string }>;
      if (rows.length === 0) return total;
      const keys = rows.map((r) => Number(r.k));
      await this.write(`DELETE FROM ${table} WHERE ${key} IN (${this.list(1, keys.length)})`, keys);
      total += keys.length;
      if (rows.length < 5000) return total;
    }
  }

  /**
   * Records that `handler` processed `messageId` in the current transaction (`manager`).
   * @returns false when it already had (a redelivery).
   */
  async markProcessed(
    manager: EntityManager,
    messageId: string,
    handler: string,
  ): Promise<boolean> {
    const sql = this.sql.insertIgnore(INBOX_TABLE, ['message_id', 'handler', 'processed_at']);
    return (await this.exec(manager, sql, [messageId, handler, Date.now()])) === 1;
  }

  private exec(manager: EntityManager, sql: string, params: unknown[]): Promise<number> {
    return this.sql.execute(this.dataSource, manager, sql, params);
  }
}

function toOutboxRow(r: Record<string, unknown>): OutboxRow {
  return {
    position: Number(r.position),
    messageId: String(r.message_id),
    type: String(r.type),
    body: String(r.body),
    headers: JSON.parse(String(r.headers)) as Record<string, string>,
    ...(r.message_key == null ? {} : { key: String(r.message_key) }),
  };
}
