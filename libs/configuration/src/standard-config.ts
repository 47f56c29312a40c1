import { cfg, defineConfig } from './config-definition.js';
import { ENCRYPTION_KEY_ENV } from './load-configuration.js';

/** Process-wide settings every service has. */
export const appConfig = defineConfig('app', {
  nodeEnv: {
    env: 'NODE_ENV',
    ...cfg.oneOf(['development', 'production', 'test'] as const, 'development'),
    description: 'Selects `.env.<NODE_ENV>` and production defaults.',
  },
  serviceName: {
    env: 'SERVICE_NAME',
    ...cfg.string({ default: 'sample-api' }),
    description: 'Name in logs, metrics and traces (`OTEL_SERVICE_NAME` wins for traces).',
  },
  encryptionKey: {
    env: ENCRYPTION_KEY_ENV,
    ...cfg.secret(),
    description: 'AES-256 key (base64 or hex) that decrypts `enc:v1:` values.',
  },
});

/** The HTTP server. */
export const httpConfig = defineConfig('http', {
  port: { env: 'PORT', ...cfg.port(3000), description: 'HTTP port.' },
  host: { env: 'HOST', ...cfg.string({ default: '0.0.0.0' }), description: 'Interface to bind.' },
  adapter: {
    env: 'HTTP_ADAPTER',
    ...cfg.oneOf(['express', 'fastify'] as const, 'express'),
    description: 'Nest HTTP adapter.',
  },
});
