import { inspect } from 'node:util';
import { decodeAes256Key } from '@infrastructure/configuration';
import {
  isSecretSource,
  isSecretReference,
  SECRET_REFERENCE_EXPECTED,
  validateModuleOptions,
  type SecretReference,
  type SecretSource,
} from '@infrastructure/core';
import type { RetryPolicy } from '@infrastructure/messaging';
import { z } from 'zod';
import { resilienceSchemaShape, type CircuitBreakerOptions } from '@infrastructure/http-client';
import { WebhooksConfigError } from './errors.js';
import { WebhookReplayStore } from './webhook-replay.store.js';
import { derivedUrlKey, WebhookUrlSealer } from './webhook-url-sealer.js';
import {
  DEFAULT_TOLERANCE_SECONDS,
  webhookSecretKey,
  webhookSecretProblem,
} from './webhook-signature.js';

/** One `whsec_<base64>` secret, or several during a rotation (sign with all, accept any). */
export type WebhookSecret = string | readonly string[];

/** A named outbound endpoint: `send('billing', …)`. */
export interface WebhookEndpointConfig {
  /** `http(s)://…` URL the webhooks are POSTed to. Required. */
  url: string;
  /** Signing secret(s) of this endpoint. @default the module's `secret` */
  secret?: WebhookSecret;
  /** Extra headers sent with every webhook to it, read at delivery time (never stored with the event). @default {} */
  headers?: Record<string, string>;
}

/**
 * A subscriber stored by your app (`send(subscription, …)`). It carries no secret on purpose:
 * what `send` gets is written to the outbox; the secret is resolved at delivery time by the
 * module's `subscriptionSecret(subscription)`.
 */
export interface WebhookSubscription {
  /** Your id of the subscription, handed to `subscriptionSecret`. */
  id: string;
  /** `http(s)://…` URL the webhooks are POSTed to. */
  url: string;
  /** Extra headers; stored with the event in the outbox, so no credentials. @default {} */
  headers?: Record<string, string>;
}

/** Delivery of outgoing webhooks (the `WebhookDispatcher` consumer). Durations are milliseconds. */
export interface WebhookDeliveryOptions {
  /** Consumer group of the dispatcher. @default 'webhooks' */
  group?: string;
  /**
   * Deliveries in total (first included) and backoff between them, by the messaging pipeline;
   * after the last, the webhook is dead-lettered (replayable).
   * @default { attempts: 10, initialDelayMs: 5000, maxDelayMs: 1800000 } (≈ 40 min of retries at most)
   */
  retry?: RetryPolicy;
  /** Webhooks delivered at once. @default the messaging module's `prefetch` */
  concurrency?: number;
  /** Bound of one HTTP attempt (the request is aborted, the attempt retried later). @default 10000 */
  attemptTimeoutMs?: number;
  /**
   * Circuit breaker per target origin: after consecutive failures the origin is not called until
   * a probe succeeds (its webhooks wait in the retry schedule). `false` turns it off.
   * @default { consecutiveFailures: 5, halfOpenAfterMs: 30000 }
   */
  circuitBreaker?: CircuitBreakerOptions | false;
  /** Keep-alive connections at most per target origin. @default 10 */
  connections?: number;
  /** Target origins with a pooled client at once; the least recently used is closed beyond. @default 500 */
  maxTargets?: number;
  /** Larger bodies are refused by `send`. @default 262144 (256 KiB) */
  maxBodyBytes?: number;
  /** `user-agent` header. @default 'nestjs-infrastructure-webhooks/1' */
  userAgent?: string;
  /** Send `traceparent`/`x-correlation-id` to receivers (they are often third parties). @default false */
  propagateContext?: boolean;
  /**
   * Let webhooks to **subscriptions** (URLs your users register) reach private, loopback,
   * link-local (cloud metadata) and reserved addresses. Off, such a webhook is dead-lettered at
   * once without a connection (checked on the resolved address: SSRF, DNS rebinding). Configured
   * `endpoints` are yours and always allowed. @default false
   */
  allowPrivateNetworks?: boolean;
}

/** A named receiver: `@WebhookEndpoint({ receiver: 'payments' })`. */
export interface WebhookReceiverConfig {
  /** Accepted secret(s). Required. */
  secret: WebhookSecret;
  /** @default the module's `toleranceSeconds` */
  toleranceSeconds?: number;
}

