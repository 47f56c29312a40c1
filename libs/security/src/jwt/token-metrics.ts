import type { Counter } from 'prom-client';
import { counterSeries, type CounterSeries, type MetricsService } from '@infrastructure/monitoring';
import type { InvalidTokenReason } from './errors.js';

/** Counts verifications in `auth_tokens_verified_total{result,reason}` when metrics are on. */
export class TokenMetrics {
  private readonly counter?: Counter<'result' | 'reason'>;
  private readonly valid?: CounterSeries;

  constructor(metrics?: MetricsService) {
    this.counter = metrics?.counter({
      name: 'auth_tokens_verified_total',
      help: 'Bearer tokens verified, by result (valid/invalid) and reason (ok or why refused)',
      labelNames: ['result', 'reason'],
    });
    this.valid = this.counter && counterSeries(this.counter, { result: 'valid', reason: 'ok' });
  }

  ok(): void {
    this.valid?.inc();
  }

  refused(reason: InvalidTokenReason | 'unavailable' | 'insufficient_scope'): void {
    this.counter?.labels('invalid', reason).inc();
  }
}
