import {
  counterSeries,
  histogramSeries,
  type CounterSeries,
  type HistogramSeries,
  type MetricsService,
} from '@infrastructure/monitoring';
import type { Counter, Gauge, Histogram } from 'prom-client';
import { CIRCUIT_STATE_VALUE, type CircuitStateName } from '../resilience/resilience.policy.js';

/** `outcome` label of `http_client_requests_total`. */
export type HttpClientOutcome = 'success' | 'error' | 'timeout' | 'circuit_open' | 'rejected';

/**
 * The metrics of one HTTP client: `http_client_requests_total{client,method,status_code,outcome}`
 * (one per call, after retries; `status_code` is `none` without an answer),
 * `http_client_request_duration_seconds{client}` and `circuit_breaker_state{client}`.
 */
export class HttpClientMetrics {
  private readonly requests: Counter<'client' | 'method' | 'status_code' | 'outcome'>;
  private readonly duration: HistogramSeries;
  private readonly state: Gauge<'client'>;
  /** Series by `method status outcome`: no label work per call. */
  private readonly children = new Map<string, CounterSeries>();

  constructor(
    readonly client: string,
    metrics: MetricsService,
  ) {
    this.requests = metrics.counter({
      name: 'http_client_requests_total',
      help: 'Outbound HTTP calls by client, method, final status and outcome (success, error, timeout, circuit_open, rejected); retries are not counted apart.',
      labelNames: ['client', 'method', 'status_code', 'outcome'],
    });
    const histogram: Histogram<'client'> = metrics.histogram({
      name: 'http_client_request_duration_seconds',
      help: 'Duration of outbound HTTP calls, retries and queueing included.',
      labelNames: ['client'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    });
    this.duration = histogramSeries(histogram, { client });
    this.state = metrics.gauge({
      name: 'circuit_breaker_state',
      help: 'Circuit breaker state: 0 closed, 1 half-open, 2 open.',
      labelNames: ['client'],
    });
  }

  /** Sets the breaker gauge (called at boot so the series exists from the start, and on change). */
  circuit(state: CircuitStateName): void {
    this.state.set({ client: this.client }, CIRCUIT_STATE_VALUE[state]);
  }

  /** Counts one finished call started at `startedAt` (performance.now()). */
  record(
    method: string,
    status: number | undefined,
    outcome: HttpClientOutcome,
    startedAt: number,
  ): void {
    const statusCode = status === undefined ? 'none' : String(status);
    const key = `${method} ${statusCode} ${outcome}`;
    let child = this.children.get(key);
    if (!child) {
      child = counterSeries(this.requests, {
        client: this.client,
        method,
        status_code: statusCode,
        outcome,
      });
      this.children.set(key, child);
    }
    child.inc();
    this.duration.observe((performance.now() - startedAt) / 1000);
  }
}
