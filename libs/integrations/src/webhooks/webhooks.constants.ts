/** The resolved options (`ResolvedWebhooksOptions`). */
export const WEBHOOKS_OPTIONS = 'WEBHOOKS:OPTIONS';

/** Metadata key of `@WebhookEndpoint` (its options). */
export const WEBHOOK_ENDPOINT = Symbol.for('infrastructure.integrations.webhookEndpoint');

/** The wire type of `WebhookRequested` (messaging `x-message-type`). */
export const WEBHOOK_REQUESTED_TYPE = 'integrations.WebhookRequested';
