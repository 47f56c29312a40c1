import { z } from 'zod';
import { validateModuleOptions } from '@infrastructure/configuration';
import type { RetryPolicy } from './event-handler.decorator.js';
import { MessagingConfigError } from './errors.js';

/** Options of `MessagingModule.forRoot` / the factory of `forRootAsync`. */
export interface MessagingOptions {
  /** Broker transport. Only `memory` ships in this release. @default 'memory' */
  transport?: 'memory';
  /** Prefix of default consumer group names. @default 'app' */
  serviceName?: string;
  /** Default retry policy of handlers. @default { attempts: 3, initialDelayMs: 100, maxDelayMs: 10000 } */
  retry?: RetryPolicy;
  /** Time in-flight handlers get at shutdown. @default 10000 */
  drainTimeoutMs?: number;
}

export type ResolvedMessagingOptions = Required<Omit<MessagingOptions, 'retry'>> & {
  retry: Required<RetryPolicy>;
};

const retry = z
  .object({
    attempts: z.number().int().min(1).max(100).optional(),
    initialDelayMs: z.number().int().min(0).optional(),
    maxDelayMs: z.number().int().min(0).optional(),
  })
  .strict();
const schema = z
  .object({
    transport: z.literal('memory').optional(),
    serviceName: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,64}$/)
      .optional(),
    retry: retry.optional(),
    drainTimeoutMs: z.number().int().min(0).optional(),
  })
  .strict();

/** Validates options, naming the bad key, and applies defaults. */
export function resolveMessagingOptions(options: MessagingOptions = {}): ResolvedMessagingOptions {
  validateModuleOptions('MessagingModule', schema, options, MessagingConfigError, (path) =>
    path[0] === 'transport' ? ' (this release ships the memory transport; brokers come next)' : '',
  );
  return {
    transport: 'memory',
    serviceName: options.serviceName ?? 'app',
    drainTimeoutMs: options.drainTimeoutMs ?? 10_000,
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
