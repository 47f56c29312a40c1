import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { extractContext, injectContext } from '@infrastructure/monitoring';
import { monitoredApp } from './helpers.js';

const exporter = new InMemorySpanExporter();
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const REMOTE_SPAN = '00f067aa0ba902b7';

beforeAll(() => {
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  trace.setGlobalTracerProvider(provider);
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
});
afterAll(() => {
  trace.disable();
  context.disable();
  propagation.disable();
});
beforeEach(() => exporter.reset());

describe.each(['express', 'fastify'] as const)('tracing on %s', (adapter) => {
  it('continues the caller trace: handler span, then the @Span service span inside it, with the correlation id', async () => {
    const { t, logs } = await monitoredApp(adapter);
    await using _ = t;
    await t.request
      .get('/t/items/5')
      .set('traceparent', `00-${TRACE_ID}-${REMOTE_SPAN}-01`)
      .set('x-correlation-id', 'trace-me')
      .expect(200);
    const spans = exporter.getFinishedSpans();
    const handler = spans.find((s) => s.name === 'ProbeController.item');
    const service = spans.find((s) => s.name === 'DeepService.work');
    expect(handler).toBeDefined();
    expect(service).toBeDefined();
    expect(handler!.spanContext().traceId).toBe(TRACE_ID);
    expect(handler!.parentSpanContext?.spanId).toBe(REMOTE_SPAN);
    expect(service!.spanContext().traceId).toBe(TRACE_ID);
    expect(service!.parentSpanContext?.spanId).toBe(handler!.spanContext().spanId);
    expect(handler!.attributes).toMatchObject({
      'http.route': '/t/items/:id',
      'correlation.id': 'trace-me',
    });
    expect(service!.attributes['correlation.id']).toBe('trace-me');
    // Logs written inside the service span carry its trace and span ids.
    const line = logs.records.find((r) => r.msg === 'deep work done');
    expect(line).toMatchObject({
      traceId: TRACE_ID,
      spanId: service!.spanContext().spanId,
      correlationId: 'trace-me',
    });
  });

  it('records the exception and marks the span failed on a 500', async () => {
    const { t } = await monitoredApp(adapter);
    await using _ = t;
    await t.request.get('/t/fail').expect(500);
    const span = exporter.getFinishedSpans().find((s) => s.name === 'ProbeController.fail');
    expect(span?.status.code).toBe(2); // ERROR
    expect(span?.events.some((e) => e.name === 'exception')).toBe(true);
  });
});

describe('context propagation helpers', () => {
  it('injectContext writes traceparent and correlation headers; extractContext reads them back', async () => {
    const { t } = await monitoredApp('express');
    await using _ = t;
    const { RequestContext } = await import('@infrastructure/monitoring');
    const ctx = t.app.get(RequestContext);
    const tracer = trace.getTracer('test');
    const headers = ctx.run({ correlationId: 'corr-9', userId: 'user-1', tenantId: 'acme' }, () =>
      tracer.startActiveSpan('publish', (span) => {
        const h = injectContext<Record<string, string>>({});
        span.end();
        return h;
      }),
    );
    expect(headers).toMatchObject({
      'x-correlation-id': 'corr-9',
      'x-user-id': 'user-1',
      'x-tenant-id': 'acme',
    });
    expect(headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    const extracted = extractContext({ ...headers, 'x-causation-id': 'msg 1 with spaces' });
    expect(extracted.store).toMatchObject({
      correlationId: 'corr-9',
      userId: 'user-1',
      tenantId: 'acme',
    });
    expect(extracted.store.causationId).toBeUndefined(); // unsafe value dropped
    expect(trace.getSpanContext(extracted.otel)?.traceId).toBe(headers.traceparent!.slice(3, 35));
  });
});
