// Module and configuration
export { IntegrationsModule } from './integrations.module.js';
export { INTEGRATIONS_MODULE_OPTIONS } from './integrations.module-definition.js';
export { INTEGRATIONS_OPTIONS, httpClientToken } from './integrations.constants.js';
export {
  resolveIntegrationsOptions,
  type HttpClientOptions,
  type IntegrationsExtras,
  type IntegrationsOptions,
  type ResolvedHttpClientOptions,
  type ResolvedIntegrationsOptions,
} from './integrations.options.js';
export { httpClientOptionsFrom, integrationClientConfig } from './integrations.config.js';

// HTTP client
export { HttpClient } from './http/http-client.js';
export { HttpClients } from './http/http-clients.js';
export { InjectHttpClient } from './decorators/inject-http-client.decorator.js';
export {
  IDEMPOTENT_METHODS,
  type HttpClientAuth,
  type HttpFallback,
  type HttpMethod,
  type HttpResponse,
  type QueryParams,
  type RequestOptions,
} from './http/http-client.types.js';
export { maskUrl, SECRET_QUERY_PARAM } from './http/mask-url.js';
export { isPrivateAddress, PrivateAddressError, publicOnlyLookup } from './http/private-network.js';

// Resilience pipeline (also for non-HTTP calls)
export {
  CIRCUIT_STATE_VALUE,
  Resilience,
  ResiliencePolicy,
  countsAsFailure,
  createPolicy,
  isRetryableError,
  type AttemptContext,
  type CircuitStateName,
  type ExecuteOptions,
  type PolicyEvents,
} from './resilience/resilience.policy.js';
export type {
  BulkheadOptions,
  CircuitBreakerOptions,
  ResilienceOptions,
  RetryOptions,
} from './resilience/resilience.options.js';
export { parseRetryAfter } from './resilience/retry-after.js';

// Health and metrics
export { healthCheckName } from './health/http-client.indicator.js';
export type { HttpClientOutcome } from './metrics/http-client.metrics.js';

