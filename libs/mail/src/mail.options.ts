import { z } from 'zod';
import { maskUrl, validateModuleOptions } from '@infrastructure/core';
import { MailConfigError } from './errors.js';
import {
  resilienceSchemaShape,
  resolveResilienceOptions,
  withResilienceDefaults,
  type ResilienceOptions,
  type ResolvedResilienceOptions,
} from '@infrastructure/http-client';

/** Which adapter backs `MailSender`. */
export type MailTransportKind = 'smtp' | 'memory' | 'log';

/** SMTP credentials. */
export interface SmtpAuth {
  user: string;
  pass: string;
}

/**
 * Options of `MailModule.forRoot` / the factory of `forRootAsync`. Durations are milliseconds.
 * The resilience stages (`timeoutMs`, `attemptTimeoutMs`, `retry`, `circuitBreaker`, `bulkhead`)
 * are those of `ResilienceOptions`, with mail defaults.
 */
export interface MailOptions extends Omit<ResilienceOptions, 'name'> {
  /**
   * `smtp` (pooled SMTP, nodemailer), `memory` (keeps messages, for tests) or `log` (logs them,
   * for development). Without it, `smtp` when `url` or `host` is set; neither is a boot error.
   * @default 'smtp' when url or host is set
   */
  transport?: MailTransportKind;
  /**
   * `smtp://user:pass@host:587` (STARTTLS when offered) or `smtps://user:pass@host:465` (TLS from
   * the start). User and password are percent-decoded. Or give `host`/`port`/`secure`/`auth`.
   * @default unset
   */
  url?: string;
  /** SMTP host (instead of `url`). @default unset */
  host?: string;
  /** SMTP port. @default 465 when secure, else 587 */
  port?: number;
  /** TLS from the start (port 465); else STARTTLS when the server offers it. @default false (true for smtps://) */
  secure?: boolean;
  /** Credentials; win over the ones in `url`. @default the url's, else none */
  auth?: SmtpAuth;
  /** Refuse to send unless the connection is encrypted (STARTTLS must succeed). @default false */
  requireTls?: boolean;
  /** Sender of messages without `from`: `"Shop" <no-reply@shop.example>`. @default unset */
  from?: string;
  /** Pooled connections at most. @default 5 */
  maxConnections?: number;
  /** Messages per connection before it is replaced. @default 100 */
  maxMessages?: number;
  /** TCP connect timeout. @default 5000 */
  connectionTimeoutMs?: number;
  /** Wait for the server greeting after connecting. @default 5000 */
  greetingTimeoutMs?: number;
  /** Inactivity on an open connection before it is dropped. @default 30000 */
  socketTimeoutMs?: number;
  /** Failing `mail` health check makes readiness 503 (true) or `degraded`, 200 (false). @default false */
  healthCritical?: boolean;
  /** Bound of the health check's SMTP `verify()` (connect, greet, authenticate). @default 3000 */
  healthTimeoutMs?: number;
  /** The health check reuses a verify result this long (probes must not hammer the server). @default 30000 */
  healthCacheMs?: number;
  /** `log` transport: log bodies too (at debug; they may hold reset links and tokens). @default false */
  logBodies?: boolean;
}

/** The SMTP part of {@link ResolvedMailOptions}. `auth` is not enumerable (never logged or serialised). */
export interface ResolvedSmtpOptions {
  host: string;
  port: number;
  secure: boolean;
  /** Not enumerable. */
  readonly auth?: SmtpAuth;
  /** `smtp://user:***@host:port`: the server as errors, logs and health show it. */
  server: string;
  requireTls: boolean;
  maxConnections: number;
  maxMessages: number;
  connectionTimeoutMs: number;
  greetingTimeoutMs: number;
  socketTimeoutMs: number;
  healthCritical: boolean;
  healthTimeoutMs: number;
  healthCacheMs: number;
  resilience: ResolvedResilienceOptions;
}

/** Options with every default applied. */
export interface ResolvedMailOptions {
  transport: MailTransportKind;
  from?: string;
  /** Set when `transport` is `smtp`. */
  smtp?: ResolvedSmtpOptions;
  logBodies: boolean;
}

/** Name of the mail resilience policy (errors, logs, `circuit_breaker_state{client="mail"}`). */
export const MAIL_POLICY_NAME = 'mail';

const positive = z.number().int().min(1).max(2_147_483_647);
const smtpUrl = z.string().refine(
  (v) => {
    if (!URL.canParse(v)) return false;
    const u = new URL(v);
    return (
      /^smtps?:$/.test(u.protocol) &&
      u.hostname !== '' &&
      u.pathname.replace('/', '') === '' &&
      u.search === ''
    );
  },
  {
    error: (issue) =>
      `must be an smtp:// or smtps:// URL without path or query (smtp://user:pass@host:587), got "${maskUrl(String(issue.input))}"`,
  },
);
const address = z
  .string()
  .regex(/^[^\r\n]*@[^\r\n]*$/, 'must be an address such as "Shop" <no-reply@shop.example>');

