import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { DiscoveryService, ModuleRef } from '@nestjs/core';
import type { Counter, Gauge } from 'prom-client';
import { eventTypeOf, type DomainEventClass } from '@infrastructure/messaging';
import {
  getLogger,
  HealthDegradedError,
  HealthRegistry,
  MetricsService,
  ShutdownService,
} from '@infrastructure/monitoring';
import { CheckpointStore } from './checkpoint-store.js';
import { EventSourcingError } from './errors.js';
import { EventStore, type RecordedEvent } from './event-store.js';
import { EventSourcing } from './event-sourcing.service.js';
import {
  PROJECTION,
  PROJECTION_HANDLERS,
  type ProjectionHandlerFn,
  type ProjectionOptions,
  type ResettableProjection,
} from './projection.decorators.js';
import {
  EVENT_SOURCING_OPTIONS,
  type ResolvedEventSourcingOptions,
} from './event-sourcing.options.js';

interface Running {
  name: string;
  instance: object;
  handlers: Map<string, ProjectionHandlerFn>;
  batchSize: number;
  position: number;
  stopped: boolean;
  loop?: Promise<void>;
  wake?: () => void;
  failures: number;
  /** When the current run of failed batches began (undefined while batches succeed). */
  failingSince?: number;
  lastError?: string;
  waiters: Array<{ position: number; resolve: () => void }>;
}

/**
 * Runs every `@Projection` provider: catch-up from its checkpoint, then live. Each batch runs in
 * one unit of work that locks the projection's checkpoint row (so several instances take turns
 * instead of applying twice), re-reads the events after it, calls the handlers and writes the new
 * checkpoint. A handler that throws rolls the batch back; the projection retries from its
 * checkpoint with backoff (logged, counted) and never applies an event twice.
 */
