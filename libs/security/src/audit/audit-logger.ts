import { Injectable } from '@nestjs/common';
import type { Counter } from 'prom-client';
import type { DataSource, EntityManager } from 'typeorm';
import {
  currentContext,
  DEFAULT_SECRET_KEY,
  getLogger,
  redactDeep,
} from '@infrastructure/monitoring';
import { runExclusive, SqlDialect } from '@infrastructure/persistence';
import { auditRowHash, canonicalJson, GENESIS_HASH, type AuditRow } from './audit-chain.js';
import {
  AUDIT_HEAD_TABLE,
  AUDIT_LOG_TABLE,
  CreateAuditLog1764600000000,
} from './audit-log.migration.js';
import type {
  AuditChainVerification,
  AuditEntry,
  AuditEvent,
  AuditOptions,
  AuditOutcome,
  AuditRecordResult,
} from './audit.options.js';
import { AuditRecordError, AuditWriteError } from './errors.js';

const OUTCOMES: ReadonlySet<string> = new Set<AuditOutcome>(['success', 'failure', 'denied']);
const ACTION = /^[A-Za-z0-9_.:-]{1,100}$/;
const MAX_TEXT = 200;

interface DbRow {
  id: number | string;
  occurred_at: number | string;
  action: string;
  outcome: string;
  actor: string | null;
  target: string | null;
  correlation_id: string | null;
  metadata: string;
  prev_hash: string;
  hash: string;
}

const COLUMNS =
  'id, occurred_at, action, outcome, actor, target, correlation_id, metadata, prev_hash, hash';

