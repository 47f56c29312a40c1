// No imports: the SDK entry loads this before the instrumentations are in place.

/** Set on `globalThis` once an SDK with the HTTP server instrumentation is started. */
const HTTP_SERVER_SPANS = Symbol.for('@infrastructure/monitoring.httpServerSpans');

/** Records that every incoming request gets an HTTP server span (our SDK entry calls it). */
export function markHttpServerSpans(): void {
  (globalThis as Record<symbol, unknown>)[HTTP_SERVER_SPANS] = true;
}

/** Whether {@link markHttpServerSpans} was called in this process. */
export function markedHttpServerSpans(): boolean {
  return (globalThis as Record<symbol, unknown>)[HTTP_SERVER_SPANS] === true;
}