// Errors
export {
  BulkheadFullError,
  CircuitOpenError,
  HttpClientError,
  HttpClientNetworkError,
  HttpClientResponseValidationError,
  HttpClientTimeoutError,
  IntegrationsConfigError,
  OperationTimeoutError,
  type HttpCallInfo,
} from './errors.js';
// Mail (adapters/mail): the MailSender port, its SMTP / memory / log adapters, MailModule
export {
  MailSender,
  type MailAttachment,
  type MailMessage,
  type MailReceipt,
  type MailRecipients,
} from './adapters/mail/mail-sender.js';
export { MailModule } from './adapters/mail/mail.module.js';
export { MAIL_MODULE_OPTIONS, type MailExtras } from './adapters/mail/mail.module-definition.js';
export { MAIL_HEALTH_CHECK, MAIL_OPTIONS } from './adapters/mail/mail.constants.js';
export {
  MAIL_POLICY_NAME,
  resolveMailOptions,
  type MailOptions,
  type MailTransportKind,
  type ResolvedMailOptions,
  type ResolvedSmtpOptions,
  type SmtpAuth,
} from './adapters/mail/mail.options.js';
export { mailConfig, mailOptionsFrom } from './adapters/mail/mail.config.js';
export { createMailSender } from './adapters/mail/mail.providers.js';
export { SmtpMailSender } from './adapters/mail/senders/smtp-mail.sender.js';
export {
  MemoryMailSender,
  type MemoryMailSenderOptions,
  type SentMail,
} from './adapters/mail/senders/memory-mail.sender.js';
export {
  LogMailSender,
  type LogMailSenderOptions,
} from './adapters/mail/senders/log-mail.sender.js';
export type { PreparedMail } from './adapters/mail/mail-message.js';
export { registerMailHealth } from './adapters/mail/mail.indicator.js';
export type { MailOutcome } from './adapters/mail/mail.metrics.js';
export {
  MailDeliveryError,
  MailMessageError,
  MailTransientError,
  type SmtpFailure,
} from './adapters/mail/errors.js';
// Webhooks (Standard Webhooks sender and receiver)
export { WebhooksModule } from './webhooks/webhooks.module.js';
export { WEBHOOKS_MODULE_OPTIONS } from './webhooks/webhooks.module-definition.js';
export {
  WEBHOOK_ENDPOINT,
  WEBHOOK_REQUESTED_TYPE,
  WEBHOOKS_OPTIONS,
} from './webhooks/webhooks.constants.js';
export {
  WebhookKeys,
  resolveWebhooksOptions,
  type ResolvedWebhooksOptions,
  type WebhookDeliveryOptions,
  type WebhookEndpointConfig,
  type WebhookReceiverConfig,
  type WebhookReplayOptions,
  type WebhookSecret,
  type WebhookSubscription,
  type WebhooksExtras,
  type WebhooksOptions,
} from './webhooks/webhooks.options.js';
export { webhooksConfig, webhooksOptionsFrom } from './webhooks/webhooks.config.js';
export { WebhookSender, type WebhookSendOptions } from './webhooks/webhook-sender.service.js';
export { WebhookDispatcher } from './webhooks/webhook-dispatcher.service.js';
export { WebhookRequested, type WebhookTargetRef } from './webhooks/webhook-requested.event.js';
export { WebhookSignatureGuard } from './webhooks/webhook-signature.guard.js';
export {
  WebhookEndpoint,
  type WebhookEndpointOptions,
} from './webhooks/webhook-endpoint.decorator.js';
export { WebhookReplayStore } from './webhooks/webhook-replay.store.js';
export { MemoryWebhookReplayStore } from './webhooks/stores/memory-webhook-replay.store.js';
export {
  RedisWebhookReplayStore,
  type RedisReplayConnectOptions,
} from './webhooks/stores/redis-webhook-replay.store.js';
export {
  DEFAULT_TOLERANCE_SECONDS,
  WEBHOOK_HEADERS,
  generateWebhookSecret,
  signWebhook,
  verifyWebhook,
  webhookHeaders,
  webhookSecretKey,
  type VerifiedWebhook,
  type VerifyWebhookInput,
  type WebhookSecretInput,
} from './webhooks/webhook-signature.js';
export type { WebhookReceivedOutcome, WebhookSentOutcome } from './webhooks/webhooks.metrics.js';
export {
  WebhookDeliveryError,
  WebhookRawBodyMissingError,
  WebhookRejectedError,
  WebhookReplayStoreUnavailableError,
  WebhookVerificationError,
  WebhooksConfigError,
  type WebhookDeliveryInfo,
  type WebhookRejection,
} from './webhooks/errors.js';
// Object storage (BlobStore port, file system and S3 adapters)
export { BlobStorageModule } from './adapters/blob/blob-storage.module.js';
export { BLOB_STORAGE_MODULE_OPTIONS } from './adapters/blob/blob-storage.module-definition.js';
export { BLOB_STORAGE_OPTIONS } from './adapters/blob/blob-storage.constants.js';
export {
  DEFAULT_BLOB_DIR,
  resolveBlobStorageOptions,
  type BlobStorageExtras,
  type BlobStorageOptions,
  type ResolvedBlobStorageOptions,
} from './adapters/blob/blob-storage.options.js';
export { blobStorageConfig, blobStorageOptionsFrom } from './adapters/blob/blob-storage.config.js';
export {
  BlobStore,
  type BlobBody,
  type BlobInfo,
  type BlobListItem,
  type BlobListOptions,
  type BlobListPage,
  type BlobObject,
  type BlobPutOptions,
  type BlobPutResult,
  type BlobStream,
  type SignedUrlOptions,
} from './adapters/blob/blob-store.js';
export {
  FileSystemBlobStore,
  type FileSystemBlobStoreOptions,
} from './adapters/blob/fs-blob.store.js';
export { S3BlobStore, type S3BlobStoreDeps } from './adapters/blob/s3-blob.store.js';
export {
  DEFAULT_BLOB_RESILIENCE,
  type S3BlobStoreOptions,
  type S3Credentials,
} from './adapters/blob/s3-blob.options.js';
export {
  MAX_BLOB_KEY_BYTES,
  MAX_BLOB_METADATA_BYTES,
  assertValidBlobKey,
  assertValidBlobMetadata,
  assertValidBlobPrefix,
} from './adapters/blob/blob-key.js';
export { blobHealthCheckName } from './adapters/blob/blob-store.indicator.js';
export type { BlobOperation, BlobOutcome } from './adapters/blob/blob.metrics.js';
export {
  BlobNotFoundError,
  BlobStorageConfigError,
  BlobStoreError,
  InvalidBlobKeyError,
  InvalidBlobMetadataError,
  UnsupportedBlobOperationError,
} from './adapters/blob/blob.errors.js';
