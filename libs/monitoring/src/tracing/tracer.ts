import { SpanStatusCode, trace, type Span, type Tracer } from '@opentelemetry/api';
import { HttpException } from '@nestjs/common';

/** Name of the tracer our spans come from. */
export const TRACER_NAME = '@infrastructure/monitoring';

/** The tracer (a no-op until an SDK is registered). */
export function tracer(): Tracer {
  return trace.getTracer(TRACER_NAME);
}

/** True once a real tracer provider is registered (the SDK was started). */
export function tracingActive(): boolean {
  const probe = tracer().startSpan('probe');
  const active = probe.isRecording();
  probe.end();
  return active;
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
