import { DomainEvent, DomainEventType, type DomainEventInit } from '@infrastructure/messaging';
import { WEBHOOK_REQUESTED_TYPE } from './webhooks.constants.js';

/** Where a requested webhook goes: a configured endpoint by name, or a subscription by id. */
export type WebhookTargetRef = { endpoint: string } | { subscriptionId: string };

/**
 * A webhook to deliver, published by `WebhookSender.send` (through the outbox inside a unit of
 * work) and delivered by `WebhookDispatcher`. Carries no secret: the signing secret is looked up
 * at delivery time, and the target URL (which may hold a token) is either not stored (an
 * endpoint, by name) or sealed (a subscription), so neither is written in clear to the outbox
 * table, the broker or the dead letters.
 */
@DomainEventType(WEBHOOK_REQUESTED_TYPE)
export class WebhookRequested extends DomainEvent {
  constructor(
    /** The Standard Webhooks `webhook-id`: the same on every attempt, so receivers dedupe. */
    readonly webhookId: string,
    /** The event type (`order.paid`), also the `type` of the body. */
    readonly eventType: string,
    /**
     * `''` for an endpoint (its URL is read from the options at delivery); for a subscription its
     * URL sealed with the module's URL key (`whurl:v1:…`). A clear `https://…` URL (events from
     * earlier versions) is still delivered.
     */
    readonly url: string,
    /** The exact JSON body to send and sign. */
    readonly body: string,
    readonly target: WebhookTargetRef,
    /** Extra headers of the target (no secrets here: they are stored with the event). */
    readonly headers: Record<string, string>,
    init?: DomainEventInit,
  ) {
    super({ aggregateId: webhookId, aggregateType: 'Webhook', ...init });
  }
}
