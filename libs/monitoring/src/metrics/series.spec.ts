import { Counter, Histogram, Registry } from 'prom-client';
import { describe, expect, it, vi } from 'vitest';
import { counterSeries, histogramSeries } from './series.js';

const BUCKETS = [0.005, 0.01, 0.1, 1];

/** A registry with a labelled counter, an unlabelled one and a labelled histogram. */
function metrics() {
  const registry = new Registry();
  const counter = new Counter({
    name: 'calls_total',
    help: 'calls',
    labelNames: ['route', 'status'] as const,
    registers: [registry],
  });
  const plain = new Counter({ name: 'plain_total', help: 'no labels', registers: [registry] });
  const histogram = new Histogram({
    name: 'call_seconds',
    help: 'durations',
    labelNames: ['route'] as const,
    buckets: BUCKETS,
    registers: [registry],
  });
  return { registry, counter, plain, histogram };
}

/** The same metrics in two registries: one updated through prom-client, one through handles. */
function pair() {
  return { viaPromClient: metrics(), viaSeries: metrics() };
}

describe('counterSeries / histogramSeries', () => {
  it('expose exactly what prom-client exposes for the same updates, across reset and remove', async () => {
    const { viaPromClient: a, viaSeries: b } = pair();
    const routes = ['/a', '/b/:id'];
    const counters = routes.map((route) => counterSeries(b.counter, { route, status: 200 }));
    const plain = counterSeries(b.plain);
    const histograms = routes.map((route) => histogramSeries(b.histogram, { route }));
    const values = [0, 0.004, 0.005, 0.0051, 0.05, 0.1, 0.7, 1, 1.5, 30, -1];
    const step = (i: number) => {
      const r = i % routes.length;
      const v = values[i % values.length]!;
      a.counter.inc({ route: routes[r]!, status: 200 }, (i % 3) + 1);
      counters[r]!.inc((i % 3) + 1);
      a.plain.inc();
      plain.inc();
      a.histogram.observe({ route: routes[r]! }, v);
      histograms[r]!.observe(v);
    };
    for (let i = 0; i < 50; i++) step(i);
    expect(await b.registry.metrics()).toBe(await a.registry.metrics());

    for (const m of [a, b]) {
      m.counter.reset();
      m.histogram.reset();
      m.plain.reset();
    }
    for (let i = 0; i < 7; i++) step(i);
    expect(await b.registry.metrics()).toBe(await a.registry.metrics());

    for (const m of [a, b]) {
      m.counter.remove({ route: '/a', status: 200 });
      m.histogram.remove({ route: '/a' });
    }
    for (let i = 0; i < 5; i++) step(i);
    expect(await b.registry.metrics()).toBe(await a.registry.metrics());
    expect(await b.registry.metrics()).toContain('calls_total{route="/a",status="200"} 6');
  });

  it('update the row in place after the first update (no prom-client call, no label work)', () => {
    const { viaSeries: b } = pair();
    const observe = vi.spyOn(b.histogram, 'observe');
    const inc = vi.spyOn(b.counter, 'inc');
    const histogram = histogramSeries(b.histogram, { route: '/a' });
    const counter = counterSeries(b.counter, { route: '/a', status: 200 });
    for (let i = 0; i < 100; i++) {
      histogram.observe(0.02);
      counter.inc();
    }
    expect([observe.mock.calls.length, inc.mock.calls.length]).toEqual([1, 1]);
    b.histogram.reset();
    histogram.observe(0.02);
    histogram.observe(0.02);
    expect(observe.mock.calls.length).toBe(2);
  });

  it('refuse what prom-client refuses', () => {
    const { viaSeries: b } = pair();
    const counter = counterSeries(b.counter, { route: '/a', status: 200 });
    counter.inc();
    expect(() => counter.inc(-1)).toThrow('It is not possible to decrease a counter');
    expect(() => counter.inc(Number.POSITIVE_INFINITY)).toThrow(TypeError);
    const histogram = histogramSeries(b.histogram, { route: '/a' });
    histogram.observe(1);
    expect(() => histogram.observe(Number.POSITIVE_INFINITY)).toThrow(TypeError);
    expect(() => histogramSeries(b.histogram, { nope: 'x' } as never).observe(1)).toThrow(
      'Added label "nope" is not included in initial labelset',
    );
  });

  it('refuse metrics with exemplars, naming the metric', () => {
    const registry = new Registry<typeof Registry.OPENMETRICS_CONTENT_TYPE>();
    registry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
    const histogram = new Histogram({
      name: 'ex_seconds',
      help: 'with exemplars',
      labelNames: ['route'] as const,
      buckets: BUCKETS,
      enableExemplars: true,
      registers: [registry],
    });
    expect(() => histogramSeries(histogram, { route: '/a' })).toThrow(
      'metric ex_seconds: series handles do not support exemplars',
    );
  });
});
