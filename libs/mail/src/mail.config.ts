import { cfg, defineConfig, type ConfigOf } from '@infrastructure/configuration';
import { MailConfigError } from './errors.js';
import type { MailOptions } from './mail.options.js';

/** Environment variables of the mail adapter, namespace `mail` (register with `ConfigurationModule`). */
export const mailConfig = defineConfig('mail', {
  transport: {
    env: 'MAIL_TRANSPORT',
    ...cfg.oneOf(['smtp', 'log', 'memory'] as const),
    description:
      'smtp, log or memory. Unset: smtp with SMTP_URL; without it log (development), memory (test), a boot error (production).',
  },
  url: {
    env: 'SMTP_URL',
    ...cfg.url({ schemes: ['smtp', 'smtps'] }),
    description:
      'SMTP server: smtp://user:pass@host:587 (STARTTLS when offered) or smtps://user:pass@host:465 (TLS).',
  },
  password: {
    env: 'SMTP_PASSWORD',
    ...cfg.secret(),
    description:
      "SMTP password; wins over SMTP_URL's (keeps it out of the URL; SMTP_PASSWORD_FILE works).",
  },
  from: {
    env: 'MAIL_FROM',
    ...cfg.string(),
    description: 'Sender of mails without one: "Shop" <no-reply@shop.example>.',
  },
  requireTls: {
    env: 'SMTP_REQUIRE_TLS',
    ...cfg.bool(false),
    description: 'Refuse to send over an unencrypted connection (STARTTLS must succeed).',
  },
  maxConnections: {
    env: 'SMTP_MAX_CONNECTIONS',
    ...cfg.int({ min: 1, max: 1000, default: 5 }),
    description: 'Pooled SMTP connections at most.',
  },
  timeoutMs: {
    env: 'SMTP_TIMEOUT_MS',
    ...cfg.int({ min: 1, max: 600_000, default: 60_000 }),
    description: 'Bound of one send (attempts and backoffs), in milliseconds.',
  },
  retries: {
    env: 'SMTP_RETRIES',
    ...cfg.int({ min: 0, max: 20, default: 2 }),
    description: 'Retries of transient failures (no connection, 4xx); 5xx rejections never.',
  },
  healthCritical: {
    env: 'MAIL_HEALTH_CRITICAL',
    ...cfg.bool(false),
    description: 'SMTP unreachable makes readiness 503 (true) or degraded with 200 (false).',
  },
});

/**
 * Maps {@link mailConfig} values to `MailModule` options. Without `MAIL_TRANSPORT`: `smtp` when
 * `SMTP_URL` is set, else `memory` in test, `log` in development, and in production a
 * `MailConfigError` naming `SMTP_URL` (mail must not vanish silently).
 */
export function mailOptionsFrom(
  config: ConfigOf<typeof mailConfig>,
  base: { environment?: string } = {},
  extra: Partial<MailOptions> = {},
): MailOptions {
  const transport = config.transport ?? (config.url ? 'smtp' : devTransport(base.environment));
  const options: MailOptions = {
    ...extra,
    transport,
    from: extra.from ?? config.from,
  };
  if (transport !== 'smtp') return options;
  if (!config.url) {
    throw new MailConfigError('mailConfig: SMTP_URL is required when MAIL_TRANSPORT=smtp');
  }
  const url = new URL(config.url);
  if (config.password !== undefined && !url.username) {
    throw new MailConfigError(
      'mailConfig: SMTP_PASSWORD is set but SMTP_URL has no user (smtp://user@host:587)',
    );
  }
  return {
    ...options,
    url: config.url,
    ...(config.password !== undefined
      ? { auth: { user: decodeURIComponent(url.username), pass: config.password } }
      : {}),
    requireTls: extra.requireTls ?? config.requireTls,
    maxConnections: extra.maxConnections ?? config.maxConnections,
    timeoutMs: extra.timeoutMs ?? config.timeoutMs,
    retry: extra.retry ?? { maxAttempts: config.retries },
    healthCritical: extra.healthCritical ?? config.healthCritical,
  };
}

function devTransport(environment: string | undefined): 'log' | 'memory' {
  if (environment === 'production') {
    throw new MailConfigError(
      'mailConfig: SMTP_URL is required in production (or set MAIL_TRANSPORT=log to only log mails)',
    );
  }
  return environment === 'test' ? 'memory' : 'log';
}
