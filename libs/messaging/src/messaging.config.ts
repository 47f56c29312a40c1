import { cfg, defineConfig, type ConfigOf } from '@infrastructure/configuration';
import { MessagingConfigError } from './errors.js';
import { OUTBOX_LEASE_MS, TRANSPORTS, type MessagingOptions } from './messaging.options.js';

/** Environment variables of the messaging lib (register with `ConfigurationModule`). */
export const messagingConfig = defineConfig('messaging', {
  transport: {
    env: 'MESSAGING_TRANSPORT',
    ...cfg.oneOf(TRANSPORTS, 'memory'),
    description:
      'Event bus transport: `memory` (in-process), `redis`, `rabbitmq`, `kafka`, `nats`, `mqtt` (needs MESSAGING_URL).',
  },
  url: {
    env: 'MESSAGING_URL',
    // A secret: broker URLs carry credentials, and Kafka's `kafka://h1:9092,h2:9092` is no URL.
    ...cfg.secret(),
    description:
      'Broker URL: `redis://`, `amqp://`, `nats://`, `mqtt://`, `kafka://host:port[,host:port]` (masked in logs).',
  },
  tlsCaFile: {
    env: 'MESSAGING_TLS_CA_FILE',
    ...cfg.string(),
    description:
      'PEM CA file trusted for a `rediss://` MESSAGING_URL (redis transport; instead of the default CAs).',
  },
  namespace: {
    env: 'MESSAGING_NAMESPACE',
    ...cfg.string({ default: 'events' }),
    description: 'Shared name of the event topology (exchange, stream/subject/topic prefix).',
  },
  prefetch: {
    env: 'MESSAGING_PREFETCH',
    ...cfg.int({ min: 1, max: 10_000, default: 16 }),
    description: 'Deliveries in flight per consumer group.',
  },
  outboxLeaseMs: {
    env: 'OUTBOX_LEASE_MS',
    ...cfg.int({ min: OUTBOX_LEASE_MS.min, default: OUTBOX_LEASE_MS.default }),
    description:
      'How long an outbox relay holds the rows it claimed; rows a crashed instance claimed are published by another one after this long.',
  },
});

/**
 * Maps `messagingConfig` to `MessagingModule` options.
 * @throws MessagingConfigError naming MESSAGING_URL when a broker transport has no URL.
 */
export function messagingOptionsFrom(
  config: ConfigOf<typeof messagingConfig>,
  extra: Omit<MessagingOptions, 'transport' | 'url'> = {},
): MessagingOptions {
  if (config.transport !== 'memory' && !config.url) {
    throw new MessagingConfigError(
      `MESSAGING_URL is required when MESSAGING_TRANSPORT=${config.transport} (e.g. ${
        {
          redis: 'redis://127.0.0.1:6379',
          rabbitmq: 'amqp://guest:guest@127.0.0.1:5672',
          kafka: 'kafka://127.0.0.1:9092',
          nats: 'nats://127.0.0.1:4222',
          mqtt: 'mqtt://127.0.0.1:1883',
        }[config.transport]
      })`,
    );
  }
  if (config.tlsCaFile && config.transport !== 'redis') {
    throw new MessagingConfigError(
      `MESSAGING_TLS_CA_FILE is used by MESSAGING_TRANSPORT=redis (a rediss:// MESSAGING_URL) only; got MESSAGING_TRANSPORT=${config.transport}`,
    );
  }
  // The lease goes into the app's outbox options; a default lease adds none when the app has
  // none, so an app without persistence is not made to configure the outbox.
  const outbox =
    extra.outbox === false ||
    (extra.outbox === undefined && config.outboxLeaseMs === OUTBOX_LEASE_MS.default)
      ? extra.outbox
      : { leaseMs: config.outboxLeaseMs, ...extra.outbox };
  return {
    namespace: config.namespace,
    prefetch: config.prefetch,
    ...extra,
    ...(outbox === undefined ? {} : { outbox }),
    ...(config.tlsCaFile
      ? {
          transportOptions: {
            ...extra.transportOptions,
            tls: { ...(extra.transportOptions?.tls as object), caFile: config.tlsCaFile },
          },
        }
      : {}),
    transport: config.transport,
    ...(config.url ? { url: config.url } : {}),
  };
}
