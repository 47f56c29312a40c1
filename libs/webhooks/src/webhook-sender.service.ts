import { uuidv7, type EventBus } from '@infrastructure/messaging';
import { WebhooksConfigError } from './errors.js';
import { WebhookRequested, type WebhookTargetRef } from './webhook-requested.event.js';
import type { ResolvedWebhooksOptions, WebhookSubscription } from './webhooks.options.js';

/** Options of one {@link WebhookSender.send}. */
export interface WebhookSendOptions {
  /**
   * Becomes the `webhook-id` (1-256 printable ASCII characters): sending twice with the same key
   * gives receivers the same id, so they process it once. @default `msg_<uuidv7>`
   */
  idempotencyKey?: string;
}

/** Standard Webhooks event types: `order.paid`, `invoice.payment_failed`, `v2/user.created`. */
const EVENT_TYPE = /^[A-Za-z0-9][A-Za-z0-9_.:/-]{0,254}$/;
const WEBHOOK_ID = /^[\x21-\x7e]{1,256}$/;

/**
 * Sends webhooks without calling HTTP inline: `send` publishes a `WebhookRequested` event on the
 * messaging `EventBus` — inside a unit of work (`@Transactional()`) it is written to the outbox
 * in the caller's transaction, so it leaves only if the transaction commits — and the
 * `WebhookDispatcher` consumer signs and POSTs it, retrying with backoff, then dead-lettering.
 *
 * @example
 * @Transactional()
 * async pay(orderId: string) {
 *   await this.orders.markPaid(orderId);
 *   await this.webhooks.send('billing', 'order.paid', { orderId }, { idempotencyKey: `order-paid-${orderId}` });
 * }
 */
export class WebhookSender {
  constructor(
    private readonly options: ResolvedWebhooksOptions,
    private readonly bus?: EventBus,
  ) {}

  /**
   * Requests the delivery of `payload` as an `eventType` webhook to a configured endpoint (by
   * name) or to a subscription of yours. The body is `{"type","timestamp","data"}` (the Standard
   * Webhooks payload shape). Resolves with the `webhook-id` once the request is stored (outbox)
   * or published, not once it is delivered.
   * Neither the URL of an endpoint (stored by name) nor that of a subscription (sealed with
   * `urlEncryptionKey`, or a key derived from `secret`) is written in clear.
   * @throws WebhooksConfigError for an unknown endpoint, no signing secret, no key to seal a
   * subscription URL with, or no MessagingModule.
   */
  async send(
    target: string | WebhookSubscription,
    eventType: string,
    payload: unknown,
    options: WebhookSendOptions = {},
  ): Promise<string> {
    if (!this.bus) {
      throw new WebhooksConfigError(
        'WebhookSender needs the messaging EventBus: import MessagingModule.forRoot(...) (with PersistenceModule for the outbox)',
      );
    }
    if (!EVENT_TYPE.test(eventType)) {
      throw new TypeError(
        `WebhookSender: eventType must be 1-255 characters of [A-Za-z0-9_.:/-], got "${eventType.slice(0, 50)}"`,
      );
    }
    const { idempotencyKey } = options;
    if (idempotencyKey !== undefined && !WEBHOOK_ID.test(idempotencyKey)) {
      throw new TypeError('WebhookSender: idempotencyKey must be 1-256 printable ASCII characters');
    }
    const { url, ref, headers } = this.resolve(target);
    const id = uuidv7();
    const occurredAt = new Date();
    const body = JSON.stringify({
      type: eventType,
      timestamp: occurredAt.toISOString(),
      data: payload ?? null,
    });
    const size = Buffer.byteLength(body);
    if (size > this.options.delivery.maxBodyBytes) {
      throw new RangeError(
        `WebhookSender: ${eventType} body is ${size} bytes, more than delivery.maxBodyBytes (${this.options.delivery.maxBodyBytes})`,
      );
    }
    const webhookId = idempotencyKey ?? `msg_${id.replaceAll('-', '')}`;
    await this.bus.publish(
      new WebhookRequested(webhookId, eventType, url, body, ref, headers, { id, occurredAt }),
    );
    return webhookId;
  }

  private resolve(target: string | WebhookSubscription): {
    url: string;
    ref: WebhookTargetRef;
    headers: Record<string, string>;
  } {
    if (typeof target === 'string') {
      const endpoint = this.options.endpoints[target];
      if (!endpoint) {
        const known = Object.keys(this.options.endpoints).join(', ') || 'none';
        throw new WebhooksConfigError(
          `WebhookSender: no endpoint "${target}" (configured: ${known}); add it under options.endpoints`,
        );
      }
      if (!endpoint.keys) {
        throw new WebhooksConfigError(
          `WebhookSender: endpoint "${target}" has no secret: set options.endpoints.${target}.secret or options.secret (WEBHOOK_SECRET)`,
        );
      }
      // The URL (it may hold a token) and the headers are read from the options at delivery
      // time: only the endpoint's name is stored with the event.
      return { url: '', ref: { endpoint: target }, headers: {} };
    }
    const { id, url, headers = {} } = target;
    if (typeof id !== 'string' || id.length === 0 || id.length > 200) {
      throw new TypeError('WebhookSender: subscription.id must be a string of 1-200 characters');
    }
    if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) {
      throw new TypeError(`WebhookSender: subscription ${id} url must be an http(s) URL`);
    }
    if (!this.options.subscriptionSecret && !this.options.signing) {
      throw new WebhooksConfigError(
        'WebhookSender: subscriptions need options.subscriptionSecret or options.secret (WEBHOOK_SECRET)',
      );
    }
    for (const [name, value] of Object.entries(headers)) {
      if (/[\r\n]/.test(value) || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$/.test(name)) {
        throw new TypeError(`WebhookSender: subscription ${id} has an invalid header "${name}"`);
      }
    }
    const sealer = this.options.urlSealer;
    if (!sealer) {
      throw new WebhooksConfigError(
        'WebhookSender: subscription URLs are sealed before they are stored: set options.urlEncryptionKey (WEBHOOK_URL_ENCRYPTION_KEY) or options.secret (WEBHOOK_SECRET)',
      );
    }
    return { url: sealer.seal(url, id), ref: { subscriptionId: id }, headers: { ...headers } };
  }
}
