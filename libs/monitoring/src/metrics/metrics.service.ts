import { Injectable } from '@nestjs/common';
import {
  collectDefaultMetrics,
  Counter,
  Gauge,
  Histogram,
  register as defaultRegistry,
  Registry,
  type CounterConfiguration,
  type GaugeConfiguration,
  type HistogramConfiguration,
  type Metric,
} from 'prom-client';
import { MetricConflictError } from '../errors.js';

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const withDefaults = new WeakSet<Registry>();

type Kind = 'counter' | 'gauge' | 'histogram';

/**
 * Creates Prometheus metrics idempotently: asking twice for the same name returns the same
 * metric, so libs and app code can declare what they use where they use it. Asking for an
 * existing name with another type or other labels throws {@link MetricConflictError}.
 */
@Injectable()
export class MetricsService {
  constructor(readonly registry: Registry = defaultRegistry) {}

  /** Starts Node process metrics (CPU, memory, GC, event-loop lag) once per registry. */
  enableDefaultMetrics(prefix = ''): void {
    if (withDefaults.has(this.registry)) return;
    withDefaults.add(this.registry);
    collectDefaultMetrics({ register: this.registry, prefix, eventLoopMonitoringPrecision: 10 });
  }

  counter<L extends string = string>(config: CounterConfiguration<L>): Counter<L> {
    return this.getOrCreate(
      'counter',
      config,
      () => new Counter({ ...config, registers: [this.registry] }),
    );
  }

  gauge<L extends string = string>(config: GaugeConfiguration<L>): Gauge<L> {
    return this.getOrCreate(
      'gauge',
      config,
      () => new Gauge({ ...config, registers: [this.registry] }),
    );
  }

  histogram<L extends string = string>(config: HistogramConfiguration<L>): Histogram<L> {
    return this.getOrCreate(
      'histogram',
      config,
      () => new Histogram({ ...config, registers: [this.registry] }),
    );
  }

  /** The exposition text (Prometheus 0.0.4 or OpenMetrics 1.0). */
  render(
    format: 'prometheus' | 'openmetrics' = 'prometheus',
  ): Promise<{ contentType: string; body: string }> {
    // Renders are serialised: an OpenMetrics render renames counters in place for its duration.
    const next = this.rendering.then(() => this.renderNow(format));
    this.rendering = next.catch(() => undefined);
    return next;
  }

  private rendering: Promise<unknown> = Promise.resolve();

  private async renderNow(
    format: 'prometheus' | 'openmetrics',
  ): Promise<{ contentType: string; body: string }> {
    if (format === 'prometheus') {
      return { contentType: this.registry.contentType, body: await this.registry.metrics() };
    }
    // A throwaway OpenMetrics registry over the same metric objects: nothing is collected twice.
    // prom-client strips `_total` from counter names in place while rendering OpenMetrics, so the
    // names are put back afterwards.
    const open = new Registry<typeof Registry.OPENMETRICS_CONTENT_TYPE>();
    open.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
    const metrics = this.registry.getMetricsAsArray() as unknown as Array<
      Metric & { name: string }
    >;
    const names = metrics.map((m) => m.name);
    try {
      for (const metric of metrics) open.registerMetric(metric);
      return { contentType: open.contentType, body: await open.metrics() };
    } finally {
      metrics.forEach((m, i) => (m.name = names[i]!));
    }
  }

  private getOrCreate<M extends Metric>(
    kind: Kind,
    config: { name: string; labelNames?: readonly string[] },
    create: () => M,
  ): M {
    if (!METRIC_NAME.test(config.name)) {
      throw new MetricConflictError(`metric name "${config.name}" is not a valid Prometheus name`);
    }
    const existing = this.registry.getSingleMetric(config.name) as
      (Metric & { labelNames?: string[]; constructor: { name: string } }) | undefined;
    if (!existing) return create();
    const existingKind = existing.constructor.name.toLowerCase();
    if (existingKind !== kind) {
      throw new MetricConflictError(
        `metric "${config.name}" already exists as a ${existingKind}, asked for a ${kind}`,
      );
    }
    const want = [...(config.labelNames ?? [])].sort().join(',');
    const have = [...(existing.labelNames ?? [])].sort().join(',');
    if (want !== have) {
      throw new MetricConflictError(
        `metric "${config.name}" already exists with labels [${have}], asked for [${want}]`,
      );
    }
    return existing as unknown as M;
  }
}