const schema = z
  .object({
    transport: z.enum(['smtp', 'memory', 'log']).optional(),
    url: smtpUrl.optional(),
    host: z
      .string()
      .min(1)
      .regex(/^[^\s/:@]+$/, 'must be a host name or IP (no scheme, port or credentials)')
      .optional(),
    port: z.number().int().min(1).max(65_535).optional(),
    secure: z.boolean().optional(),
    auth: z
      .object({ user: z.string().min(1), pass: z.string().min(1, 'must not be empty') })
      .strict()
      .optional(),
    requireTls: z.boolean().optional(),
    from: address.optional(),
    maxConnections: z.number().int().min(1).max(1000).optional(),
    maxMessages: z.number().int().min(1).max(1_000_000).optional(),
    connectionTimeoutMs: positive.optional(),
    greetingTimeoutMs: positive.optional(),
    socketTimeoutMs: positive.optional(),
    healthCritical: z.boolean().optional(),
    healthTimeoutMs: positive.optional(),
    healthCacheMs: z.number().int().min(0).max(2_147_483_647).optional(),
    logBodies: z.boolean().optional(),
    ...resilienceSchemaShape,
  })
  .strict()
  .superRefine((o, ctx) => {
    if (o.url !== undefined && o.host !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['host'], message: 'give url or host, not both' });
    }
    if ((o.transport ?? 'smtp') === 'smtp' && o.url === undefined && o.host === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['url'],
        message:
          o.transport === 'smtp'
            ? 'is required for transport "smtp" (set SMTP_URL, or host)'
            : 'no SMTP server configured: set url (SMTP_URL) or host, or transport "memory" / "log"',
      });
    }
  });

/** Mail defaults of the resilience stages (SMTP is slower than HTTP, and mail is background work). */
function resilienceOf(o: MailOptions): ResolvedResilienceOptions {
  return resolveResilienceOptions(
    withResilienceDefaults(
      {
        timeoutMs: o.timeoutMs,
        attemptTimeoutMs: o.attemptTimeoutMs,
        retry: o.retry,
        circuitBreaker: o.circuitBreaker,
        bulkhead: o.bulkhead,
      },
      {
        name: MAIL_POLICY_NAME,
        timeoutMs: 60_000,
        attemptTimeoutMs: 20_000,
        retry: { maxAttempts: 2, initialDelayMs: 500, maxDelayMs: 5000 },
        circuitBreaker: { consecutiveFailures: 5, halfOpenAfterMs: 30_000 },
        bulkhead: { maxConcurrent: 10, maxQueue: 1000 },
      },
    ),
  );
}

function decoded(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/** Validates options, naming the bad key (`MailModule: options.url: …`), and applies defaults. */
export function resolveMailOptions(options: MailOptions = {}): ResolvedMailOptions {
  validateModuleOptions('MailModule', schema, options, MailConfigError);
  const transport = options.transport ?? 'smtp';
  const resolved: ResolvedMailOptions = {
    transport,
    from: options.from,
    logBodies: options.logBodies ?? false,
  };
  if (transport === 'smtp') resolved.smtp = resolveSmtp(options);
  return resolved;
}

function resolveSmtp(o: MailOptions): ResolvedSmtpOptions {
  const url = o.url !== undefined ? new URL(o.url) : undefined;
  const secure = o.secure ?? url?.protocol === 'smtps:';
  const host = o.host ?? url!.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = o.port ?? (url?.port ? Number(url.port) : secure ? 465 : 587);
  const auth =
    o.auth ??
    (url?.username ? { user: decoded(url.username), pass: decoded(url.password) } : undefined);
  const shown = new URL(`${secure ? 'smtps' : 'smtp'}://placeholder:${port}`);
  shown.hostname = url?.hostname ?? host;
  if (auth) {
    shown.username = auth.user;
    if (auth.pass) shown.password = '***';
  }
  const smtp: Omit<ResolvedSmtpOptions, 'auth'> = {
    host,
    port,
    secure,
    server: shown.toString().replace(/\/$/, ''),
    requireTls: o.requireTls ?? false,
    maxConnections: o.maxConnections ?? 5,
    maxMessages: o.maxMessages ?? 100,
    connectionTimeoutMs: o.connectionTimeoutMs ?? 5000,
    greetingTimeoutMs: o.greetingTimeoutMs ?? 5000,
    socketTimeoutMs: o.socketTimeoutMs ?? 30_000,
    healthCritical: o.healthCritical ?? false,
    healthTimeoutMs: o.healthTimeoutMs ?? 3000,
    healthCacheMs: o.healthCacheMs ?? 30_000,
    resilience: resilienceOf(o),
  };
  // Not enumerable: logging or serialising the options never shows the password.
  return Object.defineProperty(smtp, 'auth', { value: auth, enumerable: false });
}
