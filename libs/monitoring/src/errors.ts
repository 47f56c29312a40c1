/** A metric was asked for with a name that exists with another type or other labels. */
export class MetricConflictError extends Error {
  override readonly name = 'MetricConflictError';
}

/** Bad MonitoringModule options; the message names the key. */
export class MonitoringOptionsError extends Error {
  override readonly name = 'MonitoringOptionsError';
}
