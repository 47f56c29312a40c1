import { EventHandler } from '@infrastructure/messaging';
import { getLogger } from '@infrastructure/monitoring';
import {
  CircuitOpenError,
  HttpClientError,
  HttpClientNetworkError,
  HttpClientResponseValidationError,
  OperationTimeoutError,
} from '@infrastructure/http-client';
import {
  WebhookDeliveryError,
  WebhookRejectedError,
  WebhooksConfigError,
  type WebhookDeliveryInfo,
} from './errors.js';
import type { WebhookHttpClients } from './webhook-http-clients.js';
import { WebhookRequested } from './webhook-requested.event.js';
import { webhookHeaders } from './webhook-signature.js';
import { SEALED_URL_PREFIX } from './webhook-url-sealer.js';
import type { WebhookMetrics } from './webhooks.metrics.js';
import {
  WebhookKeys,
  type ResolvedWebhookDelivery,
  type ResolvedWebhooksOptions,
} from './webhooks.options.js';

/**
 * Delivers `WebhookRequested` events: signs each attempt (Standard Webhooks; a fresh timestamp
 * per attempt, the same `webhook-id` on all) and POSTs the stored body with the target origin's
 * `HttpClient`. 2xx → done; 409 (the receiver has this id already) → done. 5xx, 408, 429, timeouts, network errors and an open breaker throw
 * `WebhookDeliveryError`: the messaging pipeline retries with backoff, then dead-letters. Other
 * answers (4xx, 3xx) throw `WebhookRejectedError`: dead-lettered at once, without retries.
 *
 * `WebhooksModule` registers it as `@EventHandler(WebhookRequested, { group, retry, concurrency })`
 * with the configured delivery options (see {@link configuredDispatcher}).
 */
export class WebhookDispatcher {
  private readonly log = getLogger('WebhookDispatcher');

  constructor(
    private readonly options: ResolvedWebhooksOptions,
    private readonly clients: WebhookHttpClients,
    private readonly metrics?: WebhookMetrics,
  ) {}

  async deliver(event: WebhookRequested): Promise<void> {
    const target = this.urlOf(event);
    const url = new URL(target);
    const info: WebhookDeliveryInfo = {
      webhookId: event.webhookId,
      eventType: event.eventType,
      origin: url.origin,
    };
    const { keys, headers } = await this.targetOf(event, target);
    const timestamp = Math.floor(Date.now() / 1000);
    // Subscriptions are URLs your users gave: no private addresses unless allowed.
    const guarded = !('endpoint' in event.target) && !this.options.delivery.allowPrivateNetworks;
    const result = await this.clients
      .for(url, guarded)
      .post(`${url.pathname}${url.search}`, {
        body: event.body,
        headers: {
          ...headers,
          ...event.headers,
          'content-type': 'application/json',
          ...webhookHeaders(keys.keys, event.webhookId, timestamp, event.body),
        },
      })
      .then(
        (res) => res.status,
        (error: unknown) => error,
      );
    // A 2xx whose body we could not read is still a delivery: the body is not ours to judge.
    const status =
      result instanceof HttpClientResponseValidationError && result.status < 300
        ? result.status
        : result;
    if (typeof status === 'number') {
      this.metrics?.recordSent('delivered');
      this.log.debug({ ...info, status }, 'webhook delivered');
      return;
    }
    // 409: the receiver has this webhook id already (an earlier attempt got through but its
    // answer was lost, e.g. our attempt timed out): delivered, not a failure to dead-letter.
    if (status instanceof HttpClientError && status.status === 409) {
      this.metrics?.recordSent('duplicate');
      this.log.debug({ ...info, status: 409 }, 'webhook already received by the receiver');
      return;
    }
    // Errors are rebuilt without their cause on purpose: the HttpClient's carry the full URL,
    // whose path may hold a token (Slack- or Discord-style hooks); ours name the origin only.
    throw classify(status, info);
  }

