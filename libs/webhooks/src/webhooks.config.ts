import { cfg, defineConfig, type ConfigOf } from '@infrastructure/configuration';
import type { WebhooksOptions } from './webhooks.options.js';

/**
 * Environment of `WebhooksModule` under the config namespace `webhooks` (register it with
 * `ConfigurationModule`): `WEBHOOK_SECRET` (secret; several separated by spaces or commas during a
 * rotation), `WEBHOOK_TOLERANCE_SECONDS`, `WEBHOOK_REPLAY_REDIS_URL`, `WEBHOOK_REPLAY_REDIS_TLS_CA_FILE`,
 * `WEBHOOK_ATTEMPT_TIMEOUT_MS`,
 * `WEBHOOK_MAX_ATTEMPTS`, `WEBHOOK_URL_ENCRYPTION_KEY` (secret).
 */
export const webhooksConfig = defineConfig('webhooks', {
  secret: {
    env: 'WEBHOOK_SECRET',
    ...cfg.secret(),
    description:
      'Default webhook secret(s), whsec_<base64> (24-64 bytes); several separated by spaces during a rotation (sign with all, accept any).',
  },
  secretFile: {
    env: 'WEBHOOK_SECRET_FILE',
    ...cfg.string(),
    description:
      "File holding WEBHOOK_SECRET (read at boot like any `_FILE`), watched when wired as `rotation: { secrets, secret: 'WEBHOOK_SECRET' }` with a SecretsProvider that reads it (the sample does): a rotated file signs first, the replaced secret signs and verifies for 24 h.",
  },
  toleranceSeconds: {
    env: 'WEBHOOK_TOLERANCE_SECONDS',
    ...cfg.int({ min: 1, max: 86_400, default: 300 }),
    description: 'Accepted clock difference of incoming webhooks, both directions, in seconds.',
  },
  replayRedisUrl: {
    env: 'WEBHOOK_REPLAY_REDIS_URL',
    ...cfg.url({ schemes: ['redis', 'rediss'] }),
    description:
      'Redis for the replay store of incoming webhooks (shared by every instance). Unset: in memory (one instance).',
  },
  replayRedisTlsCaFile: {
    env: 'WEBHOOK_REPLAY_REDIS_TLS_CA_FILE',
    ...cfg.string(),
    description:
      'PEM CA file trusted for a `rediss://` WEBHOOK_REPLAY_REDIS_URL (instead of the default CAs); set with `redis://` it fails the boot.',
  },
  attemptTimeoutMs: {
    env: 'WEBHOOK_ATTEMPT_TIMEOUT_MS',
    ...cfg.int({ min: 1, max: 600_000, default: 10_000 }),
    description: 'Bound of one outgoing webhook attempt, in milliseconds.',
  },
  maxAttempts: {
    env: 'WEBHOOK_MAX_ATTEMPTS',
    ...cfg.int({ min: 1, max: 100, default: 10 }),
    description: 'Delivery attempts of an outgoing webhook (first included) before dead-lettering.',
  },
  urlEncryptionKey: {
    env: 'WEBHOOK_URL_ENCRYPTION_KEY',
    ...cfg.secret(),
    description:
      'Key(s) sealing subscription URLs in the outbox, broker and dead letters: 32 bytes as base64 or hex, several separated by spaces or commas during a rotation (first seals, any opens). Unset: derived from WEBHOOK_SECRET.',
  },
});

/** Maps {@link webhooksConfig} values to module options; `extra` adds endpoints, receivers... */
export function webhooksOptionsFrom(
  config: ConfigOf<typeof webhooksConfig>,
  extra: WebhooksOptions = {},
): WebhooksOptions {
  const secrets = (config.secret ?? '').split(/[\s,]+/).filter(Boolean);
  const urlKeys = (config.urlEncryptionKey ?? '').split(/[\s,]+/).filter(Boolean);
  return {
    ...(secrets.length > 0 ? { secret: secrets.length === 1 ? secrets[0] : secrets } : {}),
    ...(urlKeys.length > 0
      ? { urlEncryptionKey: urlKeys.length === 1 ? urlKeys[0] : urlKeys }
      : {}),
    toleranceSeconds: config.toleranceSeconds,
    ...(config.replayRedisUrl
      ? {
          replay: {
            store: 'redis',
            url: config.replayRedisUrl,
            ...(config.replayRedisTlsCaFile
              ? { tls: { caFile: config.replayRedisTlsCaFile } }
              : {}),
          },
        }
      : {}),
    ...extra,
    delivery: {
      attemptTimeoutMs: config.attemptTimeoutMs,
      ...extra.delivery,
      retry: { attempts: config.maxAttempts, ...extra.delivery?.retry },
    },
  };
}
