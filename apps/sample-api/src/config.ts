import { appConfig, cfg, defineConfig, httpConfig } from '@infrastructure/configuration';
import { monitoringConfig } from '@infrastructure/monitoring';
import { databaseConfig } from '@infrastructure/persistence';
import { cachingConfig } from '@infrastructure/caching';
import { jwtConfig, oidcConfig, securityConfig } from '@infrastructure/security';
import { messagingConfig } from '@infrastructure/messaging';
import { httpClientConfig } from '@infrastructure/http-client';
import { webhooksConfig } from '@infrastructure/webhooks';

// Namespaces owned by libs that are still to come live here until their lib exports them.

/** `demo` / `demo-secret`: the embedded default's client, refused in production. */
export const DEMO_CLIENT =
  'demo|sha256:cd577fe2561ebff23505db0bb006300c7cdecbd46bc0e03c449afafaca2c25bf|orders:read orders:write';

/** Demo OAuth clients of `POST /v1/auth/token` (client credentials). */
export const authClientsConfig = defineConfig('authClients', {
  clients: {
    env: 'AUTH_CLIENTS',
    ...cfg.list([DEMO_CLIENT]),
    description:
      'Clients of POST /v1/auth/token as `id|sha256:<hex of secret>|scope scope` (comma-separated); default: `demo`/`demo-secret` with orders:read orders:write, refused when NODE_ENV=production.',
  },
});

/** The OpenAPI document (`/docs-json`) and its UI (`/docs`). */
export const docsConfig = defineConfig('docs', {
  enabled: {
    env: 'DOCS_ENABLED',
    ...cfg.bool(),
    description:
      'Serve /docs and /docs-json; default: on, except when NODE_ENV=production (the API map is not public there unless asked for).',
  },
});

/** The payment provider called when an order is placed (PAYMENTS_URL unset: an in-process fake). */
export const paymentsConfig = httpClientConfig('payments', 'PAYMENTS');

/** Where order webhooks go (signed with WEBHOOK_SECRET); unset: none are sent. */
export const orderWebhooksConfig = defineConfig('orderWebhooks', {
  url: {
    env: 'ORDER_WEBHOOK_URL',
    ...cfg.url({ schemes: ['http', 'https'] }),
    description:
      'Receiver of the order webhooks (order.placed, order.paid, order.payment_declined, order.cancelled), signed per Standard Webhooks with WEBHOOK_SECRET (then required). Unset: no webhooks.',
  },
});

/** The standard OpenTelemetry variables the SDK reads (listed so they are validated and documented). */
export const otelConfig = defineConfig('otel', {
  serviceName: { env: 'OTEL_SERVICE_NAME', ...cfg.string(), description: 'Service name on spans.' },
  endpoint: {
    env: 'OTEL_EXPORTER_OTLP_ENDPOINT',
    ...cfg.url({ schemes: ['http', 'https'] }),
    description: 'OTLP collector; unset = tracing off.',
  },
  protocol: {
    env: 'OTEL_EXPORTER_OTLP_PROTOCOL',
    ...cfg.oneOf(['http/protobuf', 'http/json', 'grpc'] as const),
    description: 'OTLP protocol.',
  },
  sampler: {
    env: 'OTEL_TRACES_SAMPLER',
    ...cfg.oneOf([
      'always_on',
      'always_off',
      'traceidratio',
      'parentbased_always_on',
      'parentbased_always_off',
      'parentbased_traceidratio',
    ] as const),
    description: 'Sampler.',
  },
  samplerArg: {
    env: 'OTEL_TRACES_SAMPLER_ARG',
    ...cfg.string(),
    description: 'Sampler argument (ratio).',
  },
  resourceAttributes: {
    env: 'OTEL_RESOURCE_ATTRIBUTES',
    ...cfg.string(),
    description: 'Extra resource attributes `k=v,k2=v2`.',
  },
});

/** Every namespace the sample API validates at boot, in docs order. */
export const definitions = [
  appConfig,
  httpConfig,
  monitoringConfig,
  databaseConfig,
  cachingConfig,
  messagingConfig,
  jwtConfig,
  oidcConfig,
  securityConfig,
  authClientsConfig,
  docsConfig,
  paymentsConfig,
  webhooksConfig,
  orderWebhooksConfig,
  otelConfig,
] as const;