  /**
   * The URL to POST to: an endpoint's from the options (configuration changed since the webhook
   * was requested: retried, then dead-lettered; replay it once the endpoint is back), a
   * subscription's unsealed.
   */
  private urlOf(event: WebhookRequested): string {
    const target = event.target;
    if ('endpoint' in target) {
      const endpoint = this.options.endpoints[target.endpoint];
      if (!endpoint) {
        throw new WebhooksConfigError(
          `WebhookDispatcher: endpoint "${target.endpoint}" is no longer configured`,
        );
      }
      return endpoint.url;
    }
    if (!event.url.startsWith(SEALED_URL_PREFIX)) return event.url; // an earlier version's event
    const sealer = this.options.urlSealer;
    if (!sealer) {
      throw new WebhooksConfigError(
        `WebhookDispatcher: the URL of subscription ${target.subscriptionId} is sealed but neither options.urlEncryptionKey nor options.secret is set`,
      );
    }
    return sealer.open(event.url, target.subscriptionId);
  }

  private async targetOf(
    event: WebhookRequested,
    url: string,
  ): Promise<{ keys: WebhookKeys; headers: Record<string, string> }> {
    const target = event.target;
    if ('endpoint' in target) {
      const endpoint = this.options.endpoints[target.endpoint];
      if (!endpoint?.keys) {
        // Configuration changed since the webhook was requested: retried, then dead-lettered
        // (replay it once the endpoint is back in the options).
        throw new WebhooksConfigError(
          `WebhookDispatcher: endpoint "${target.endpoint}" is no longer configured with a secret`,
        );
      }
      return { keys: endpoint.keys, headers: endpoint.headers };
    }
    const resolver = this.options.subscriptionSecret;
    if (!resolver) {
      if (!this.options.signing) {
        throw new WebhooksConfigError(
          'WebhookDispatcher: no options.subscriptionSecret nor options.secret to sign with',
        );
      }
      return { keys: this.options.signing, headers: {} };
    }
    const secret = await resolver({
      id: target.subscriptionId,
      url,
      headers: event.headers,
    });
    return { keys: new WebhookKeys(secret), headers: {} };
  }
}

function classify(error: unknown, info: WebhookDeliveryInfo): Error {
  if (error instanceof HttpClientError) {
    // The client's own verdict (408, 429, 5xx but 501): anything else is a refusal for good.
    return error.retryable
      ? new WebhookDeliveryError(info, error.status, undefined, error.retryAfterMs)
      : new WebhookRejectedError(info, error.status);
  }
  if (error instanceof OperationTimeoutError) {
    return new WebhookDeliveryError(
      info,
      undefined,
      `attempt timed out after ${error.timeoutMs} ms`,
    );
  }
  if (error instanceof HttpClientNetworkError && error.code === 'EPRIVATE') {
    return new WebhookRejectedError(info, undefined, 'the URL resolves to a private address');
  }
  if (error instanceof HttpClientNetworkError) {
    return new WebhookDeliveryError(info, undefined, error.code ?? 'network error');
  }
  if (error instanceof CircuitOpenError) {
    return new WebhookDeliveryError(
      info,
      undefined,
      'circuit open (the receiver failed repeatedly)',
    );
  }
  if (error instanceof HttpClientResponseValidationError) {
    return new WebhookDeliveryError(info, error.status);
  }
  return error instanceof Error ? error : new Error(String(error));
}

/**
 * A `WebhookDispatcher` subclass whose `deliver` is an `@EventHandler(WebhookRequested, …)` with
 * the configured group, retry policy and concurrency. A subclass per module instance, because the
 * delivery options are known only at runtime (from `forRoot`/`forRootAsync`) and decorator
 * metadata on the base class would be shared by every app in the process.
 */
export function configuredDispatcher(
  delivery: ResolvedWebhookDelivery,
): new (...args: ConstructorParameters<typeof WebhookDispatcher>) => WebhookDispatcher {
  const Configured = class ConfiguredWebhookDispatcher extends WebhookDispatcher {};
  const deliver = Object.getOwnPropertyDescriptor(WebhookDispatcher.prototype, 'deliver')!;
  EventHandler(WebhookRequested, {
    group: delivery.group,
    // No inbox transaction around an HTTP call (it would hold a connection, or SQLite's single
    // writer, for as long as the receiver takes); redeliveries keep the webhook id, receivers dedupe.
    inbox: false,
    retry: delivery.retry,
    ...(delivery.concurrency === undefined ? {} : { concurrency: delivery.concurrency }),
  })(Configured.prototype, 'deliver', deliver);
  return Configured;
}
