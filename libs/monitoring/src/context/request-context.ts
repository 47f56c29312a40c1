import { Injectable } from '@nestjs/common';
import { trace } from '@opentelemetry/api';
import { ClsService, ClsServiceManager } from 'nestjs-cls';

/** What every log line, span and outgoing message carries about the work being done. */
export interface RequestContextStore {
  correlationId?: string;
  /** W3C trace id (32 hex) of the current trace, when known. */
  traceId?: string;
  /** Span id (16 hex) of the current span, when known. */
  spanId?: string;
  /** Id of the message or request that caused this work. */
  causationId?: string;
  userId?: string;
  tenantId?: string;
}

const KEYS = ['correlationId', 'traceId', 'spanId', 'causationId', 'userId', 'tenantId'] as const;

function activeCls(): ClsService | undefined {
  try {
    return ClsServiceManager.getClsService();
  } catch {
    return undefined;
  }
}

/**
 * The current context (correlation id, trace, user, tenant), from the CLS store and the active
 * OpenTelemetry span. Works anywhere, including outside Nest DI; `{}` outside any request.
 */
export function currentContext(): RequestContextStore {
  // The raw store object: nestjs-cls's get(key) parses dotted paths, measurably slow per log line.
  const store = activeCls()?.get() as RequestContextStore | undefined;
  const out: RequestContextStore = {};
  if (store) {
    for (const key of KEYS) {
      const value = store[key];
      if (value !== undefined) out[key] = value;
    }
  }
  const span = trace.getActiveSpan()?.spanContext();
  if (
    span &&
    span.traceFlags !== undefined &&
    span.traceId !== '00000000000000000000000000000000'
  ) {
    out.traceId = span.traceId;
    out.spanId = span.spanId;
  }
  return out;
}

/**
 * Reads and changes the request context. Message consumers restore a context with
 * {@link RequestContext.run}; auth guards record the user with {@link RequestContext.set}.
 */
@Injectable()
export class RequestContext {
  constructor(private readonly cls: ClsService) {}

  /** The current correlation id, if inside a request or message handler. */
  get correlationId(): string | undefined {
    return (this.cls.get() as RequestContextStore | undefined)?.correlationId;
  }

  /** The whole current context. */
  get(): RequestContextStore {
    return currentContext();
  }

  /** Adds fields to the current context (no-op outside one). */
  set(values: Partial<RequestContextStore>): void {
    const store = this.cls.get() as RequestContextStore | undefined;
    if (!store) return;
    for (const key of KEYS) {
      const value = values[key];
      if (value !== undefined) store[key] = value;
    }
  }

  /** Runs `fn` in a fresh context holding `values` (e.g. restored from message headers). */
  run<T>(values: RequestContextStore, fn: () => T): T {
    const store: RequestContextStore = {};
    for (const key of KEYS) if (values[key] !== undefined) store[key] = values[key];
    return this.cls.runWith(store as Record<string, unknown>, fn);
  }
}
