// Standard Webhooks: the sender (through the messaging outbox) and the receiver guard
export { WebhooksModule } from './webhooks.module.js';
export {
  parseWebhookSecrets,
  WebhookKeys,
  type WebhookSecretRotation,
  type WebhooksOptions,
} from './webhooks.options.js';
export { webhooksConfig, webhooksOptionsFrom } from './webhooks.config.js';
export { WebhookSender } from './webhook-sender.service.js';
export { WebhookRequested } from './webhook-requested.event.js';
export { WebhookSignatureGuard } from './webhook-signature.guard.js';
export { WebhookEndpoint } from './webhook-endpoint.decorator.js';
export { WebhookReplayStore } from './webhook-replay.store.js';
export {
  generateWebhookSecret,
  signWebhook,
  verifyWebhook,
  webhookHeaders,
} from './webhook-signature.js';
export {
  WebhookDeliveryError,
  WebhookRawBodyMissingError,
  WebhookRejectedError,
  WebhookReplayStoreUnavailableError,
  WebhookVerificationError,
  WebhooksConfigError,
} from './errors.js';