function cut(value: string | null | undefined): string | null {
  if (value === undefined || value === null || value === '') return null;
  const text = String(value);
  return text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT - 1)}…` : text;
}

function toRow(r: DbRow): AuditRow & { hash: string } {
  return {
    id: Number(r.id),
    occurredAt: Number(r.occurred_at),
    action: r.action,
    outcome: r.outcome,
    actor: r.actor,
    target: r.target,
    correlationId: r.correlation_id,
    metadata: r.metadata,
    prevHash: r.prev_hash,
    hash: r.hash,
  };
}

/**
 * The security audit trail. Each {@link record} goes to the log stream (one info line carrying the
 * correlation id) and, with a data source, to the append-only, hash-chained `audit_log` table:
 * row `n` stores `prev_hash` (row `n-1`'s hash) and `hash = sha256(prev_hash + canonical JSON of
 * the row)`, so an edited, deleted or inserted row breaks the chain at that point and
 * {@link verifyChain} names it. Writers take the one-row `audit_log_head` lock, so concurrent
 * instances append one after the other and never fork the chain.
 *
 * Works standalone (`new AuditLogger({ dataSource })`) or as a Nest provider built from options.
 *
 * @example
 * await audit.record({ action: AuditActions.login, outcome: 'failure', actor: `user:${name}`, metadata: { ip } });
 */
@Injectable()
export class AuditLogger {
  private readonly log = getLogger('Audit');
  private readonly sql?: SqlDialect;
  private readonly records?: Counter<'action' | 'outcome'>;
  private readonly failures?: Counter;
  private ready?: Promise<void>;

  constructor(private readonly options: AuditOptions = {}) {
    if (options.dataSource) this.sql = new SqlDialect(options.dataSource);
    this.records = options.metrics?.counter({
      name: 'audit_records_total',
      help: 'Security audit records, by action and outcome.',
      labelNames: ['action', 'outcome'],
    });
    this.failures = options.metrics?.counter({
      name: 'audit_write_failures_total',
      help: 'Audit records that could not be written to the audit table.',
    });
  }

  /**
   * Records a security event: logs it, and appends it to the audit table when there is one.
   * Resolves once the row is written (or its failure logged, unless `strict`).
   * @throws AuditRecordError for a malformed event (empty action, unknown outcome);
   *   AuditWriteError when `strict` and the row cannot be written.
   */
  async record(event: AuditEvent): Promise<AuditRecordResult> {
    if (typeof event?.action !== 'string' || !ACTION.test(event.action)) {
      throw new AuditRecordError(
        `audit action must be 1-100 characters of letters, digits, "._:-", got ${JSON.stringify(event?.action)}`,
      );
    }
    if (!OUTCOMES.has(event.outcome)) {
      throw new AuditRecordError(
        `audit outcome must be success, failure or denied, got ${JSON.stringify(event.outcome)}`,
      );
    }
    const context = currentContext();
    const entry = {
      occurredAt: Date.now(),
      action: event.action,
      outcome: event.outcome,
      actor: cut(event.actor === undefined ? context.userId : event.actor),
      target: cut(event.target),
      correlationId: cut(context.correlationId),
      metadata: this.metadataOf(event.metadata),
    };
    this.records?.inc({ action: entry.action, outcome: entry.outcome });
    const logged = {
      action: entry.action,
      outcome: entry.outcome,
      actor: entry.actor,
      target: entry.target,
      metadata: JSON.parse(entry.metadata) as unknown,
    };
    if (!this.options.dataSource) {
      this.log.info({ audit: logged }, `audit ${entry.action} ${entry.outcome}`);
      return { stored: false };
    }
    try {
      await this.prepare();
      const { id, hash } = await this.append(entry);
      this.log.info({ audit: { id, ...logged, hash } }, `audit ${entry.action} ${entry.outcome}`);
      return { stored: true, id, hash };
    } catch (error) {
      this.failures?.inc();
      this.log.error(
        { audit: logged, error: (error as Error)?.name, reason: (error as Error)?.message },
        `audit record not stored: ${entry.action} ${entry.outcome}`,
      );
      if (this.options.strict) {
        throw new AuditWriteError(`audit record ${entry.action} could not be stored`, {
          cause: error,
        });
      }
      return { stored: false };
    }
  }

  /**
   * Re-computes the chain from the first row and the head: the first row that was edited, or
   * follows a deleted row, or the head when rows were cut from the end.
   */
  async verifyChain(options: { batchSize?: number } = {}): Promise<AuditChainVerification> {
    const batch = Math.max(1, Math.trunc(options.batchSize ?? 1000));
    const dataSource = this.requireDataSource();
    await this.prepare();
    let prevHash = GENESIS_HASH;
    let expectedId = 1;
    let checked = 0;
    const broken = (id: number, reason: string): AuditChainVerification => ({
      valid: false,
      checked,
      firstBrokenId: id,
      reason,
    });
    for (;;) {
      const rows = await this.select<DbRow>(
        dataSource,
        `SELECT ${COLUMNS} FROM ${AUDIT_LOG_TABLE} WHERE id >= ${this.sql!.param(1)} ORDER BY id LIMIT ${batch}`,
        [expectedId],
      );
      for (const raw of rows) {
        const row = toRow(raw);
        if (row.id !== expectedId) {
          return broken(
            row.id,
            expectedId === row.id - 1
              ? `row ${expectedId} is missing`
              : `rows ${expectedId} to ${row.id - 1} are missing`,
          );
        }
        if (row.prevHash !== prevHash) {
          return broken(row.id, 'prev_hash does not match the previous row');
        }
        const { hash, ...content } = row;
        if (auditRowHash(content) !== hash) {
          return broken(row.id, "hash does not match the row's content");
        }
        prevHash = hash;
        expectedId++;
        checked++;
      }
      if (rows.length < batch) break;
    }
    const [head] = await this.select<{ last_id: number | string; last_hash: string }>(
      dataSource,
      `SELECT last_id, last_hash FROM ${AUDIT_HEAD_TABLE} WHERE id = 1`,
    );
    const lastId = Number(head?.last_id ?? 0);
    if (lastId > checked) {
      return broken(
        expectedId,
        lastId === expectedId
          ? `row ${expectedId} (the last) is missing`
          : `rows ${expectedId} to ${lastId} (the last) are missing`,
      );
    }
    if (lastId < checked || head?.last_hash !== prevHash) {
      return broken(lastId, 'the head does not match the last row');
    }
    return { valid: true, checked };
  }

  /** Rows after `afterId`, oldest first (for admin screens and exports). */
  async read(options: { afterId?: number; limit?: number } = {}): Promise<AuditEntry[]> {
    const dataSource = this.requireDataSource();
    await this.prepare();
    const rows = await this.select<DbRow>(
      dataSource,
      `SELECT ${COLUMNS} FROM ${AUDIT_LOG_TABLE} WHERE id > ${this.sql!.param(1)} ORDER BY id LIMIT ${Math.max(1, Math.trunc(options.limit ?? 100))}`,
      [options.afterId ?? 0],
    );
    return rows.map((raw) => {
      const row = toRow(raw);
      return {
        ...row,
        occurredAt: new Date(row.occurredAt),
        outcome: row.outcome as AuditOutcome,
        metadata: JSON.parse(row.metadata) as Record<string, unknown>,
      };
    });
  }

  /** Creates the tables when they are missing. */
  async ensureTables(): Promise<void> {
    const q = this.requireDataSource().createQueryRunner();
    try {
      if (await q.hasTable(AUDIT_HEAD_TABLE)) return;
      await new CreateAuditLog1764600000000().up(q);
    } finally {
      await q.release();
    }
  }

  private prepare(): Promise<void> {
    if (this.options.createTables === false) return Promise.resolve();
    this.ready ??= this.ensureTables().catch((error: unknown) => {
      this.ready = undefined; // retry at the next record (the database may be back)
      throw error;
    });
    return this.ready;
  }

  private requireDataSource(): DataSource {
    if (!this.options.dataSource) {
      throw new AuditRecordError('AuditLogger has no dataSource: records only go to the log');
    }
    return this.options.dataSource;
  }

  private metadataOf(metadata: Record<string, unknown> | undefined): string {
    let text: string;
    try {
      const plain = JSON.parse(JSON.stringify(metadata ?? {})) as unknown;
      text = canonicalJson(redactDeep(plain, DEFAULT_SECRET_KEY));
    } catch (error) {
      return canonicalJson({ unserializable: (error as Error).message });
    }
    const max = this.options.maxMetadataBytes ?? 16_384;
    const bytes = Buffer.byteLength(text);
    return bytes > max ? canonicalJson({ truncated: true, bytes }) : text;
  }

  /** Appends one row under the head row's lock, in a transaction of its own (see class TSDoc). */
  private append(entry: Omit<AuditRow, 'id' | 'prevHash'>): Promise<{ id: number; hash: string }> {
    const dataSource = this.options.dataSource!;
    const sql = this.sql!;
    const work = async (m: EntityManager) => {
      const [head] = (await m.query(
        `SELECT last_id, last_hash FROM ${AUDIT_HEAD_TABLE} WHERE id = 1${sql.forUpdate}`,
      )) as Array<{ last_id: number | string; last_hash: string }>;
      if (!head) throw new Error(`${AUDIT_HEAD_TABLE} has no row: run the audit migration`);
      const row: AuditRow = { id: Number(head.last_id) + 1, prevHash: head.last_hash, ...entry };
      const hash = auditRowHash(row);
      await m.query(`INSERT INTO ${AUDIT_LOG_TABLE} (${COLUMNS}) VALUES (${sql.params(1, 10)})`, [
        row.id,
        row.occurredAt,
        row.action,
        row.outcome,
        row.actor,
        row.target,
        row.correlationId,
        row.metadata,
        row.prevHash,
        hash,
      ]);
      await m.query(
        `UPDATE ${AUDIT_HEAD_TABLE} SET last_id = ${sql.param(1)}, last_hash = ${sql.param(2)} WHERE id = 1`,
        [row.id, hash],
      );
      return { id: row.id, hash };
    };
    if (sql.name === 'sqlite') {
      // One connection: inside the caller's unit of work, write in its transaction (waiting for it
      // would deadlock); otherwise queue behind the other writers like every SQLite transaction.
      const uow = this.options.unitOfWork;
      if (uow?.active) return work(uow.manager);
      return runExclusive(dataSource, () => dataSource.transaction(work));
    }
    return dataSource.transaction(work);
  }

  /** A read outside any transaction; on SQLite, queued behind running transactions. */
  private select<T>(dataSource: DataSource, sql: string, params: unknown[] = []): Promise<T[]> {
    return runExclusive(dataSource, () => dataSource.query(sql, params) as Promise<T[]>);
  }
}
