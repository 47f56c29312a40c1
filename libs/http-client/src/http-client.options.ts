import { z } from 'zod';
import { maskUrl, validateModuleOptions } from '@infrastructure/core';
import { HttpClientConfigError } from './errors.js';
import type { HttpClientAuth, HttpFallback } from './http/http-client.types.js';
import {
  resilienceSchemaShape,
  resolveResilienceOptions,
  type ResilienceOptions,
  type ResolvedResilienceOptions,
} from './resilience/resilience.options.js';

/**
 * One outbound HTTP client. Durations are milliseconds. The resilience stages (`timeoutMs`,
 * `attemptTimeoutMs`, `retry`, `circuitBreaker`, `bulkhead`) are those of `ResilienceOptions`.
 */
export interface HttpClientOptions extends Omit<ResilienceOptions, 'name'> {
  /** Origin and optional path prefix of every call: `https://payments.internal/api/v1`. Required. */
  baseUrl: string;
  /** Headers sent on every call. @default {} */
  headers?: Record<string, string>;
  /** Bearer token per call (client credentials) or the caller's bearer forwarded. @default none */
  auth?: HttpClientAuth;
  /** Send `traceparent`, `tracestate` and `x-correlation-id` of the current request. @default true */
  propagateContext?: boolean;
  /** Keep-alive connections at most per origin. @default 10 */
  connections?: number;
  /** Idle keep-alive sockets close after this. @default 4000 */
  keepAliveTimeoutMs?: number;
  /** TCP/TLS connect timeout. @default 2000 */
  connectTimeoutMs?: number;
  /** Larger answers fail (`HttpClientResponseValidationError`) and their socket is dropped. @default 10485760 (10 MiB) */
  maxResponseBytes?: number;
  /** URL (absolute, or relative to `baseUrl`) pinged by the health check; unset = breaker state only. @default unset */
  healthUrl?: string;
  /** Failing health check makes readiness 503 (true) or shows `degraded` with 200 (false). @default false */
  healthCritical?: boolean;
  /** Health ping timeout. @default 1000 */
  healthTimeoutMs?: number;
  /** Answer to return when a call fails for good (breaker open, timeouts...). @default none */
  fallback?: HttpFallback;
  /**
   * URLs in errors and logs show the origin only (`https://hooks.example.com/…`): for upstreams
   * whose path carries a credential (Slack-style webhook URLs). @default false (path shown, secret
   * query parameters masked)
   */
  redactPaths?: boolean;
  /**
   * Refuse to connect to private, loopback, link-local (cloud metadata) and reserved addresses,
   * checked on the resolved address actually connected to: for URLs that users supply (webhook
   * subscriptions, callbacks, image fetchers). Refused calls fail with `HttpClientNetworkError`
   * code `EPRIVATE`, not retried. @default false
   */
  blockPrivateNetworks?: boolean;
}

/** Options of `HttpClientModule.forRoot` / the factory of `forRootAsync`. */
export interface HttpClientModuleOptions {
  /** Named HTTP clients: `{ payments: { baseUrl: 'https://…' } }`. Names: 1-50 chars of `[a-zA-Z0-9_-]`. @default {} */
  clients?: Record<string, HttpClientOptions>;
}

/** Extras known before the options factory runs. */
export interface HttpClientModuleExtras {
  /** Register globally. @default true */
  isGlobal?: boolean;
  /**
   * `forRootAsync` only: names the factory will configure, so `@InjectHttpClient(name)` providers
   * exist (`forRoot` takes them from `clients`). `HttpClients.get(name)` works either way. @default []
   */
  clientNames?: string[];
}

/** One client with every default applied. */
export interface ResolvedHttpClientOptions {
  name: string;
  baseUrl: URL;
  headers: Record<string, string>;
  auth?: HttpClientAuth;
  propagateContext: boolean;
  connections: number;
  keepAliveTimeoutMs: number;
  connectTimeoutMs: number;
  maxResponseBytes: number;
  healthUrl?: URL;
  healthCritical: boolean;
  healthTimeoutMs: number;
  fallback?: HttpFallback;
  redactPaths: boolean;
  blockPrivateNetworks: boolean;
  resilience: ResolvedResilienceOptions;
}

