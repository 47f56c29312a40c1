import { Module, type DynamicModule } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { extendModule } from '@infrastructure/core';
import { WebhookDispatcher } from './webhook-dispatcher.service.js';
import { WebhookEndpointsCheck } from './webhook-endpoints.check.js';
import { WebhookReplayStore } from './webhook-replay.store.js';
import { WebhookSender } from './webhook-sender.service.js';
import { WebhookSignatureGuard } from './webhook-signature.guard.js';
import { WEBHOOKS_OPTIONS } from './webhooks.constants.js';
import { WebhookMetrics } from './webhooks.metrics.js';
import {
  ASYNC_OPTIONS_TYPE,
  ConfigurableModuleClass,
  OPTIONS_TYPE,
} from './webhooks.module-definition.js';
import {
  dispatcherProvider,
  httpClientsProvider,
  metricsProvider,
  optionsProvider,
  replayStoreProviders,
  rotationProvider,
  senderProvider,
} from './webhooks.providers.js';

function withWebhooks(module: DynamicModule): DynamicModule {
  return extendModule(module, {
    imports: [DiscoveryModule],
    providers: [
      optionsProvider(),
      ...replayStoreProviders(),
      metricsProvider(),
      httpClientsProvider(),
      senderProvider(),
      dispatcherProvider(),
      rotationProvider(),
      WebhookSignatureGuard,
      WebhookEndpointsCheck,
    ],
    exports: [
      WEBHOOKS_OPTIONS,
      WebhookSender,
      WebhookDispatcher,
      WebhookReplayStore,
      WebhookMetrics,
      WebhookSignatureGuard,
    ],
  });
}

/**
 * Standard Webhooks, both ways. Sending: `WebhookSender.send` publishes a `WebhookRequested`
 * event (transactional outbox inside a unit of work); `WebhookDispatcher` signs and delivers it
 * per target with an `HttpClient` (timeout, breaker), retried by the messaging pipeline, then
 * dead-lettered. Receiving: `@WebhookEndpoint()` verifies signature (raw body), timestamp and
 * replays. Global by default; sending needs `MessagingModule`.
 */
@Module({})
export class WebhooksModule extends ConfigurableModuleClass {
  static override forRoot(options: typeof OPTIONS_TYPE = {}): DynamicModule {
    return withWebhooks(super.forRoot(options));
  }

  static override forRootAsync(options: typeof ASYNC_OPTIONS_TYPE): DynamicModule {
    return withWebhooks(super.forRootAsync(options));
  }
}
