import { trace } from '@opentelemetry/api';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it } from 'vitest';
import { messagingTracer, runsByTrace } from './messaging.tracing.js';
import type { OutgoingMessage } from './transports/transport.js';

const message = (n: number, traceparent?: string): OutgoingMessage => ({
  type: 't.Happened',
  body: String(n),
  headers: traceparent ? { traceparent } : {},
});

describe('messagingTracer', () => {
  afterEach(() => trace.disable());

  it('is undefined while no tracer provider is registered (the pipeline skips span work), a tracer once one is, undefined again after disable', () => {
    expect(messagingTracer()).toBeUndefined();
    trace.setGlobalTracerProvider(new BasicTracerProvider());
    const tracer = messagingTracer();
    expect(tracer?.startSpan('x').isRecording()).toBe(true);
    expect(messagingTracer()).toBe(tracer); // resolved once per provider
    trace.disable();
    expect(messagingTracer()).toBeUndefined();
  });
});

describe('runsByTrace', () => {
  it('splits a relay batch into ordered runs of consecutive messages with one traceparent', () => {
    const a = '00-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-aaaaaaaaaaaaaaaa-01';
    const b = '00-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-bbbbbbbbbbbbbbbb-01';
    const batch = [
      message(1, a),
      message(2, a),
      message(3, b),
      message(4),
      message(5),
      message(6, a),
    ];
    expect(runsByTrace(batch).map((run) => run.map((m) => m.body))).toEqual([
      ['1', '2'],
      ['3'],
      ['4', '5'],
      ['6'],
    ]);
    expect(runsByTrace([])).toEqual([]);
  });
});
