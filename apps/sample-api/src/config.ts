import { appConfig, cfg, defineConfig, httpConfig } from '@infrastructure/configuration';
import { monitoringConfig } from '@infrastructure/monitoring';
import { databaseConfig } from '@infrastructure/persistence';
import { cachingConfig } from '@infrastructure/caching';
import { messagingConfig } from '@infrastructure/messaging';

// Namespaces owned by libs that are still to come live here until their lib exports them.

/** Tokens issued and verified by the API (security lib). */
export const jwtConfig = defineConfig('jwt', {
  secret: {
    env: 'JWT_SECRET',
    ...cfg.secret({ minLength: 32 }),
    description: 'HS256 signing key (≥ 32 chars); unset = an ephemeral key per process.',
  },
  issuer: {
    env: 'JWT_ISSUER',
    ...cfg.string({ default: 'sample-api' }),
    description: '`iss` of issued tokens.',
  },
  audience: {
    env: 'JWT_AUDIENCE',
    ...cfg.string({ default: 'sample-api' }),
    description: 'Expected `aud`.',
  },
  ttlSeconds: {
    env: 'JWT_TTL_SECONDS',
    ...cfg.int({ min: 30, max: 86_400, default: 900 }),
    description: 'Lifetime of access tokens.',
  },
});

/** An external identity provider (security lib). */
export const oidcConfig = defineConfig('oidc', {
  issuerUrl: {
    env: 'OIDC_ISSUER_URL',
    ...cfg.url({ schemes: ['https', 'http'] }),
    description: 'Switches token verification to this OpenID provider.',
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
  otelConfig,
] as const;
