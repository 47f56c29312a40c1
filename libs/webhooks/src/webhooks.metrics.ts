import type { MessagingObservation } from '@infrastructure/messaging';
import type { MetricsService } from '@infrastructure/monitoring';
import type { Counter } from 'prom-client';
import { WebhookRejectedError, type WebhookRejection } from './errors.js';
import { WEBHOOK_REQUESTED_TYPE } from './webhooks.constants.js';

/**
 * `outcome` of `webhooks_sent_total`, one per delivery attempt: `delivered` (2xx), `duplicate`
 * (409: the receiver had the id already, an earlier attempt got through), `retry`
 * (failed, will be retried), `dead_letter` (failed, retries exhausted), `rejected` (refused for
 * good by the receiver: 4xx other than 408/429, or a redirect; dead-lettered at once).
 */
export type WebhookSentOutcome = 'delivered' | 'duplicate' | 'retry' | 'dead_letter' | 'rejected';

/** `outcome` of `webhooks_received_total`: `accepted`, or why the guard refused the request. */
export type WebhookReceivedOutcome = 'accepted' | WebhookRejection;

/**
 * `webhooks_sent_total{outcome}` and `webhooks_received_total{receiver,outcome}`. Failures of
 * outgoing webhooks are read from the messaging pipeline's observations (only it knows whether a
 * failed attempt is retried or dead-lettered); deliveries are counted by the dispatcher.
 */
export class WebhookMetrics {
  private readonly sent?: Counter<'outcome'>;
  private readonly received?: Counter<'receiver' | 'outcome'>;

  constructor(
    metrics: MetricsService | undefined,
    private readonly group: string,
  ) {
    this.sent = metrics?.counter({
      name: 'webhooks_sent_total',
      help: 'Outgoing webhook delivery attempts by outcome (delivered, duplicate, retry, dead_letter, rejected).',
      labelNames: ['outcome'],
    });
    this.received = metrics?.counter({
      name: 'webhooks_received_total',
      help: 'Incoming webhooks by receiver and outcome (accepted, or the reason they were refused).',
      labelNames: ['receiver', 'outcome'],
    });
  }

  /** Counts one attempt of an outgoing webhook. */
  recordSent(outcome: WebhookSentOutcome): void {
    this.sent?.inc({ outcome });
  }

  /** Counts one incoming webhook. */
  recordReceived(receiver: string, outcome: WebhookReceivedOutcome): void {
    this.received?.inc({ receiver, outcome });
  }

  /** Listener for `MessagingRuntime.observe`: counts failed dispatcher attempts. */
  observe(o: MessagingObservation): void {
    if (o.kind !== 'handled' || o.type !== WEBHOOK_REQUESTED_TYPE || o.group !== this.group) return;
    if (o.outcome === 'retry') this.recordSent('retry');
    else if (o.outcome === 'dead_letter') {
      this.recordSent(o.error instanceof WebhookRejectedError ? 'rejected' : 'dead_letter');
    }
  }
}
