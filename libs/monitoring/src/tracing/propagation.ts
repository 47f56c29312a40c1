import { context, propagation, ROOT_CONTEXT, type Context } from '@opentelemetry/api';
import { isSafeCorrelationId, parseTraceparent } from '../context/correlation.js';
import { currentContext, type RequestContextStore } from '../context/request-context.js';

/** Header names that carry context across HTTP calls and messages. */
export const CONTEXT_HEADERS = {
  traceparent: 'traceparent',
  tracestate: 'tracestate',
  correlationId: 'x-correlation-id',
  causationId: 'x-causation-id',
  userId: 'x-user-id',
  tenantId: 'x-tenant-id',
} as const;

type Carrier = Record<string, string | string[] | undefined>;

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Writes the current trace context (W3C `traceparent`/`tracestate`) and request context
 * (correlation, causation, user, tenant) into outgoing headers: HTTP out, message published.
 * Without an OpenTelemetry SDK the incoming `traceparent` is passed on as it came.
 */
export function injectContext<T extends Record<string, string>>(headers: T = {} as T): T {
  propagation.inject(context.active(), headers);
  const ctx = currentContext();
  const h = headers as Record<string, string>;
  if (!h.traceparent && ctx.traceId && ctx.spanId)
    h.traceparent = `00-${ctx.traceId}-${ctx.spanId}-01`;
  if (ctx.correlationId) h[CONTEXT_HEADERS.correlationId] = ctx.correlationId;
  if (ctx.causationId) h[CONTEXT_HEADERS.causationId] = ctx.causationId;
  if (ctx.userId) h[CONTEXT_HEADERS.userId] = ctx.userId;
  if (ctx.tenantId) h[CONTEXT_HEADERS.tenantId] = ctx.tenantId;
  return headers;
}

/** What {@link extractContext} reads from incoming headers. */
export interface ExtractedContext {
  /** OpenTelemetry context whose remote parent is the sender's span (run handlers in it). */
  otel: Context;
  /** Values to restore in the context store; unsafe ids are dropped. */
  store: RequestContextStore;
}

/** Reads trace and request context from incoming headers (message consumed, webhook received). */
export function extractContext(headers: Carrier): ExtractedContext {
  const carrier = lowerCaseCarrier(headers);
  return { otel: propagation.extract(ROOT_CONTEXT, carrier), store: storeOf(carrier) };
}

/**
 * The request-context half of {@link extractContext}, without the OpenTelemetry context: for a
 * consumer that runs no span (a new object each call: restore it, change it).
 */
export function extractRequestContext(headers: Carrier): RequestContextStore {
  return storeOf(lowerCaseCarrier(headers));
}

function storeOf(carrier: Record<string, string | undefined>): RequestContextStore {
  const store: RequestContextStore = {};
  const parent = parseTraceparent(carrier.traceparent);
  if (parent) {
    store.traceId = parent.traceId;
    store.spanId = parent.spanId;
  }
  for (const key of CONTEXT_KEYS) {
    const value = carrier[CONTEXT_HEADERS[key]];
    if (isSafeCorrelationId(value)) store[key] = value;
  }
  return store;
}

const CONTEXT_KEYS = ['correlationId', 'causationId', 'userId', 'tenantId'] as const;

/**
 * `headers` with lower-case names and one value each. Headers that are that already (what the
 * messaging transports and Node's HTTP parser give, arrays aside) are read as they are, without
 * a copy: this runs once per message consumed.
 */
function lowerCaseCarrier(headers: Carrier): Record<string, string | undefined> {
  for (const k in headers) {
    if (typeof headers[k] !== 'string' || k.toLowerCase() !== k) return normalised(headers);
  }
  return headers as Record<string, string | undefined>;
}

function normalised(headers: Carrier): Record<string, string> {
  const carrier: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) {
    const value = first(v);
    if (value !== undefined) carrier[k.toLowerCase()] = value;
  }
  return carrier;
}
