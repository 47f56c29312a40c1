import { cfg, defineConfig, type ConfigOf } from '@infrastructure/configuration';
import type { MonitoringOptions } from './monitoring.options.js';

/** Environment variables of the monitoring lib (register with `ConfigurationModule`). */
export const monitoringConfig = defineConfig('monitoring', {
  logLevel: {
    env: 'LOG_LEVEL',
    ...cfg.oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, 'info'),
    description: 'Minimum log level.',
  },
  logPretty: {
    env: 'LOG_PRETTY',
    ...cfg.oneOf(['auto', 'true', 'false'] as const, 'auto'),
    description: 'Human-readable logs; `auto` = when NODE_ENV=development or on a TTY.',
  },
  metricsPort: {
    env: 'METRICS_PORT',
    ...cfg.port(),
    description: 'Serve `/metrics` on this port instead of the app port.',
  },
  metricsBearerToken: {
    env: 'METRICS_BEARER_TOKEN',
    ...cfg.secret({ minLength: 16 }),
    description: 'Require `Authorization: Bearer <token>` on `/metrics`.',
  },
  metricsPublic: {
    env: 'METRICS_PUBLIC',
    ...cfg.bool(),
    description:
      'Serve `/metrics` on the app port without credentials; default: yes, except when NODE_ENV=production (then set METRICS_PORT, METRICS_BEARER_TOKEN or this).',
  },
  healthTimeoutMs: {
    env: 'HEALTH_TIMEOUT_MS',
    ...cfg.int({ min: 10, max: 60_000, default: 1000 }),
    description: 'Timeout of each readiness check.',
  },
  shutdownReadinessDelayMs: {
    env: 'SHUTDOWN_READINESS_DELAY_MS',
    ...cfg.int({ min: 0, max: 120_000 }),
    description: 'Wait after readiness turns 503 on SIGTERM (default 5000 in production, else 0).',
  },
  shutdownTimeoutMs: {
    env: 'SHUTDOWN_TIMEOUT_MS',
    ...cfg.int({ min: 100, max: 600_000, default: 25_000 }),
    description: 'Budget for draining before a forced exit 1.',
  },
});

/** Maps `monitoringConfig` (plus service name and environment) to `MonitoringModule` options. */
export function monitoringOptionsFrom(
  config: ConfigOf<typeof monitoringConfig>,
  base: { serviceName?: string; environment?: string } = {},
): MonitoringOptions {
  return {
    ...base,
    logging: {
      level: config.logLevel,
      pretty: config.logPretty === 'auto' ? 'auto' : config.logPretty === 'true',
    },
    metrics: {
      ...(config.metricsPort !== undefined ? { port: config.metricsPort } : {}),
      ...(config.metricsBearerToken ? { auth: { bearerToken: config.metricsBearerToken } } : {}),
      ...(config.metricsPublic !== undefined ? { public: config.metricsPublic } : {}),
    },
    health: { timeoutMs: config.healthTimeoutMs },
    shutdown: {
      timeoutMs: config.shutdownTimeoutMs,
      ...(config.shutdownReadinessDelayMs !== undefined
        ? { readinessDelayMs: config.shutdownReadinessDelayMs }
        : {}),
    },
  };
}
