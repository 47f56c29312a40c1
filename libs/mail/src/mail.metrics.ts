import type { MetricsService } from '@infrastructure/monitoring';
import type { Counter, Gauge, Histogram } from 'prom-client';
import {
  BulkheadFullError,
  CIRCUIT_STATE_VALUE,
  CircuitOpenError,
  OperationTimeoutError,
  type CircuitStateName,
} from '@infrastructure/http-client';
import { MailDeliveryError, MailMessageError } from './errors.js';

/**
 * `outcome` label of `mail_sent_total`: `success` (every recipient accepted), `partial` (some
 * refused), `rejected` (permanent SMTP refusal), `invalid` (bad message, nothing sent), `error`
 * (transient failure after retries), `timeout`, `circuit_open`, `bulkhead_full`.
 */
export type MailOutcome =
  | 'success'
  | 'partial'
  | 'rejected'
  | 'invalid'
  | 'error'
  | 'timeout'
  | 'circuit_open'
  | 'bulkhead_full';

const OUTCOMES: readonly MailOutcome[] = [
  'success',
  'partial',
  'rejected',
  'invalid',
  'error',
  'timeout',
  'circuit_open',
  'bulkhead_full',
];

/** The outcome of a failed send. */
export function mailOutcomeOf(error: unknown): MailOutcome {
  if (error instanceof MailDeliveryError) return 'rejected';
  if (error instanceof MailMessageError) return 'invalid';
  if (error instanceof CircuitOpenError) return 'circuit_open';
  if (error instanceof BulkheadFullError) return 'bulkhead_full';
  if (error instanceof OperationTimeoutError) return 'timeout';
  return 'error';
}

/**
 * The mail metrics, through the monitoring lib's `MetricsService` (idempotent registration):
 * `mail_sent_total{transport,outcome}` (one per `send`, after retries; every outcome starts at 0),
 * `mail_send_duration_seconds{transport}` and, for SMTP, the shared
 * `circuit_breaker_state{client="mail"}` gauge of the HTTP clients.
 */
export class MailMetrics {
  private readonly sent: Counter<'transport' | 'outcome'>;
  private readonly duration: { observe(v: number): void };
  private readonly state: Gauge<'client'>;

  constructor(
    readonly transport: string,
    metrics: MetricsService,
  ) {
    this.sent = metrics.counter({
      name: 'mail_sent_total',
      help: 'Mails sent by transport and outcome (success, partial, rejected, invalid, error, timeout, circuit_open, bulkhead_full); retries are not counted apart.',
      labelNames: ['transport', 'outcome'],
    });
    for (const outcome of OUTCOMES) this.sent.inc({ transport, outcome }, 0);
    const histogram: Histogram<'transport'> = metrics.histogram({
      name: 'mail_send_duration_seconds',
      help: 'Duration of mail sends, retries and queueing included.',
      labelNames: ['transport'],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    });
    this.duration = histogram.labels(transport);
    this.state = metrics.gauge({
      name: 'circuit_breaker_state',
      help: 'Circuit breaker state: 0 closed, 1 half-open, 2 open.',
      labelNames: ['client'],
    });
  }

  /** Sets `circuit_breaker_state{client="<policy>"}` (at boot and on every change). */
  circuit(policy: string, state: CircuitStateName): void {
    this.state.set({ client: policy }, CIRCUIT_STATE_VALUE[state]);
  }

  /** Counts one finished send started at `startedAt` (performance.now()). */
  record(outcome: MailOutcome, startedAt: number): void {
    this.sent.inc({ transport: this.transport, outcome });
    this.duration.observe((performance.now() - startedAt) / 1000);
  }
}
