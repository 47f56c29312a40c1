import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';

/** Header carrying the correlation id in and out (also read: `x-request-id`). */
export const CORRELATION_HEADER = 'x-correlation-id';
const REQUEST_ID_HEADER = 'x-request-id';
const SAFE_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const CORRELATION = Symbol.for('infrastructure.correlationId');

/** True for an id we accept from outside: 1-128 chars of `[A-Za-z0-9._:-]`. */
export function isSafeCorrelationId(value: unknown): value is string {
  return typeof value === 'string' && SAFE_ID.test(value);
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The incoming id when it is safe, else a fresh UUID. */
export function correlationIdFromHeaders(headers: IncomingHttpHeaders): string {
  const candidate = header(headers, CORRELATION_HEADER) ?? header(headers, REQUEST_ID_HEADER);
  return isSafeCorrelationId(candidate) ? candidate : randomUUID();
}

/**
 * The request's correlation id, computed once and remembered on the request object, so the
 * logger, the context store and the metrics all see the same id whichever runs first.
 */
export function correlationIdOf(req: IncomingMessage): string {
  const holder = req as IncomingMessage & { [CORRELATION]?: string };
  return (holder[CORRELATION] ??= correlationIdFromHeaders(req.headers));
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$/;

/** Trace and parent span ids of a valid W3C `traceparent` (all-zero ids are invalid). */
export function parseTraceparent(value: unknown): { traceId: string; spanId: string } | undefined {
  if (typeof value !== 'string' || value.length !== 55) return undefined;
  const m = TRACEPARENT.exec(value);
  if (!m || /^0+$/.test(m[1]!) || /^0+$/.test(m[2]!)) return undefined;
  return { traceId: m[1]!, spanId: m[2]! };
}
