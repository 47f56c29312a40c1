import type { Counter, Histogram, LabelValues } from 'prom-client';

/**
 * prom-client's label children (`counter.labels(…)`) still hash their labels, validate them and
 * allocate on every `inc`/`observe` (~0.3 and ~0.5 µs hot; 4–7 µs a request under load with the
 * HTTP metrics, bench/README.md). A series handle resolves its row in the metric once and updates
 * it in place afterwards. The first update of a row (and the first after `reset()` or `remove()`)
 * goes through prom-client's own `inc`/`observe`, which creates the row; the handle then finds it
 * by its labels. Metrics whose internals do not look as expected (another prom-client) always
 * take prom-client's path, so the exposition never differs from it (tested side by side in
 * series.spec.ts). Metrics with exemplars are refused: their updates take another shape.
 */

interface CounterRow {
  value: number;
  labels: Record<string, string | number>;
}
interface HistogramRow {
  sum: number;
  count: number;
  labels: Record<string, string | number>;
  bucketValues: Record<number, number>;
}
interface Internals<Row> {
  hashMap?: Record<string, Row>;
  enableExemplars?: boolean;
  upperBounds?: number[];
}

/** One labelled series of a counter: `inc(by = 1)`. */
export interface CounterSeries {
  inc(by?: number): void;
}

/** One labelled series of a histogram: `observe(value)`. */
export interface HistogramSeries {
  observe(value: number): void;
}

function refuseExemplars(metric: { name?: string }, internals: Internals<unknown>): void {
  if (internals.enableExemplars) {
    throw new TypeError(`metric ${metric.name}: series handles do not support exemplars`);
  }
}

function sameLabels(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  const keys = Object.keys(b);
  if (Object.keys(a).length !== keys.length) return false;
  for (const k of keys) if (String(a[k]) !== String(b[k])) return false;
  return true;
}

/** Finds the row of `labels` in a metric's internal map: `[map, key, row]` or undefined. */
function locate<Row extends { labels: Record<string, unknown> }>(
  metric: Internals<Row>,
  labels: Record<string, unknown>,
): [Record<string, Row>, string, Row] | undefined {
  const map = metric.hashMap;
  if (!map || typeof map !== 'object') return undefined;
  for (const key in map) {
    const row = map[key]!;
    if (row && typeof row === 'object' && row.labels && sameLabels(row.labels, labels)) {
      return [map, key, row];
    }
  }
  return undefined;
}

class FastCounterSeries<L extends string> implements CounterSeries {
  private map?: Record<string, CounterRow>;
  private key = '';
  private row?: CounterRow;
  private readonly direct: boolean;

  constructor(
    private readonly counter: Counter<L>,
    private readonly labels: LabelValues<L>,
  ) {
    const internals = counter as unknown as Internals<CounterRow>;
    refuseExemplars(counter as { name?: string }, internals);
    this.direct = typeof internals.hashMap === 'object';
  }

  inc(by = 1): void {
    const map = (this.counter as unknown as Internals<CounterRow>).hashMap;
    if (this.direct && map === this.map && map![this.key] === this.row && by >= 0) {
      if (Number.isFinite(by)) {
        this.row!.value += by;
        return;
      }
    }
    this.counter.inc(this.labels, by);
    if (this.direct) this.resolve();
  }

  private resolve(): void {
    const found = locate(this.counter as unknown as Internals<CounterRow>, this.labels);
    if (found && typeof found[2].value === 'number') [this.map, this.key, this.row] = found;
  }
}

class FastHistogramSeries<L extends string> implements HistogramSeries {
  private map?: Record<string, HistogramRow>;
  private key = '';
  private row?: HistogramRow;
  private readonly bounds?: number[];
  /** The bounds as the row's keys (a number key would be converted to a string per update). */
  private readonly keys: string[] = [];

  constructor(
    private readonly histogram: Histogram<L>,
    private readonly labels: LabelValues<L>,
  ) {
    const internals = histogram as unknown as Internals<HistogramRow>;
    refuseExemplars(histogram as { name?: string }, internals);
    const bounds = internals.upperBounds;
    if (typeof internals.hashMap === 'object' && Array.isArray(bounds)) {
      this.bounds = bounds;
      this.keys = bounds.map(String);
    }
  }

  observe(value: number): void {
    const map = (this.histogram as unknown as Internals<HistogramRow>).hashMap;
    const bounds = this.bounds;
    if (bounds && map === this.map && map![this.key] === this.row && Number.isFinite(value)) {
      const row = this.row!;
      row.sum += value;
      row.count += 1;
      for (let i = 0; i < bounds.length; i++) {
        if (value <= bounds[i]!) {
          (row.bucketValues as Record<string, number>)[this.keys[i]!]! += 1;
          return;
        }
      }
      return; // above the last bound: only +Inf (the count) grows, as prom-client does
    }
    this.histogram.observe(this.labels, value);
    if (bounds) this.resolve();
  }

  private resolve(): void {
    const found = locate(this.histogram as unknown as Internals<HistogramRow>, this.labels);
    if (found && typeof found[2].bucketValues === 'object') [this.map, this.key, this.row] = found;
  }
}

/** A handle on the series of `counter` with `labels` whose `inc` skips prom-client's label work. */
export function counterSeries<L extends string>(
  counter: Counter<L>,
  labels: LabelValues<L> = {},
): CounterSeries {
  return new FastCounterSeries(counter, labels);
}

/** A handle on the series of `histogram` with `labels` whose `observe` skips the label work. */
export function histogramSeries<L extends string>(
  histogram: Histogram<L>,
  labels: LabelValues<L> = {},
): HistogramSeries {
  return new FastHistogramSeries(histogram, labels);
}
