import { trace } from '@opentelemetry/api';
import {
  AlwaysOffSampler,
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it } from 'vitest';
import { Server } from 'node:http';
import { markHttpServerSpans } from './server-spans.js';
import { httpServerSpans, tracingActive } from './tracer.js';

describe('tracingActive', () => {
  afterEach(() => trace.disable());

  it('is false while no SDK is registered', () => {
    trace.disable();
    expect(tracingActive()).toBe(false);
  });

  it('is true under a sampler that records nothing, and exports no probe span', async () => {
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({
      sampler: new AlwaysOffSampler(),
      spanProcessors: [new SimpleSpanProcessor(exporter)],
    });
    expect(trace.setGlobalTracerProvider(provider)).toBe(true);
    expect(tracingActive()).toBe(true);
    await provider.forceFlush();
    expect(exporter.getFinishedSpans()).toEqual([]);
  });

  it('exports no probe span under a sampler that records everything', async () => {
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({
      spanProcessors: [new SimpleSpanProcessor(exporter)],
    });
    trace.setGlobalTracerProvider(provider);
    expect(tracingActive()).toBe(true);
    await provider.forceFlush();
    expect(exporter.getFinishedSpans()).toEqual([]);
  });
});

const emit = Server.prototype.emit;

/** What shimmer leaves on http.Server#emit: a wrapper that calls the original. */
function shimmed(this: Server, ...args: unknown[]): boolean {
  return Reflect.apply(emit, this, args);
}

describe('httpServerSpans', () => {
  afterEach(() => {
    Server.prototype.emit = emit;
    delete (globalThis as Record<symbol, unknown>)[
      Symbol.for('@infrastructure/monitoring.httpServerSpans')
    ];
  });

  it('is false with http.Server untouched and no SDK entry', () => {
    expect(httpServerSpans()).toBe(false);
  });

  it('is true once an instrumentation has wrapped http.Server#emit (shimmer marks __wrapped)', () => {
    Server.prototype.emit = Object.defineProperty(shimmed, '__wrapped', {
      value: true,
    }) as Server['emit'];
    expect(httpServerSpans()).toBe(true);
  });

  it('is true once our SDK entry has said so', () => {
    markHttpServerSpans();
    expect(httpServerSpans()).toBe(true);
  });
});
