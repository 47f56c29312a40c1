import { EventBus, MessagingRuntime } from '@infrastructure/messaging';
import { getLogger, MetricsService } from '@infrastructure/monitoring';
import type { OnApplicationShutdown, Provider } from '@nestjs/common';
import { MemoryWebhookReplayStore } from './stores/memory-webhook-replay.store.js';
import { RedisWebhookReplayStore } from './stores/redis-webhook-replay.store.js';
import { configuredDispatcher, WebhookDispatcher } from './webhook-dispatcher.service.js';
import { WebhookHttpClients } from './webhook-http-clients.js';
import { WebhookReplayStore } from './webhook-replay.store.js';
import { WebhookSender } from './webhook-sender.service.js';
import { WEBHOOKS_OPTIONS } from './webhooks.constants.js';
import { WebhookMetrics } from './webhooks.metrics.js';
import { WEBHOOKS_MODULE_OPTIONS } from './webhooks.module-definition.js';
import {
  parseWebhookSecrets,
  resolveWebhooksOptions,
  type ResolvedWebhookRotationBinding,
  type ResolvedWebhooksOptions,
  type WebhooksOptions,
} from './webhooks.options.js';
import { webhookSecretProblem } from './webhook-signature.js';

/** Validated options with defaults (a bad option fails the boot here, naming its key). */
export function optionsProvider(): Provider {
  return {
    provide: WEBHOOKS_OPTIONS,
    useFactory: (o: WebhooksOptions) => resolveWebhooksOptions(o),
    inject: [WEBHOOKS_MODULE_OPTIONS],
  };
}

/** Closes the store at shutdown when the module opened it (a store you pass stays yours). */
class ClosingStore implements OnApplicationShutdown {
  constructor(readonly store: WebhookReplayStore) {}
  async onApplicationShutdown(): Promise<void> {
    await this.store.close();
  }
}

const REPLAY_STORE_OWNER = 'WEBHOOKS:REPLAY_STORE_OWNER';

/** The replay store: memory, Redis (own connection) or the one given in the options. */
export function replayStoreProviders(): Provider[] {
  return [
    {
      provide: REPLAY_STORE_OWNER,
      useFactory: async (o: ResolvedWebhooksOptions) => {
        const replay = o.replay;
        if (replay && typeof replay.store === 'object') return { store: replay.store };
        if (replay && replay.store === 'redis') {
          return new ClosingStore(
            await RedisWebhookReplayStore.connect({
              url: replay.url!,
              ...(replay.password ? { password: replay.password } : {}),
              keyPrefix: replay.keyPrefix,
              timeoutMs: replay.timeoutMs,
              ...(replay.tls ? { tls: replay.tls } : {}),
            }),
          );
        }
        return { store: new MemoryWebhookReplayStore() };
      },
      inject: [WEBHOOKS_OPTIONS],
    },
    {
      provide: WebhookReplayStore,
      useFactory: (owner: { store: WebhookReplayStore }) => owner.store,
      inject: [REPLAY_STORE_OWNER],
    },
  ];
}

/** Counters, and the messaging observer that counts failed attempts. */
export function metricsProvider(): Provider {
  return {
    provide: WebhookMetrics,
    useFactory: (o: ResolvedWebhooksOptions, metrics?: MetricsService, bus?: EventBus) => {
      const m = new WebhookMetrics(metrics, o.delivery.group);
      if (metrics && bus instanceof MessagingRuntime) bus.observe((x) => m.observe(x));
      return m;
    },
    inject: [
      WEBHOOKS_OPTIONS,
      { token: MetricsService, optional: true },
      { token: EventBus, optional: true },
    ],
  };
}

export function httpClientsProvider(): Provider {
  return {
    provide: WebhookHttpClients,
    useFactory: (o: ResolvedWebhooksOptions) => new WebhookHttpClients(o.delivery),
    inject: [WEBHOOKS_OPTIONS],
  };
}

export function senderProvider(): Provider {
  return {
    provide: WebhookSender,
    useFactory: (o: ResolvedWebhooksOptions, bus?: EventBus) => new WebhookSender(o, bus),
    inject: [WEBHOOKS_OPTIONS, { token: EventBus, optional: true }],
  };
}

/** The dispatcher, an `@EventHandler` with the configured group, retry and concurrency. */
export function dispatcherProvider(): Provider {
  return {
    provide: WebhookDispatcher,
    useFactory: (o: ResolvedWebhooksOptions, clients: WebhookHttpClients, m: WebhookMetrics) => {
      const Dispatcher = configuredDispatcher(o.delivery);
      return new Dispatcher(o, clients, m);
    },
    inject: [WEBHOOKS_OPTIONS, WebhookHttpClients, WebhookMetrics],
  };
}

/** Applies a rotated secret to its keys (a bad or vanished value keeps the current keys). */
function applyRotation(
  binding: ResolvedWebhookRotationBinding,
  value: string | undefined,
  overlapSeconds: number,
): void {
  const log = getLogger('Webhooks');
  const where = { secret: binding.name, option: binding.option };
  if (value === undefined) {
    log.warn(
      where,
      'webhook secret disappeared from the secrets provider; keeping the current one',
    );
    return;
  }
  const list = parseWebhookSecrets(value);
  const problem = list.length === 0 ? 'is empty' : list.map(webhookSecretProblem).find(Boolean);
  if (problem) {
    log.error({ ...where, problem }, 'rotated webhook secret is unusable; keeping the current one');
    return;
  }
  binding.keys.rotate(list, overlapSeconds);
  log.info({ ...where, secrets: list.length, overlapSeconds }, 'webhook secret rotated');
}

/** Follows `options.rotation`: each change of a named secret rotates its keys. */
export function rotationProvider(): Provider {
  return {
    provide: 'WEBHOOKS:ROTATION',
    useFactory: (o: ResolvedWebhooksOptions) => {
      const rotation = o.rotation;
      const off = (rotation?.bindings ?? []).map((binding) =>
        rotation!.secrets.onChange(binding.name, (secret) =>
          applyRotation(binding, secret?.reveal(), rotation!.overlapSeconds),
        ),
      );
      return { onModuleDestroy: () => off.forEach((unsubscribe) => unsubscribe()) };
    },
    inject: [WEBHOOKS_OPTIONS],
  };
}
