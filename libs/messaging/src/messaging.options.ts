import { z } from 'zod';
import { validateModuleOptions } from '@infrastructure/configuration';
import type { RetryPolicy } from './event-handler.decorator.js';
import { MessagingConfigError } from './errors.js';
import type { Transport } from './transports/transport.js';

/** Broker transports that ship with the lib. */
export const TRANSPORTS = ['memory', 'redis', 'rabbitmq', 'kafka', 'nats', 'mqtt'] as const;
export type TransportName = (typeof TRANSPORTS)[number];

/** Options of `MessagingModule.forRoot` / the factory of `forRootAsync`. */
export interface MessagingOptions {
  /** Broker transport, or your own `Transport` instance. @default 'memory' */
  transport?: TransportName | Transport;
  /** Broker URL; required for every named transport but `memory`. */
  url?: string;
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
}

export type ResolvedMessagingOptions = Required<
  Omit<MessagingOptions, 'retry' | 'url' | 'transport'>
> & {
  transport: TransportName | Transport;
  url?: string;
  retry: Required<RetryPolicy>;
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
    namespace: options.namespace ?? 'events',
    serviceName: options.serviceName ?? 'app',
    prefetch: options.prefetch ?? 16,
    drainTimeoutMs: options.drainTimeoutMs ?? 10_000,
    healthCritical: options.healthCritical ?? false,
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
