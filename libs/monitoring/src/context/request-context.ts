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
  const store = activeCls();
  const out: RequestContextStore = {};
  if (store?.isActive()) {
    for (const key of KEYS) {
      const value = store.get(key) as string | undefined;
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
    return this.cls.isActive() ? (this.cls.get('correlationId') as string | undefined) : undefined;
  }

  /** The whole current context. */
  get(): RequestContextStore {
    return currentContext();
  }

  /** Adds fields to the current context (no-op outside one). */
  set(values: Partial<RequestContextStore>): void {
    if (!this.cls.isActive()) return;
    for (const key of KEYS) {
      const value = values[key];
      if (value !== undefined) this.cls.set(key, value);
    }
  }

  /** Runs `fn` in a fresh context holding `values` (e.g. restored from message headers). */
  run<T>(values: RequestContextStore, fn: () => T): T {
    return this.cls.run({ ifNested: 'override' }, () => {
      this.set(values);
      return fn();
    });
  }
}
