import {
  histogramSeries,
  type HistogramSeries,
  type MetricsService,
} from '@infrastructure/monitoring';
import type { Counter, Gauge, Histogram } from 'prom-client';

/** Results counted by `cache_requests_total`. */
export type CacheResult = 'hit' | 'miss' | 'stale' | 'error';

type Flusher = () => void;
const flushers = new WeakMap<object, Set<Flusher>>();

function addFlusher(metric: object, f: Flusher): () => void {
  let set = flushers.get(metric);
  if (!set) flushers.set(metric, (set = new Set()));
  set.add(f);
  return () => set.delete(f);
}

/**
 * The cache's Prometheus metrics. Request counts are kept in plain fields and handed to
 * prom-client when it collects (a label lookup per L1 hit would cost more than the hit itself).
 */
export class CacheMetrics {
  private readonly counts: Record<CacheResult, number> = { hit: 0, miss: 0, stale: 0, error: 0 };
  private readonly histogram?: Histogram<'op' | 'tier'>;
  private readonly children = new Map<string, HistogramSeries>();
  private readonly detach: Array<() => void> = [];

  constructor(
    readonly cache: string,
    metrics: MetricsService | undefined,
    l1Size: () => number,
  ) {
    if (!metrics) return;
    const counter: Counter<'cache' | 'result'> = metrics.counter({
      name: 'cache_requests_total',
      help: 'Cache reads by result: hit, miss (loader called), stale (stale value served), error (store failed, served from the loader).',
      labelNames: ['cache', 'result'],
      collect(this: object) {
        for (const f of flushers.get(this) ?? []) f();
      },
    });
    this.detach.push(
      addFlusher(counter, () => {
        for (const result of ['hit', 'miss', 'stale', 'error'] as const) {
          const n = this.counts[result];
          if (n > 0) {
            this.counts[result] = 0;
            counter.inc({ cache, result }, n);
          }
        }
      }),
    );
    // Every series exists from the start (a rate over a missing series is no rate).
    for (const result of ['hit', 'miss', 'stale', 'error'] as const)
      counter.inc({ cache, result }, 0);
    this.histogram = metrics.histogram({
      name: 'cache_operation_duration_seconds',
      help: 'Duration of cache operations on the shared tier (l2) and of loaders (loader); L1 hits are not timed (sub-microsecond).',
      labelNames: ['op', 'tier'],
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    });
    const gauge: Gauge<'cache'> = metrics.gauge({
      name: 'cache_l1_entries',
      help: 'Entries in the in-process L1 cache.',
      labelNames: ['cache'],
      collect(this: object) {
        for (const f of flushers.get(this) ?? []) f();
      },
    });
    this.detach.push(addFlusher(gauge, () => gauge.set({ cache }, l1Size())));
  }

  count(result: CacheResult): void {
    this.counts[result]++;
  }

  /** Records a duration measured from `startedAt` (performance.now()). */
  observe(op: string, tier: 'l2' | 'loader', startedAt: number): void {
    if (!this.histogram) return;
    const id = `${op}\n${tier}`;
    let child = this.children.get(id);
    if (!child) this.children.set(id, (child = histogramSeries(this.histogram, { op, tier })));
    child.observe((performance.now() - startedAt) / 1000);
  }

  /** Stops contributing (module shutdown). */
  close(): void {
    for (const d of this.detach) d();
  }
}
