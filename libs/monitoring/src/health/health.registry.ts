import { Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { TimeoutError, withTimeout } from '@infrastructure/core';

/** What a check may return: extra details to show (e.g. `{ latencyMs: 3 }`). Throw to report failure. */
export type HealthDetails = Record<string, unknown>;

/** A dependency check. Throw (or reject) when unhealthy; the error message becomes the reason. */
export type HealthCheckFn = (ctx: {
  signal: AbortSignal;
}) => Promise<HealthDetails | void> | HealthDetails | void;

/** Where a check is reported. */
export type HealthScope = 'readiness' | 'liveness' | 'details';

/** Options of one registered check. */
export interface HealthCheckOptions {
  /** A failing critical check makes readiness 503; a non-critical one shows `degraded`, readiness stays 200. @default true */
  critical?: boolean;
  /** Per-check timeout; a check that does not answer in time is failing. @default the module's health.timeoutMs (1000) */
  timeoutMs?: number;
  /** Which endpoints run it. @default 'readiness' (also shown on the details endpoint) */
  scope?: HealthScope;
}

interface Registered {
  name: string;
  check: HealthCheckFn;
  critical: boolean;
  timeoutMs?: number;
  scope: HealthScope;
}

/** Thrown by a check to report `degraded` (still serving, impaired) instead of failing. */
export class HealthDegradedError extends Error {
  override readonly name = 'HealthDegradedError';
  constructor(
    message: string,
    readonly details: HealthDetails = {},
  ) {
    super(message);
  }
}

/**
 * The checks behind `/health/ready` (and `/health`). Libs register their dependencies here
 * (database, Redis, broker...); each check gets a timeout and can never throw out of the endpoint.
 */
@Injectable()
export class HealthRegistry {
  private readonly checks = new Map<string, Registered>();
  private defaultTimeoutMs = 1000;

  constructor(private readonly indicators: HealthIndicatorService) {}

  /** @internal */
  setDefaultTimeout(ms: number): void {
    this.defaultTimeoutMs = ms;
  }

  /** Adds (or replaces) a check. */
  register(name: string, check: HealthCheckFn, options: HealthCheckOptions = {}): void {
    if (!/^[a-zA-Z0-9_.:-]{1,64}$/.test(name)) {
      throw new TypeError(
        `HealthRegistry.register: name must be 1-64 chars of [a-zA-Z0-9_.:-], got "${name}"`,
      );
    }
    this.checks.set(name, {
      name,
      check,
      critical: options.critical ?? true,
      timeoutMs: options.timeoutMs,
      scope: options.scope ?? 'readiness',
    });
  }

  /** Removes a check. */
  unregister(name: string): void {
    this.checks.delete(name);
  }

  /** Names of the registered checks. */
  names(): string[] {
    return [...this.checks.keys()];
  }

  /** Terminus indicator functions for a scope (`details` runs every check). */
  indicatorsFor(scope: HealthScope): Array<() => Promise<HealthIndicatorResult>> {
    return [...this.checks.values()]
      .filter((c) => scope === 'details' || c.scope === scope)
      .map((c) => () => this.run(c));
  }

  private async run(c: Registered): Promise<HealthIndicatorResult> {
    const session = this.indicators.check(c.name);
    const timeoutMs = c.timeoutMs ?? this.defaultTimeoutMs;
    const controller = new AbortController();
    const started = performance.now();
    try {
      const details = await withTimeout(
        Promise.resolve().then(() => c.check({ signal: controller.signal })),
        timeoutMs,
        `timed out after ${timeoutMs} ms`,
      ).catch((error: unknown) => {
        // Tell a check that is still running to stop (it may watch the signal).
        if (error instanceof TimeoutError) controller.abort();
        throw error;
      });
      return session.up({
        ...details,
        responseTimeMs: Math.round(performance.now() - started),
      });
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      const extra = error instanceof HealthDegradedError ? error.details : {};
      if (error instanceof HealthDegradedError || !c.critical) {
        return session.degraded({ ...extra, reason, critical: c.critical });
      }
      return session.down({ reason, critical: true });
    }
  }
}
