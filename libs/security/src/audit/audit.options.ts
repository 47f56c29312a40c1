import type { MetricsService } from '@infrastructure/monitoring';
import type { UnitOfWork } from '@infrastructure/persistence';
import type { DataSource } from 'typeorm';

/** How an audited action went. */
export type AuditOutcome = 'success' | 'failure' | 'denied';

/** One security event to record. */
export interface AuditEvent {
  /** What happened, `domain.verb` (1-100 characters): see `AuditActions`. */
  action: string;
  outcome: AuditOutcome;
  /**
   * Who did it (`user:42`, `client:billing`, an IP for anonymous calls); longer than 200
   * characters is cut. @default the request context's user id, else none
   */
  actor?: string | null;
  /** What it was done to (`order:17`, `key:2025-06`); longer than 200 characters is cut. */
  target?: string | null;
  /**
   * Details (JSON-safe). Secret-looking keys (password, token, secret, api key…) are redacted,
   * `Secret` values print `***`; over `maxMetadataBytes` the metadata is replaced by a marker.
   */
  metadata?: Record<string, unknown>;
}

/** A stored audit row. */
export interface AuditEntry {
  id: number;
  occurredAt: Date;
  action: string;
  outcome: AuditOutcome;
  actor: string | null;
  target: string | null;
  correlationId: string | null;
  metadata: Record<string, unknown>;
  prevHash: string;
  hash: string;
}

/** What {@link AuditLogger.record} did. */
export interface AuditRecordResult {
  /** True when the row was written to the table. */
  stored: boolean;
  /** The row's id in the chain, when stored. */
  id?: number;
  /** The row's hash, when stored (also in the log line: an off-database anchor for the chain). */
  hash?: string;
}

/** The result of {@link AuditLogger.verifyChain}. */
export interface AuditChainVerification {
  valid: boolean;
  /** Rows checked before the first broken one (all rows when valid). */
  checked: number;
  /** The first row whose content, link or position is wrong (a deleted row shows at the next id). */
  firstBrokenId?: number;
  /** Why, for people: `row 4 is missing`, `hash does not match the row's content`… */
  reason?: string;
}

/** Options of {@link AuditLogger}. */
export interface AuditOptions {
  /** The persistence lib's data source. Without it records only go to the log stream. */
  dataSource?: DataSource;
  /**
   * The persistence lib's unit of work. Needed on SQLite when records are made inside units of
   * work: there (one connection) such a record is written in the caller's transaction instead of
   * waiting for it to end. PostgreSQL/MariaDB always write in a transaction of their own.
   */
  unitOfWork?: UnitOfWork;
  /**
   * When the row cannot be written: `false` logs the record at error, counts
   * `audit_write_failures_total` and lets the caller go on (an audit outage must not become a
   * denial of service); `true` throws `AuditWriteError` (503).
   * @default false
   */
  strict?: boolean;
  /** Create the tables at first use when missing (else add `auditMigrations`). @default true */
  createTables?: boolean;
  /** Counts `audit_records_total{action,outcome}` and `audit_write_failures_total`. */
  metrics?: MetricsService;
  /** Largest metadata, as canonical JSON bytes. @default 16384 */
  maxMetadataBytes?: number;
}
