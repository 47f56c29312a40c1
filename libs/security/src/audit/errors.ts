/**
 * An audit record could not be written and the logger is `strict`. Answered 503: the request is
 * refused rather than done without its audit trail.
 */
export class AuditWriteError extends Error {
  override readonly name = 'AuditWriteError';
  readonly httpStatus = 503;
  readonly publicMessage = 'The audit log is unavailable; try again shortly.';
}

/** A malformed audit record (a programming error: empty action, unknown outcome). */
export class AuditRecordError extends Error {
  override readonly name = 'AuditRecordError';
}
