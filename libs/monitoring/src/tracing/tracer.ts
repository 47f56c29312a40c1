import {
  ProxyTracerProvider,
  SpanStatusCode,
  trace,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import { HttpException } from '@nestjs/common';
import { Server } from 'node:http';
import { markedHttpServerSpans } from './server-spans.js';

/** Name of the tracer our spans come from. */
export const TRACER_NAME = '@infrastructure/monitoring';

/** The tracer (a no-op until an SDK is registered). */
export function tracer(): Tracer {
  return trace.getTracer(TRACER_NAME);
}

/** What the API's global provider delegates to while no SDK is registered. */
const NOOP_PROVIDER = new ProxyTracerProvider().getDelegate();

/**
 * True once a real tracer provider is registered (the SDK was started). It asks the API's global
 * provider, not a probe span: a probe was exported as a stray root span, and under a ratio sampler
 * (`OTEL_TRACES_SAMPLER=traceidratio`) an unsampled probe switched the handler spans off for good.
 */
export function tracingActive(): boolean {
  const provider = trace.getTracerProvider();
  const delegate = provider instanceof ProxyTracerProvider ? provider.getDelegate() : provider;
  return delegate !== NOOP_PROVIDER;
}

/** The property shimmer (OpenTelemetry's patching) sets on a wrapper. */
const SHIMMER_WRAPPED = '__wrapped';

/**
 * True when incoming requests get an HTTP server span: our SDK entry said so, or an
 * instrumentation has wrapped `http.Server.prototype.emit` (what `@opentelemetry/instrumentation-http`
 * does, through shimmer, which marks the wrapper `__wrapped`).
 */
export function httpServerSpans(): boolean {
  return (
    markedHttpServerSpans() ||
    (Server.prototype.emit as unknown as Record<string, unknown>)[SHIMMER_WRAPPED] === true
  );
}

/** Records an error on a span; client errors (4xx) do not mark the span as failed. */
export function recordError(span: Span, error: unknown): void {
  const status = error instanceof HttpException ? error.getStatus() : 500;
  if (error instanceof Error) span.recordException(error);
  if (status >= 500) {
    span.setStatus({
      code: SpanStatusCode.ERROR,
      message: error instanceof Error ? error.message : String(error),
    });
  }
}
