import { cfg, defineConfig, type ConfigOf } from '@infrastructure/configuration';
import type { HttpClientOptions } from './http-client.options.js';

/**
 * Environment variables of one HTTP client, `<PREFIX>_URL`, `<PREFIX>_TIMEOUT_MS`,
 * `<PREFIX>_ATTEMPT_TIMEOUT_MS`, `<PREFIX>_RETRIES`, `<PREFIX>_HEALTH_CRITICAL`, under the config
 * namespace `<name>Client` (register it with `ConfigurationModule`).
 * @example export const paymentsConfig = httpClientConfig('payments', 'PAYMENTS');
 */
export function httpClientConfig<const N extends string>(name: N, envPrefix: string) {
  const p = envPrefix.replace(/_+$/, '');
  return defineConfig(`${name}Client` as `${N}Client`, {
    url: {
      env: `${p}_URL`,
      ...cfg.url({ schemes: ['http', 'https'] }),
      description: `Base URL of the ${name} HTTP client (e.g. https://${name}.internal/api). Unset: the app decides (often a fake or disabled).`,
    },
    timeoutMs: {
      env: `${p}_TIMEOUT_MS`,
      ...cfg.int({ min: 1, max: 600_000, default: 10_000 }),
      description: `Bound of a whole ${name} call (queueing, attempts and backoffs), in milliseconds.`,
    },
    attemptTimeoutMs: {
      env: `${p}_ATTEMPT_TIMEOUT_MS`,
      ...cfg.int({ min: 1, max: 600_000, default: 3000 }),
      description: `Bound of one ${name} attempt, in milliseconds (the request is aborted then).`,
    },
    retries: {
      env: `${p}_RETRIES`,
      ...cfg.int({ min: 0, max: 20, default: 2 }),
      description: `Retries of idempotent ${name} calls (or calls with an Idempotency-Key); 0 = none.`,
    },
    healthCritical: {
      env: `${p}_HEALTH_CRITICAL`,
      ...cfg.bool(false),
      description: `${name} unreachable makes readiness 503 (true) or degraded with 200 (false).`,
    },
  });
}

/** Maps {@link httpClientConfig} values to client options; `undefined` when the URL is unset. */
export function httpClientOptionsFrom(
  config: ConfigOf<ReturnType<typeof httpClientConfig>>,
  extra: Partial<HttpClientOptions> = {},
): HttpClientOptions | undefined {
  if (!config.url) return undefined;
  return {
    timeoutMs: config.timeoutMs,
    attemptTimeoutMs: config.attemptTimeoutMs,
    healthCritical: config.healthCritical,
    ...extra,
    retry: extra.retry ?? { maxAttempts: config.retries },
    baseUrl: config.url,
  };
}
