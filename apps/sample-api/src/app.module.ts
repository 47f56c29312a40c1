import { Module, type DynamicModule } from '@nestjs/common';
import {
  appConfig,
  ConfigValidationError,
  ConfigurationModule,
  type ConfigOf,
  type ConfigurationModuleOptions,
} from '@infrastructure/configuration';
import {
  MonitoringModule,
  monitoringConfig,
  monitoringOptionsFrom,
} from '@infrastructure/monitoring';
import {
  databaseConfig,
  PersistenceModule,
  persistenceOptionsFrom,
} from '@infrastructure/persistence';
import { MessagingModule, messagingConfig, messagingOptionsFrom } from '@infrastructure/messaging';
import { CachingModule, cachingConfig, cachingOptionsFrom } from '@infrastructure/caching';
import { EventSourcingModule } from '@infrastructure/event-sourcing';
import {
  jwtConfig,
  oidcConfig,
  SecretsProvider,
  SecurityModule,
  securityConfig,
  securityOptionsFrom,
} from '@infrastructure/security';
import { AuthController } from './auth/auth.controller.js';
import { httpClientOptionsFrom, HttpClientModule } from '@infrastructure/http-client';
import { WebhooksModule, webhooksConfig, webhooksOptionsFrom } from '@infrastructure/webhooks';
import { definitions, orderWebhooksConfig, paymentsConfig } from './config.js';
import {
  PAYMENTS_BASE_URL,
  PaymentsEndpointModule,
  PaymentsModule,
} from './payments/payments.module.js';
import { InfoController } from './info.controller.js';
import { migrations } from './migrations/index.js';
import { OrderEntity } from './orders/infrastructure/order.entity.js';
import { OrderSummaryEntity } from './orders/infrastructure/order-summary.entity.js';
import { OrdersModule } from './orders/index.js';
import { OrderWebhooksModule } from './webhooks/order-webhooks.module.js';

/** Names of the rotating secrets in the SecretsProvider (each read from its `<NAME>_FILE`). */
const DATABASE_PASSWORD = 'DATABASE_PASSWORD';
const REDIS_PASSWORD = 'REDIS_PASSWORD';
const WEBHOOK_SECRET = 'WEBHOOK_SECRET';

/** The secret files that are configured, by secret name. */
function secretFiles(files: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(files).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
}