/** Options with every default applied. */
export interface ResolvedHttpClientModuleOptions {
  clients: Record<string, ResolvedHttpClientOptions>;
}

export const CLIENT_NAME = /^[a-zA-Z0-9_-]{1,50}$/;
const positive = z.number().int().min(1).max(2_147_483_647);
const httpUrl = (what: string) =>
  z.string().refine((v) => URL.canParse(v) && /^https?:$/.test(new URL(v).protocol), {
    error: (issue) => `must be an http(s) URL (${what}), got "${maskUrl(String(issue.input))}"`,
  });

const clientSchema = z
  .object({
    baseUrl: httpUrl('e.g. https://payments.internal/api'),
    headers: z.record(z.string(), z.string()).optional(),
    auth: z
      .union([
        z
          .object({
            type: z.literal('bearer'),
            tokenProvider: z.custom<() => Promise<string>>((v) => typeof v === 'function', {
              message: 'must be a function returning the token',
            }),
            onUnauthorized: z
              .custom<() => Promise<void> | void>((v) => typeof v === 'function', {
                message: 'must be a function (e.g. () => clientCredentials.invalidate())',
              })
              .optional(),
          })
          .strict(),
        z
          .object({
            type: z.literal('forward'),
            from: z.custom<() => string | undefined>((v) => typeof v === 'function', {
              message: "must be a function returning the caller's token",
            }),
          })
          .strict(),
      ])
      .optional(),
    propagateContext: z.boolean().optional(),
    redactPaths: z.boolean().optional(),
    blockPrivateNetworks: z.boolean().optional(),
    connections: z.number().int().min(1).max(10_000).optional(),
    keepAliveTimeoutMs: positive.optional(),
    connectTimeoutMs: positive.optional(),
    maxResponseBytes: positive.optional(),
    healthUrl: z
      .string()
      .refine((v) => URL.canParse(v, 'http://base.invalid'), { message: 'must be a URL or a path' })
      .optional(),
    healthCritical: z.boolean().optional(),
    healthTimeoutMs: positive.optional(),
    fallback: z
      .custom<HttpFallback>((v) => typeof v === 'function', { message: 'must be a function' })
      .optional(),
    ...resilienceSchemaShape,
  })
  .strict();

const schema = z
  .object({
    clients: z
      .record(
        z.string().regex(CLIENT_NAME, 'client names are 1-50 characters of [a-zA-Z0-9_-]'),
        clientSchema,
      )
      .optional(),
  })
  .strict();

/** Validates options, naming the bad key (`options.clients.payments.timeoutMs`), and applies defaults. */
export function resolveHttpClientModuleOptions(
  options: HttpClientModuleOptions = {},
): ResolvedHttpClientModuleOptions {
  validateModuleOptions('HttpClientModule', schema, options, HttpClientConfigError);
  const clients: Record<string, ResolvedHttpClientOptions> = {};
  for (const [name, o] of Object.entries(options.clients ?? {})) {
    clients[name] = resolveHttpClientOptions(name, o);
  }
  return { clients };
}

/** One client's defaults (options already validated). */
export function resolveHttpClientOptions(
  name: string,
  o: HttpClientOptions,
): ResolvedHttpClientOptions {
  const baseUrl = new URL(o.baseUrl);
  return {
    name,
    baseUrl,
    headers: { ...o.headers },
    auth: o.auth,
    propagateContext: o.propagateContext ?? true,
    connections: o.connections ?? 10,
    keepAliveTimeoutMs: o.keepAliveTimeoutMs ?? 4000,
    connectTimeoutMs: o.connectTimeoutMs ?? 2000,
    maxResponseBytes: o.maxResponseBytes ?? 10 * 1024 * 1024,
    healthUrl: o.healthUrl ? new URL(o.healthUrl, withSlash(baseUrl)) : undefined,
    healthCritical: o.healthCritical ?? false,
    healthTimeoutMs: o.healthTimeoutMs ?? 1000,
    fallback: o.fallback,
    redactPaths: o.redactPaths ?? false,
    blockPrivateNetworks: o.blockPrivateNetworks ?? false,
    resilience: resolveResilienceOptions({ ...o, name }),
  };
}

function withSlash(u: URL): URL {
  return u.pathname.endsWith('/') ? u : new URL(`${u.pathname}/`, u);
}
