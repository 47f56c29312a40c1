import { z } from 'zod';
import { validateModuleOptions } from '@infrastructure/core';
import type { RetryPolicy } from './event-handler.decorator.js';
import { MessagingConfigError } from './errors.js';
import type { Transport } from './transports/transport.js';

/** Broker transports that ship with the lib. */
export const TRANSPORTS = ['memory', 'redis', 'rabbitmq', 'kafka', 'nats', 'mqtt'] as const;
export type TransportName = (typeof TRANSPORTS)[number];

/** `outbox.leaseMs` when unset, and its floor. */
export const OUTBOX_LEASE_MS = { default: 30_000, min: 1000 } as const;

/** Transactional outbox (needs the persistence lib's default connection). */
export interface OutboxOptions {
  /**
   * `when-in-transaction`: inside a unit of work, events are written to `outbox_messages` in the
   * same transaction and published by the relay after commit; outside one, published directly.
   * `always`: outside a unit of work too (one insert per publish). `never`: no outbox.
   * @default 'when-in-transaction'
   */
  mode?: 'always' | 'when-in-transaction' | 'never';
  /** Create `outbox_messages`/`inbox_messages` at boot when missing (else run `messagingMigrations`). @default true */
  createTables?: boolean;
  /** Run the relay in this instance (several instances may). @default true */
  relay?: boolean;
  /** Rows per claim and publish. @default 500 */
  batchSize?: number;
  /** Poll period for rows the after-commit wake-up missed (other instances, outages). @default 1000 */
  pollIntervalMs?: number;
  /** How long a claimed batch is reserved for one relay. @default 30000 */
  leaseMs?: number;
  /** How long sent rows are kept. @default 86400000 (1 day) */
  retentionMs?: number;
  /** Period of the cleanup of sent outbox rows and old inbox rows. @default 300000 */
  cleanupIntervalMs?: number;
}

/** Idempotent inbox (needs the persistence lib's default connection). */
export interface InboxOptions {
  /** How long processed message ids are remembered. @default 604800000 (7 days) */
  retentionMs?: number;
}

/** Options of `MessagingModule.forRoot` / the factory of `forRootAsync`. */
export interface MessagingOptions {
  /** Broker transport, or your own `Transport` instance. @default 'memory' */
  transport?: TransportName | Transport;
  /** Broker URL; required for every named transport but `memory`. */
  url?: string;
  /**
   * Settings of the named transport (`RedisTransportOptions`, `RabbitMqTransportOptions`,
   * `NatsTransportOptions`, `MqttTransportOptions`, `KafkaTransportSettings`); see the README.
   */
  transportOptions?: Record<string, unknown>;
  /** Shared name of the event topology (exchange, stream/subject/topic prefix). @default 'events' */
  namespace?: string;
  /** Prefix of default consumer group names and client ids. @default 'app' */
  serviceName?: string;
  /** Default retry policy of handlers. @default { attempts: 3, initialDelayMs: 100, maxDelayMs: 10000 } */
  retry?: RetryPolicy;
  /** Deliveries in flight per consumer group (broker prefetch). @default 16 */
  prefetch?: number;
  /** Time in-flight handlers get at shutdown. @default 10000 */
  drainTimeoutMs?: number;
  /** Whether a broker that does not answer makes the service unready. @default false (degraded) */
  healthCritical?: boolean;
  /** Transactional outbox; `false` turns it off. @default on when the persistence lib is present */
  outbox?: OutboxOptions | false;
  /**
   * Idempotent inbox: each handler's work and the `(message id, group)` row commit in one
   * transaction, so a redelivered message is processed once per group. `false` turns it off.
   * @default on when the persistence lib is present
   */
  inbox?: InboxOptions | false;
}

export type ResolvedMessagingOptions = Required<
  Omit<MessagingOptions, 'retry' | 'url' | 'transport' | 'outbox' | 'inbox' | 'transportOptions'>
> & {
  transport: TransportName | Transport;
  url?: string;
  transportOptions?: Record<string, unknown>;
  retry: Required<RetryPolicy>;
  /** `explicit`: the user configured it (missing persistence then fails the boot). */
  outbox: Required<OutboxOptions> & { explicit: boolean };
  inbox: (Required<InboxOptions> & { explicit: boolean }) | false;
};

const retry = z
  .object({
    attempts: z.number().int().min(1).max(100).optional(),
    initialDelayMs: z.number().int().min(0).optional(),
    maxDelayMs: z.number().int().min(0).optional(),
  })
  .strict();

const isTransport = (v: unknown): v is Transport =>
  typeof v === 'object' &&
  v !== null &&
  typeof (v as Transport).publish === 'function' &&
  typeof (v as Transport).subscribe === 'function';

