export { AuditLogger } from './audit-logger.js';
export { AuditActions, type AuditAction } from './audit-actions.js';
export type {
  AuditChainVerification,
  AuditEntry,
  AuditEvent,
  AuditOptions,
  AuditOutcome,
  AuditRecordResult,
} from './audit.options.js';
export {
  AUDIT_HEAD_TABLE,
  AUDIT_LOG_TABLE,
  CreateAuditLog1764600000000,
  auditMigrations,
} from './audit-log.migration.js';
export { auditRowHash, canonicalJson, GENESIS_HASH, type AuditRow } from './audit-chain.js';
export { AuditRecordError, AuditWriteError } from './errors.js';
