import { trace } from '@opentelemetry/api';
import {
  AlwaysOffSampler,
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it } from 'vitest';
import { tracingActive } from './tracer.js';

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