/** Replay protection of the receiver guard. */
export interface WebhookReplayOptions {
  /** `'memory'` (one process), `'redis'` (shared, needs `url`) or your own store. @default 'memory' */
  store?: 'memory' | 'redis' | WebhookReplayStore;
  /** Redis URL when `store` is `'redis'`. */
  url?: string;
  /**
   * With `store: 'redis'`: the password from a rotating secret instead of the URL's
   * (`{ secrets, name: 'REDIS_PASSWORD' }`, the security lib's `SecretsProvider`); every
   * reconnection authenticates with the value of the moment. A secret the provider does not have
   * fails the boot. @default the URL's password
   */
  password?: SecretReference;
  /** Prefix of the Redis keys (`<prefix><receiver>:<webhook id>`). @default 'webhooks:replay:' */
  keyPrefix?: string;
  /** How long an id is remembered; at least twice the tolerance, or a replay may slip through after it. @default 2 × toleranceSeconds */
  ttlSeconds?: number;
  /** Redis connect and command timeout (ms). @default 1000 */
  timeoutMs?: number;
  /**
   * TLS of a `rediss://` `url`: the CA that signed the server's certificate (`ca`: PEM, or
   * `caFile`: its path, `WEBHOOK_REPLAY_REDIS_TLS_CA_FILE`), trusted instead of Node's default
   * CAs. Set with a `redis://` URL it fails the boot; a certificate that does not verify fails it
   * too. @default none (Node's default CAs)
   */
  tls?: { ca?: string | Buffer; caFile?: string };
}

/**
 * Secrets that rotate without a restart: each named secret is read from `secrets` at boot (it
 * replaces the configured value) and on every change. After a change the new secret(s) sign first
 * and verify, and the replaced ones still sign (a second signature) and verify for
 * `overlapSeconds`, so webhooks in flight or retried, and receivers not yet updated, keep working.
 */
export interface WebhookSecretRotation {
  /** Where the secrets come from: the security lib's `SecretsProvider` (or any `SecretSource`). */
  secrets: SecretSource;
  /** How long replaced secrets stay accepted, and sign too, after a rotation. @default 86400 (24 h) */
  overlapSeconds?: number;
  /** Name of the module's default secret (`options.secret`) in `secrets`. @default none */
  secret?: string;
  /** Endpoint name → name of its secret in `secrets`. @default {} */
  endpoints?: Record<string, string>;
  /** Receiver name → name of its secret in `secrets`. @default {} */
  receivers?: Record<string, string>;
}

/** Options of `WebhooksModule.forRoot` / the factory of `forRootAsync`. */
export interface WebhooksOptions {
  /**
   * Default secret(s) (`WEBHOOK_SECRET`): signs webhooks to endpoints without their own, and
   * verifies `@WebhookEndpoint()` without a `receiver`. Several: sign with each, accept any.
   * @default none
   */
  secret?: WebhookSecret;
  /** Named outbound endpoints. @default {} */
  endpoints?: Record<string, WebhookEndpointConfig>;
  /**
   * Key(s) sealing the URLs of subscriptions in the outbox, the broker and the dead letters
   * (`WEBHOOK_URL_ENCRYPTION_KEY`): 32 bytes as base64 or hex, AES-256-GCM. Several during a
   * rotation: the first seals, any opens. Configured endpoints are stored by name, never by URL.
   * @default derived from the module's `secret` (HKDF); with neither, `send(subscription, …)` throws
   */
  urlEncryptionKey?: string | readonly string[];
  /** Signing secret(s) of a subscription, looked up at each delivery. @default the module's `secret` */
  subscriptionSecret?: (
    subscription: WebhookSubscription,
  ) => WebhookSecret | Promise<WebhookSecret>;
  /** Outbound delivery. */
  delivery?: WebhookDeliveryOptions;
  /** Accepted clock difference of incoming webhooks, both directions. @default 300 */
  toleranceSeconds?: number;
  /** Named receivers with their own secrets. @default {} (`default` = the module's `secret`) */
  receivers?: Record<string, WebhookReceiverConfig>;
  /** Replay protection of incoming webhooks; `false` turns it off. @default { store: 'memory' } */
  replay?: WebhookReplayOptions | false;
  /** Follow rotated secrets of a `SecretsProvider` (see {@link WebhookSecretRotation}). @default none */
  rotation?: WebhookSecretRotation;
}

