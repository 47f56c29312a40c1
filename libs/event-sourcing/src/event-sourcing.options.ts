import { z } from 'zod';
import { validateModuleOptions } from '@infrastructure/core';
import { EventSourcingError } from './errors.js';

export const EVENT_SOURCING_OPTIONS = 'EVENT_SOURCING:OPTIONS';

/** Options of `EventSourcingModule.forRoot` / the factory of `forRootAsync`. */
export interface EventSourcingOptions {
  /** `sql` (the persistence lib's database) or `memory`. @default `sql` when the persistence lib is present */
  store?: 'sql' | 'memory';
  /** Create the event store tables at boot when missing (else run `eventStoreMigrations`). @default true */
  createTables?: boolean;
  projections?: {
    /** Events per projection batch (one transaction). @default 500 */
    batchSize?: number;
    /** How often an idle projection looks for other processes' appends. @default 1000 */
    pollIntervalMs?: number;
    /**
     * A projection whose batches have kept failing for this long makes the `projections` health
     * check (non-critical: readiness stays 200) report `degraded`, naming it, its position and
     * the error. @default 30000
     */
    stalledAfterMs?: number;
    /**
     * What a projection does with an event its handler keeps failing on: `park` skips it after
     * `maxAttempts` (recorded in `event_store_parked`, replayable through `ParkedEvents`) so the
     * read model stays live; `stop` retries it forever with backoff, so no event is ever skipped
     * (for read models where order matters more than liveness). Per projection: `@Projection`'s
     * option of the same name. @default 'park'
     */
    onFailure?: ProjectionFailurePolicy;
    /** Handler failures on one event before it is parked (policy `park`). @default 5 */
    maxAttempts?: number;
  };
}

/** See `EventSourcingOptions.projections.onFailure`. */
export type ProjectionFailurePolicy = 'park' | 'stop';

export interface ResolvedEventSourcingOptions {
  store?: 'sql' | 'memory';
  createTables: boolean;
  projections: {
    batchSize: number;
    pollIntervalMs: number;
    stalledAfterMs: number;
    onFailure: ProjectionFailurePolicy;
    maxAttempts: number;
  };
}

const schema = z
  .object({
    store: z.enum(['sql', 'memory']).optional(),
    createTables: z.boolean().optional(),
    projections: z
      .object({
        batchSize: z.number().int().min(1).max(10_000).optional(),
        pollIntervalMs: z.number().int().min(10).optional(),
        stalledAfterMs: z.number().int().min(0).optional(),
        onFailure: z.enum(['park', 'stop']).optional(),
        maxAttempts: z.number().int().min(1).max(1000).optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

/** Validates options, naming the bad key, and applies defaults. */
export function resolveEventSourcingOptions(
  options: EventSourcingOptions = {},
): ResolvedEventSourcingOptions {
  validateModuleOptions('EventSourcingModule', schema, options, EventSourcingError, () => '');
  return {
    ...(options.store ? { store: options.store } : {}),
    createTables: options.createTables ?? true,
    projections: {
      batchSize: options.projections?.batchSize ?? 500,
      pollIntervalMs: options.projections?.pollIntervalMs ?? 1000,
      stalledAfterMs: options.projections?.stalledAfterMs ?? 30_000,
      onFailure: options.projections?.onFailure ?? 'park',
      maxAttempts: options.projections?.maxAttempts ?? 5,
    },
  };
}
