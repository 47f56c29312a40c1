/** The resolved options (`ResolvedWebhooksOptions`). */
export const WEBHOOKS_OPTIONS = 'WEBHOOKS:OPTIONS';

/** Metadata key of `@WebhookEndpoint` (its options). */
export const WEBHOOK_ENDPOINT = Symbol.for('infrastructure.webhooks.webhookEndpoint');

/**
 * The wire type of `WebhookRequested` (messaging `x-message-type`). It keeps the name it had when
 * webhooks lived in the former integrations lib: outbox rows, broker messages and dead letters
 * already stored carry it, and a new name would orphan them.
 */
export const WEBHOOK_REQUESTED_TYPE = 'integrations.WebhookRequested';