/** Extras known before the options factory runs. */
export interface WebhooksExtras {
  /** Register globally. @default true */
  isGlobal?: boolean;
}

/**
 * HMAC keys of one secret set. Printing or serialising it shows only how many keys it holds,
 * so resolved options can be logged without leaking a secret.
 */
export class WebhookKeys {
  #current: readonly Buffer[];
  #replaced: readonly Buffer[] = [];
  #replacedUntil = 0;
  readonly #clock: () => number;

  /** @param clock milliseconds, for tests. @default Date.now */
  constructor(secret: WebhookSecret, clock: () => number = Date.now) {
    this.#current = keysOf(secret);
    this.#clock = clock;
  }

  /**
   * The keys, signing order first: the current ones, then during an overlap window those a
   * {@link rotate} replaced.
   */
  get keys(): readonly Buffer[] {
    if (this.#replaced.length === 0) return this.#current;
    if (this.#clock() >= this.#replacedUntil) {
      this.#replaced = [];
      return this.#current;
    }
    return [...this.#current, ...this.#replaced];
  }

  /**
   * Makes `secret` the current secret(s); the ones it replaces stay in {@link keys} (after the
   * new ones) for `overlapSeconds`. Keys replaced by an earlier rotation are dropped.
   * @throws TypeError for an unusable secret (never echoing it); the keys are then unchanged.
   */
  rotate(secret: WebhookSecret, overlapSeconds: number): void {
    const next = keysOf(secret);
    this.#replaced = this.#current.filter((k) => !next.some((n) => n.equals(k)));
    this.#replacedUntil = this.#clock() + overlapSeconds * 1000;
    this.#current = next;
  }

  toJSON(): string {
    return `[${this.keys.length} webhook secret(s)]`;
  }

  [inspect.custom](): string {
    return this.toJSON();
  }
}

function keysOf(secret: WebhookSecret): Buffer[] {
  const list = typeof secret === 'string' ? [secret] : secret;
  if (list.length === 0) throw new TypeError('webhook secret: none given');
  return list.map((s) => webhookSecretKey(s));
}

/** `whsec_a whsec_b` or `whsec_a,whsec_b` (a rotating file may hold several) → a list. */
export function parseWebhookSecrets(value: string): string[] {
  return value.split(/[\s,]+/).filter(Boolean);
}

/** A rotating secret and the keys it updates. */
export interface ResolvedWebhookRotationBinding {
  /** The secret's name in the source. */
  name: string;
  /** Where it applies, for logs: `secret`, `endpoints.billing`, `receivers.payments`. */
  option: string;
  keys: WebhookKeys;
}

export interface ResolvedWebhookRotation {
  secrets: SecretSource;
  overlapSeconds: number;
  bindings: ResolvedWebhookRotationBinding[];
}

export interface ResolvedWebhookEndpoint {
  url: string;
  keys?: WebhookKeys;
  headers: Record<string, string>;
}

export interface ResolvedWebhookDelivery {
  group: string;
  retry: Required<RetryPolicy>;
  concurrency?: number;
  attemptTimeoutMs: number;
  circuitBreaker: CircuitBreakerOptions | false;
  connections: number;
  maxTargets: number;
  maxBodyBytes: number;
  userAgent: string;
  propagateContext: boolean;
  allowPrivateNetworks: boolean;
}

export interface ResolvedWebhookReceiver {
  keys: WebhookKeys;
  toleranceSeconds: number;
  /** How long an accepted id is remembered. */
  replayTtlSeconds: number;
}

export interface ResolvedWebhookReplay {
  store: 'memory' | 'redis' | WebhookReplayStore;
  url?: string;
  password?: SecretReference;
  keyPrefix: string;
  timeoutMs: number;
  tls?: { ca?: string | Buffer; caFile?: string };
}

/** Options with every default applied (secrets as {@link WebhookKeys}). */
export interface ResolvedWebhooksOptions {
  signing?: WebhookKeys;
  endpoints: Record<string, ResolvedWebhookEndpoint>;
  subscriptionSecret?: WebhooksOptions['subscriptionSecret'];
  /** Seals subscription URLs; absent without `urlEncryptionKey` and `secret`. */
  urlSealer?: WebhookUrlSealer;
  delivery: ResolvedWebhookDelivery;
  toleranceSeconds: number;
  /** By name; `default` comes from `secret` unless configured. */
  receivers: Record<string, ResolvedWebhookReceiver>;
  replay: ResolvedWebhookReplay | false;
  rotation?: ResolvedWebhookRotation;
}

export const WEBHOOK_NAME = /^[a-zA-Z0-9_-]{1,50}$/;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$/;
const RESERVED_HEADERS = new Set([
  'webhook-id',
  'webhook-timestamp',
  'webhook-signature',
  'content-type',
  'content-length',
  'host',
]);
const ms = z.number().int().min(1).max(2_147_483_647);

const secretString = z.string().refine((v) => webhookSecretProblem(v) === undefined, {
  error: (issue) =>
    typeof issue.input === 'string'
      ? `secret ${webhookSecretProblem(issue.input)}`
      : 'must be a string',
});
// One or several: a lone string is checked as a list of one, so errors name the bad secret.
const secretSchema = z.preprocess(
  (v) => (typeof v === 'string' ? [v] : v),
  z.array(secretString).min(1, 'must name at least one secret').max(10),
);

/** `https://host/…`: webhook URL paths often carry tokens (Slack, Discord), so only the origin is shown. */
export function webhookOrigin(url: string): string {
  return URL.canParse(url) ? new URL(url).origin : '[unparseable URL]';
}

const httpUrl = z.string().refine((v) => URL.canParse(v) && /^https?:$/.test(new URL(v).protocol), {
  error: (issue) => `must be an http(s) URL, got "${webhookOrigin(String(issue.input))}/…"`,
});

const headersSchema = z
  .record(
    z.string(),
    z.string().refine((v) => !/[\r\n]/.test(v), 'must not contain newlines'),
  )
  .refine((h) => Object.keys(h).every((k) => HEADER_NAME.test(k)), 'header names must be tokens')
  .refine(
    (h) => Object.keys(h).every((k) => !RESERVED_HEADERS.has(k.toLowerCase())),
    `must not set ${[...RESERVED_HEADERS].join(', ')} (the sender sets them)`,
  );

const tolerance = z.number().int().min(1).max(86_400);

const schema = z
  .object({
    secret: secretSchema.optional(),
    endpoints: z
      .record(
        z.string().regex(WEBHOOK_NAME, 'endpoint names are 1-50 characters of [a-zA-Z0-9_-]'),
        z
          .object({
            url: httpUrl,
            secret: secretSchema.optional(),
            headers: headersSchema.optional(),
          })
          .strict(),
      )
      .optional(),
    urlEncryptionKey: z
      .preprocess(
        (v) => (typeof v === 'string' ? [v] : v),
        z
          .array(
            z.string().refine((v) => decodeAes256Key(v) !== undefined, {
              message: 'must be 32 bytes as base64 (44 chars) or hex (64)',
            }),
          )
          .min(1, 'must name at least one key')
          .max(10),
      )
      .optional(),
    subscriptionSecret: z
      .custom<WebhooksOptions['subscriptionSecret']>((v) => typeof v === 'function', {
        message: 'must be a function (subscription) => secret',
      })
      .optional(),
    delivery: z
      .object({
        group: z.string().min(1).max(100).optional(),
        retry: z
          .object({
            attempts: z.number().int().min(1).max(100).optional(),
            initialDelayMs: ms.optional(),
            maxDelayMs: ms.optional(),
          })
          .strict()
          .optional(),
        concurrency: z.number().int().min(1).max(10_000).optional(),
        attemptTimeoutMs: ms.optional(),
        circuitBreaker: resilienceSchemaShape.circuitBreaker,
        connections: z.number().int().min(1).max(10_000).optional(),
        maxTargets: z.number().int().min(1).max(100_000).optional(),
        maxBodyBytes: z
          .number()
          .int()
          .min(1)
          .max(64 * 1024 * 1024)
          .optional(),
        userAgent: z.string().min(1).max(200).optional(),
        propagateContext: z.boolean().optional(),
        allowPrivateNetworks: z.boolean().optional(),
      })
      .strict()
      .optional(),
    toleranceSeconds: tolerance.optional(),
    receivers: z
      .record(
        z.string().regex(WEBHOOK_NAME, 'receiver names are 1-50 characters of [a-zA-Z0-9_-]'),
        z.object({ secret: secretSchema, toleranceSeconds: tolerance.optional() }).strict(),
      )
      .optional(),
    rotation: z
      .object({
        secrets: z.custom<SecretSource>(isSecretSource, {
          message: 'must be a SecretsProvider (get(name), onChange(name, listener))',
        }),
        overlapSeconds: z.number().int().min(0).max(2_592_000).optional(),
        secret: z.string().min(1).optional(),
        endpoints: z.record(z.string(), z.string().min(1)).optional(),
        receivers: z.record(z.string(), z.string().min(1)).optional(),
      })
      .strict()
      .optional(),
    replay: z
      // `false` turns replay protection off; an object is checked field by field.
      .preprocess(
        (v) => (v === false ? undefined : v),
        z
          .object({
            store: z
              .custom<'memory' | 'redis' | WebhookReplayStore>(
                (v) => v === 'memory' || v === 'redis' || v instanceof WebhookReplayStore,
                { message: "must be 'memory', 'redis' or a WebhookReplayStore instance" },
              )
              .optional(),
            url: z
              .string()
              .refine((v) => /^rediss?:\/\//.test(v) && URL.canParse(v), {
                message: 'must be a redis:// or rediss:// URL',
              })
              .optional(),
            password: z
              .custom<SecretReference>(isSecretReference, { message: SECRET_REFERENCE_EXPECTED })
              .optional(),
            keyPrefix: z.string().max(200).optional(),
            ttlSeconds: z.number().int().min(1).max(604_800).optional(),
            timeoutMs: ms.optional(),
            tls: z
              .object({
                ca: z.union([z.string().min(1), z.instanceof(Buffer)]).optional(),
                caFile: z.string().min(1).optional(),
              })
              .strict()
              .optional(),
          })
          .strict()
          .refine((r) => r.store !== 'redis' || r.url !== undefined, {
            message: "is required with store 'redis'",
            path: ['url'],
          })
          .optional(),
      ),
  })
  .strict();

const DEFAULT_RETRY: Required<RetryPolicy> = {
  attempts: 10,
  initialDelayMs: 5000,
  maxDelayMs: 1_800_000,
};

function urlSealerOf(
  configured: WebhooksOptions['urlEncryptionKey'],
  signing: WebhookKeys | undefined,
): WebhookUrlSealer | undefined {
  if (configured !== undefined) {
    const raw = typeof configured === 'string' ? [configured] : configured;
    return new WebhookUrlSealer(raw.map((k) => decodeAes256Key(k)!));
  }
  // One derived key per signing key: a rotation of `secret` keeps pending URLs readable as long
  // as the old secret stays in the list.
  return signing ? new WebhookUrlSealer(signing.keys.map((k) => derivedUrlKey(k))) : undefined;
}

/**
 * Validates options, naming the bad key (`options.endpoints.billing.url`, never a secret's
 * value), and applies defaults.
 */
export function resolveWebhooksOptions(options: WebhooksOptions = {}): ResolvedWebhooksOptions {
  validateModuleOptions('WebhooksModule', schema, options, WebhooksConfigError);
  const rotation = options.rotation;
  /** The rotating secret's current value when the source has it, else the configured one. */
  const current = (
    name: string | undefined,
    option: string,
    configured: WebhookSecret | undefined,
  ): WebhookSecret | undefined => {
    const value = name === undefined ? undefined : rotation!.secrets.get(name)?.reveal();
    if (value === undefined) return configured;
    const list = parseWebhookSecrets(value);
    const problem = list.length === 0 ? 'is empty' : list.map(webhookSecretProblem).find(Boolean);
    if (problem) {
      throw new WebhooksConfigError(
        `WebhooksModule: options.rotation: secret "${name}" (for options.${option}) ${problem}`,
      );
    }
    return list;
  };
  const bindings: ResolvedWebhookRotationBinding[] = [];
  const bind = (name: string | undefined, option: string, keys: WebhookKeys | undefined) => {
    if (name === undefined) return;
    if (!keys) {
      throw new WebhooksConfigError(
        `WebhooksModule: options.rotation names secret "${name}" for options.${option}, but neither the options nor the secrets provider have a value`,
      );
    }
    if (!bindings.some((b) => b.name === name && b.keys === keys)) {
      bindings.push({ name, option, keys });
    }
  };
  const defaultSecret = current(rotation?.secret, 'secret', options.secret);
  const signing = defaultSecret === undefined ? undefined : new WebhookKeys(defaultSecret);
  bind(rotation?.secret, 'secret', signing);
  for (const [kind, names] of [
    ['endpoints', rotation?.endpoints],
    ['receivers', rotation?.receivers],
  ] as const) {
    for (const name of Object.keys(names ?? {})) {
      if (!(options[kind] ?? {})[name]) {
        throw new WebhooksConfigError(
          `WebhooksModule: options.rotation.${kind}.${name}: no such ${kind.slice(0, -1)} in options.${kind}`,
        );
      }
    }
  }
  const toleranceSeconds = options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  const replay = options.replay === false ? undefined : options.replay;
  const receiver = (keys: WebhookKeys, tol: number): ResolvedWebhookReceiver => ({
    keys,
    toleranceSeconds: tol,
    replayTtlSeconds: replay?.ttlSeconds ?? 2 * tol,
  });
  const receivers: Record<string, ResolvedWebhookReceiver> = {};
  if (signing) receivers.default = receiver(signing, toleranceSeconds);
  for (const [name, r] of Object.entries(options.receivers ?? {})) {
    const secretName = rotation?.receivers?.[name];
    const keys = new WebhookKeys(current(secretName, `receivers.${name}`, r.secret)!);
    receivers[name] = receiver(keys, r.toleranceSeconds ?? toleranceSeconds);
    bind(secretName, `receivers.${name}`, keys);
  }
  const endpoints: Record<string, ResolvedWebhookEndpoint> = {};
  for (const [name, e] of Object.entries(options.endpoints ?? {})) {
    const secretName = rotation?.endpoints?.[name];
    const secret = current(secretName, `endpoints.${name}`, e.secret);
    const keys = secret === undefined ? signing : new WebhookKeys(secret);
    endpoints[name] = { url: e.url, keys, headers: { ...e.headers } };
    bind(secretName, `endpoints.${name}`, keys);
  }
  const d = options.delivery ?? {};
  return {
    ...(rotation
      ? {
          rotation: {
            secrets: rotation.secrets,
            overlapSeconds: rotation.overlapSeconds ?? 86_400,
            bindings,
          },
        }
      : {}),
    signing,
    endpoints,
    subscriptionSecret: options.subscriptionSecret,
    urlSealer: urlSealerOf(options.urlEncryptionKey, signing),
    delivery: {
      group: d.group ?? 'webhooks',
      retry: { ...DEFAULT_RETRY, ...d.retry },
      concurrency: d.concurrency,
      attemptTimeoutMs: d.attemptTimeoutMs ?? 10_000,
      circuitBreaker:
        d.circuitBreaker === false
          ? false
          : { consecutiveFailures: 5, halfOpenAfterMs: 30_000, ...d.circuitBreaker },
      connections: d.connections ?? 10,
      maxTargets: d.maxTargets ?? 500,
      maxBodyBytes: d.maxBodyBytes ?? 256 * 1024,
      userAgent: d.userAgent ?? 'nestjs-infrastructure-webhooks/1',
      propagateContext: d.propagateContext ?? false,
      allowPrivateNetworks: d.allowPrivateNetworks ?? false,
    },
    toleranceSeconds,
    receivers,
    replay:
      options.replay === false
        ? false
        : {
            store: replay?.store ?? 'memory',
            url: replay?.url,
            ...(replay?.password ? { password: replay.password } : {}),
            keyPrefix: replay?.keyPrefix ?? 'webhooks:replay:',
            timeoutMs: replay?.timeoutMs ?? 1000,
            ...(replay?.tls ? { tls: replay.tls } : {}),
          },
  };
}