const schema = z
  .object({
    transport: z
      .union([z.enum(TRANSPORTS), z.custom<Transport>(isTransport, 'a Transport instance')])
      .optional(),
    url: z.string().min(1).optional(),
    transportOptions: z.record(z.string(), z.unknown()).optional(),
    namespace: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,64}$/)
      .optional(),
    serviceName: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,64}$/)
      .optional(),
    retry: retry.optional(),
    prefetch: z.number().int().min(1).max(10_000).optional(),
    drainTimeoutMs: z.number().int().min(0).optional(),
    healthCritical: z.boolean().optional(),
    outbox: z
      .union([
        z.literal(false),
        z
          .object({
            mode: z.enum(['always', 'when-in-transaction', 'never']).optional(),
            createTables: z.boolean().optional(),
            relay: z.boolean().optional(),
            batchSize: z.number().int().min(1).max(10_000).optional(),
            pollIntervalMs: z.number().int().min(10).optional(),
            leaseMs: z.number().int().min(OUTBOX_LEASE_MS.min).optional(),
            retentionMs: z.number().int().min(0).optional(),
            cleanupIntervalMs: z.number().int().min(1000).optional(),
          })
          .strict(),
      ])
      .optional(),
    inbox: z
      .union([
        z.literal(false),
        z.object({ retentionMs: z.number().int().min(0).optional() }).strict(),
      ])
      .optional(),
  })
  .strict();

const EXAMPLE_URL: Record<TransportName, string> = {
  memory: '',
  redis: 'redis://127.0.0.1:6379',
  rabbitmq: 'amqp://guest:guest@127.0.0.1:5672',
  kafka: 'kafka://127.0.0.1:9092',
  nats: 'nats://127.0.0.1:4222',
  mqtt: 'mqtt://127.0.0.1:1883',
};

/** Validates options, naming the bad key, and applies defaults. */
export function resolveMessagingOptions(options: MessagingOptions = {}): ResolvedMessagingOptions {
  validateModuleOptions('MessagingModule', schema, options, MessagingConfigError, () => '');
  const transport = options.transport ?? 'memory';
  if (typeof transport === 'string' && transport !== 'memory' && !options.url) {
    throw new MessagingConfigError(
      `MessagingModule: options.url is required for transport '${transport}' (e.g. ${EXAMPLE_URL[transport]})`,
    );
  }
  return {
    transport,
    ...(options.url ? { url: options.url } : {}),
    ...(options.transportOptions ? { transportOptions: options.transportOptions } : {}),
    namespace: options.namespace ?? 'events',
    serviceName: options.serviceName ?? 'app',
    prefetch: options.prefetch ?? 16,
    drainTimeoutMs: options.drainTimeoutMs ?? 10_000,
    healthCritical: options.healthCritical ?? false,
    outbox: {
      explicit: options.outbox !== undefined,
      mode: options.outbox === false ? 'never' : (options.outbox?.mode ?? 'when-in-transaction'),
      createTables: (options.outbox || undefined)?.createTables ?? true,
      relay: (options.outbox || undefined)?.relay ?? true,
      batchSize: (options.outbox || undefined)?.batchSize ?? 500,
      pollIntervalMs: (options.outbox || undefined)?.pollIntervalMs ?? 1000,
      leaseMs: (options.outbox || undefined)?.leaseMs ?? OUTBOX_LEASE_MS.default,
      retentionMs: (options.outbox || undefined)?.retentionMs ?? 86_400_000,
      cleanupIntervalMs: (options.outbox || undefined)?.cleanupIntervalMs ?? 300_000,
    },
    inbox:
      options.inbox === false
        ? false
        : {
            explicit: options.inbox !== undefined,
            retentionMs: options.inbox?.retentionMs ?? 604_800_000,
          },
    retry: {
      attempts: options.retry?.attempts ?? 3,
      initialDelayMs: options.retry?.initialDelayMs ?? 100,
      maxDelayMs: options.retry?.maxDelayMs ?? 10_000,
    },
  };
}

/** Delay before attempt `attempt + 1`: exponential with full jitter between half and all of it. */
export function backoffMs(policy: Required<RetryPolicy>, attempt: number): number {
  const base = Math.min(policy.initialDelayMs * 2 ** (attempt - 1), policy.maxDelayMs);
  return Math.round(base / 2 + Math.random() * (base / 2));
}

/**
 * The delay before redelivering after `error`: the backoff, or longer when the error asks for it
 * with `retryAfterMs` (an upstream's `Retry-After`, as the http-client lib's `HttpClientError`
 * carries), capped at `maxDelayMs`.
 */
export function retryDelayMs(
  policy: Required<RetryPolicy>,
  attempt: number,
  error: unknown,
): number {
  const backoff = backoffMs(policy, attempt);
  const hint = (error as { retryAfterMs?: unknown } | null)?.retryAfterMs;
  if (typeof hint !== 'number' || !Number.isFinite(hint) || hint <= backoff) return backoff;
  return Math.min(Math.ceil(hint), Math.max(policy.maxDelayMs, backoff));
}