@Injectable()
export class ProjectionRunner implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = getLogger('Projections');
  private readonly running = new Map<string, Running>();
  private lag?: Gauge<'projection'>;
  private positionGauge?: Gauge<'projection'>;
  private errors?: Counter<'projection'>;

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly moduleRef: ModuleRef,
    private readonly store: EventStore,
    private readonly checkpoints: CheckpointStore,
    private readonly es: EventSourcing,
    @Inject(EVENT_SOURCING_OPTIONS) private readonly options: ResolvedEventSourcingOptions,
  ) {}

  private optional<T>(token: unknown): T | undefined {
    try {
      return this.moduleRef.get(token as never, { strict: false }) as T;
    } catch {
      return undefined;
    }
  }

  onApplicationBootstrap(): void {
    const metrics = this.optional<MetricsService>(MetricsService);
    if (metrics) {
      this.lag = metrics.gauge({
        name: 'projection_lag_events',
        help: 'Events stored but not yet applied by the projection.',
        labelNames: ['projection'],
      });
      this.positionGauge = metrics.gauge({
        name: 'projection_position',
        help: 'Global position the projection has applied up to.',
        labelNames: ['projection'],
      });
      this.errors = metrics.counter({
        name: 'projection_errors_total',
        help: 'Projection batches rolled back because a handler failed.',
        labelNames: ['projection'],
      });
    }
    for (const wrapper of this.discovery.getProviders()) {
      const instance = wrapper.instance as object | undefined;
      if (!instance || typeof instance !== 'object' || !wrapper.metatype) continue;
      const meta = Reflect.getMetadata(PROJECTION, wrapper.metatype) as
        { name: string; options: ProjectionOptions } | undefined;
      if (!meta) continue;
      if (this.running.has(meta.name)) {
        throw new EventSourcingError(`two projections are named '${meta.name}'`);
      }
      const handlers = new Map<string, ProjectionHandlerFn>();
      const declared =
        (Reflect.getMetadata(PROJECTION_HANDLERS, wrapper.metatype) as
          Array<{ event: DomainEventClass; method: string | symbol }> | undefined) ?? [];
      for (const { event, method } of declared) {
        const fn = (instance as Record<string | symbol, ProjectionHandlerFn>)[method]!;
        handlers.set(eventTypeOf(event), fn.bind(instance));
      }
      const r: Running = {
        name: meta.name,
        instance,
        handlers,
        batchSize: meta.options.batchSize ?? this.options.projections.batchSize,
        position: 0,
        stopped: false,
        failures: 0,
        waiters: [],
      };
      this.running.set(meta.name, r);
      this.start(r);
    }
    this.optional<ShutdownService>(ShutdownService)?.registerDrainHook('projections', () =>
      this.stopAll(),
    );
    if (this.running.size > 0) {
      this.optional<HealthRegistry>(HealthRegistry)?.register('projections', () => this.health(), {
        critical: false,
      });
    }
  }

  /**
   * Projections whose batches have kept failing for at least `projections.stalledAfterMs`: the
   * position they are stuck at, for how long, and the last error.
   */
  stalled(): Array<{ name: string; position: number; failingForMs: number; error?: string }> {
    const now = Date.now();
    return [...this.running.values()]
      .filter(
        (r) =>
          r.failingSince !== undefined &&
          now - r.failingSince >= this.options.projections.stalledAfterMs,
      )
      .map((r) => ({
        name: r.name,
        position: r.position,
        failingForMs: now - r.failingSince!,
        ...(r.lastError !== undefined ? { error: r.lastError } : {}),
      }));
  }

  /** The `projections` health check: `degraded` (readiness stays 200) while one is stalled. */
  private health(): Record<string, unknown> {
    const stalled = this.stalled();
    if (stalled.length === 0) return { running: this.running.size };
    throw new HealthDegradedError(`stalled: ${stalled.map((s) => s.name).join(', ')}`, {
      stalled: Object.fromEntries(stalled.map(({ name, ...rest }) => [name, rest])),
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.stopAll();
  }

  private async stopAll(): Promise<void> {
    await Promise.all([...this.running.values()].map((r) => this.stop(r)));
  }

  /** Names of the running projections. */
  names(): string[] {
    return [...this.running.keys()];
  }

  /** The position a projection has applied up to. */
  position(name: string): number {
    return this.get(name).position;
  }

  /**
   * Resolves once the projection has applied everything stored when this was called (tests,
   * read-your-writes endpoints).
   */
  async caughtUp(name: string): Promise<void> {
    const r = this.get(name);
    const head = await this.store.headPosition();
    if (r.position >= head) return;
    await new Promise<void>((resolve) => {
      r.waiters.push({ position: head, resolve });
      r.wake?.();
    });
  }

  /** Clears the read model (`reset()`), sets the checkpoint to 0 and replays every event. */
  async rebuild(name: string): Promise<void> {
    const r = this.get(name);
    await this.stop(r);
    await this.es.run(async () => {
      await this.checkpoints.lock(name);
      await (r.instance as Partial<ResettableProjection>).reset?.();
      await this.checkpoints.save(name, 0);
    });
    r.position = 0;
    r.stopped = false;
    this.start(r);
    this.log.info({ projection: name }, 'projection rebuilding from position 0');
  }

  private get(name: string): Running {
    const r = this.running.get(name);
    if (!r) throw new EventSourcingError(`no projection named '${name}'`);
    return r;
  }

  private start(r: Running): void {
    r.loop = this.loop(r);
  }

  private async stop(r: Running): Promise<void> {
    r.stopped = true;
    r.wake?.();
    await r.loop;
  }

  private async loop(r: Running): Promise<void> {
    const pollIntervalMs = this.options.projections.pollIntervalMs;
    r.position = await this.checkpoints.peek(r.name).catch(() => 0);
    while (!r.stopped) {
      const next = this.store.appended();
      let applied = 0;
      try {
        applied = await this.batch(r);
        r.failures = 0;
        r.failingSince = undefined;
        r.lastError = undefined;
      } catch (error) {
        r.failures++;
        r.failingSince ??= Date.now();
        r.lastError = (error as Error)?.message ?? String(error);
        this.errors?.inc({ projection: r.name });
        // The lag keeps telling the truth while the projection is stuck (events keep arriving).
        await this.report(r);
        const delay = Math.min(30_000, 100 * 2 ** Math.min(r.failures, 9));
        this.log.error(
          { err: error, projection: r.name, checkpoint: r.position, retryInMs: delay },
          'projection batch failed; rolled back, will retry from the checkpoint',
        );
        await this.pause(r, delay);
        continue;
      }
      await this.report(r);
      if (applied >= r.batchSize) continue;
      await this.pause(r, pollIntervalMs, next);
    }
  }

  private pause(r: Running, ms: number, until?: Promise<void>): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      r.wake = done;
      void until?.then(done);
    });
  }

  /** One batch in one transaction; returns how many events it read. */
  private async batch(r: Running): Promise<number> {
    let last = r.position;
    let count = 0;
    await this.es.run(async () => {
      const from = await this.checkpoints.lock(r.name);
      const events: RecordedEvent[] = await this.store.readAll({
        fromPosition: from,
        limit: r.batchSize,
      });
      count = events.length;
      last = from;
      for (const recorded of events) {
        const handler = r.handlers.get(eventTypeOf(recorded.event.constructor));
        if (handler) await handler(recorded.event, recorded);
        last = recorded.position;
      }
      if (last !== from) await this.checkpoints.save(r.name, last);
    });
    r.position = last;
    return count;
  }

  private async report(r: Running): Promise<void> {
    if (this.lag) {
      const head = await this.store.headPosition().catch(() => r.position);
      this.lag.set({ projection: r.name }, Math.max(0, head - r.position));
      this.positionGauge?.set({ projection: r.name }, r.position);
    }
    const ready = r.waiters.filter((w) => r.position >= w.position);
    r.waiters = r.waiters.filter((w) => r.position < w.position);
    for (const w of ready) w.resolve();
  }
}