/** The sample API's root module. */
@Module({})
export class AppModule {
  /** @param config where configuration is read from (tests pass an explicit env). */
  static forRoot(config: ConfigurationModuleOptions = {}): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigurationModule.forRoot({ definitions, ...config }),
        MonitoringModule.forRootAsync({
          inject: [appConfig.KEY, monitoringConfig.KEY],
          useFactory: (
            app: ConfigOf<typeof appConfig>,
            monitoring: ConfigOf<typeof monitoringConfig>,
          ) =>
            monitoringOptionsFrom(monitoring, {
              serviceName: app.serviceName,
              environment: app.nodeEnv,
            }),
        }),
        // DATABASE_PASSWORD_FILE: the password follows the file (the pool is replaced on rotation).
        PersistenceModule.forRootAsync({
          inject: [databaseConfig.KEY, SecretsProvider],
          useFactory: (database: ConfigOf<typeof databaseConfig>, secrets: SecretsProvider) =>
            persistenceOptionsFrom(database, {
              entities: [OrderEntity, OrderSummaryEntity],
              migrations,
              ...(database.passwordFile ? { password: { secrets, name: DATABASE_PASSWORD } } : {}),
            }),
        }),
        MessagingModule.forRootAsync({
          inject: [appConfig.KEY, messagingConfig.KEY],
          useFactory: (
            app: ConfigOf<typeof appConfig>,
            messaging: ConfigOf<typeof messagingConfig>,
          ) =>
            messagingOptionsFrom(messaging, {
              serviceName: app.serviceName,
              // Tables come from the migrations (messagingMigrations is in the list).
              outbox: { createTables: false },
            }),
        }),
        // REDIS_URL unset: in-memory cache; set: Redis (L2) with an in-process L1 per instance.
        // REDIS_PASSWORD_FILE: every reconnection authenticates with the file's current value.
        CachingModule.forRootAsync({
          inject: [appConfig.KEY, cachingConfig.KEY, SecretsProvider],
          useFactory: (
            app: ConfigOf<typeof appConfig>,
            caching: ConfigOf<typeof cachingConfig>,
            secrets: SecretsProvider,
          ) =>
            cachingOptionsFrom(caching, {
              name: app.serviceName,
              ...(caching.redisPasswordFile
                ? { redis: { password: { secrets, name: REDIS_PASSWORD } } }
                : {}),
            }),
        }),
        // Bearer tokens on every route but @Public() ones; rate limits shared through REDIS_URL.
        SecurityModule.forRootAsync({
          // Its SecretsProvider watches the secret files (JWT_PRIVATE_KEY_FILE, and below
          // DATABASE_PASSWORD_FILE, REDIS_PASSWORD_FILE, WEBHOOK_SECRET_FILE): the modules above
          // and below follow it, so every one of them rotates without a restart.
          inject: [
            jwtConfig.KEY,
            oidcConfig.KEY,
            securityConfig.KEY,
            cachingConfig.KEY,
            databaseConfig.KEY,
            webhooksConfig.KEY,
          ],
          useFactory: (
            jwt: ConfigOf<typeof jwtConfig>,
            oidc: ConfigOf<typeof oidcConfig>,
            security: ConfigOf<typeof securityConfig>,
            caching: ConfigOf<typeof cachingConfig>,
            database: ConfigOf<typeof databaseConfig>,
            webhooks: ConfigOf<typeof webhooksConfig>,
          ) =>
            securityOptionsFrom(
              { jwt, oidc, security },
              {
                ...(caching.redisUrl
                  ? {
                      redis: {
                        url: caching.redisUrl,
                        keyPrefix: caching.keyPrefix,
                        ...(caching.redisPasswordFile
                          ? { password: { name: REDIS_PASSWORD } }
                          : {}),
                        // The same Redis as the cache: trust the same CA (REDIS_TLS_CA_FILE).
                        ...(caching.redisTlsCaFile
                          ? { tls: { caFile: caching.redisTlsCaFile } }
                          : {}),
                      },
                    }
                  : {}),
                secrets: {
                  files: secretFiles({
                    [DATABASE_PASSWORD]: database.passwordFile,
                    [REDIS_PASSWORD]: caching.redisPasswordFile,
                    [WEBHOOK_SECRET]: webhooks.secretFile,
                  }),
                },
              },
            ),
        }),
        // Outbound HTTP: the payment provider (breaker state in /health and /metrics from boot).
        HttpClientModule.forRootAsync({
          clientNames: ['payments'],
          imports: [PaymentsEndpointModule],
          inject: [paymentsConfig.KEY, PAYMENTS_BASE_URL],
          useFactory: (payments: ConfigOf<typeof paymentsConfig>, baseUrl: string) => ({
            clients: {
              payments: httpClientOptionsFrom(
                { ...payments, url: baseUrl },
                {
                  healthUrl: '/health',
                  circuitBreaker: { consecutiveFailures: 5, halfOpenAfterMs: 10_000 },
                },
              )!,
            },
          }),
        }),
        // Outgoing webhooks (ORDER_WEBHOOK_URL, signed with WEBHOOK_SECRET) through the outbox.
        WebhooksModule.forRootAsync({
          inject: [webhooksConfig.KEY, orderWebhooksConfig.KEY, SecretsProvider],
          useFactory: (
            webhooks: ConfigOf<typeof webhooksConfig>,
            orders: ConfigOf<typeof orderWebhooksConfig>,
            secrets: SecretsProvider,
          ) => {
            if (orders.url && !webhooks.secret) {
              throw new ConfigValidationError([
                {
                  env: 'WEBHOOK_SECRET',
                  key: 'webhooks.secret',
                  message:
                    'required when ORDER_WEBHOOK_URL is set (whsec_<base64>; generate one with generateWebhookSecret())',
                },
              ]);
            }
            return webhooksOptionsFrom(webhooks, {
              ...(orders.url ? { endpoints: { orders: { url: orders.url } } } : {}),
              // WEBHOOK_SECRET_FILE: a rotated file signs first; the old secret for 24 h too.
              ...(webhooks.secretFile ? { rotation: { secrets, secret: WEBHOOK_SECRET } } : {}),
            });
          },
        }),
        // The event store's tables come from the migrations too.
        EventSourcingModule.forRoot({ createTables: false }),
        OrdersModule,
        // They react to orders, so they import OrdersModule (orders/ never imports them).
        PaymentsModule,
        OrderWebhooksModule,
      ],
      controllers: [InfoController, AuthController],
    };
  }
}
