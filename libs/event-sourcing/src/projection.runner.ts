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
import { describeError, ParkedEventStore } from './parked-event-store.js';
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
  type ProjectionFailurePolicy,
  type ResolvedEventSourcingOptions,
} from './event-sourcing.options.js';

/** The runner the lag gauge reads from when scraped. */
const scrapedBy = new WeakMap<object, ProjectionRunner>();

/** A handler threw on `recorded`: the batch rolled back; the loop isolates and counts it. */
class EventFailure extends Error {
  constructor(
    readonly recorded: RecordedEvent,
    override readonly cause: unknown,
    /** False when events before it in the batch are still to apply. */
    readonly alone: boolean,
  ) {
    super(describeError(cause));
  }
}

interface Running {
  name: string;
  instance: object;
  handlers: Map<string, ProjectionHandlerFn>;
  batchSize: number;
  onFailure: ProjectionFailurePolicy;
  maxAttempts: number;
  position: number;
  stopped: boolean;
  loop?: Promise<void>;
  wake?: () => void;
  failures: number;
  /** When the current run of failed batches began (undefined while batches succeed). */
  failingSince?: number;
  lastError?: string;
  /** Position of the event a handler last failed on, until it is applied or parked. */
  suspect?: number;
  /** Handler failures on `suspect`. */
  attempts: number;
  waiters: Array<{ position: number; resolve: () => void }>;
}

/**
 * Runs every `@Projection` provider: catch-up from its checkpoint, then live. Each batch runs in
 * one unit of work that locks the projection's checkpoint row (so several instances take turns
 * instead of applying twice), re-reads the events after it, calls the handlers and writes the new
 * checkpoint. A handler that throws rolls the batch back; the projection applies the events
 * before the failing one, then retries that one alone with backoff (logged, counted) and never
 * applies an event twice. After `maxAttempts` failures on it, policy `park` records it in the
 * parked events (`ParkedEvents`) and moves the checkpoint past it; policy `stop` keeps retrying.
 */
@Injectable()
export class ProjectionRunner implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = getLogger('Projections');
  private readonly running = new Map<string, Running>();
  private positionGauge?: Gauge<'projection'>;
  private errors?: Counter<'projection'>;
  private parkedCounter?: Counter<'projection'>;

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly moduleRef: ModuleRef,
    private readonly store: EventStore,
    private readonly checkpoints: CheckpointStore,
    private readonly parked: ParkedEventStore,
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
      // Computed when scraped (one head read per scrape, not one per batch), by the runner that
      // registered the gauge last (a registry may outlive an application).
      const lag = metrics.gauge({
        name: 'projection_lag_events',
        help: 'Events stored but not yet applied by the projection.',
        labelNames: ['projection'],
        collect: async () => {
          const runner = scrapedBy.get(lag);
          const head = await runner?.store.headPosition().catch(() => undefined);
          if (runner === undefined || head === undefined) return;
          for (const r of runner.running.values()) {
            lag.set({ projection: r.name }, Math.max(0, head - r.position));
          }
        },
      });
      scrapedBy.set(lag, this);
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
      this.parkedCounter = metrics.counter({
        name: 'projection_parked_events_total',
        help: 'Events a projection skipped after its handler kept failing on them (see ParkedEvents).',
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
      const maxAttempts = meta.options.maxAttempts ?? this.options.projections.maxAttempts;
      const onFailure = meta.options.onFailure ?? this.options.projections.onFailure;
      if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
        throw new EventSourcingError(
          `@Projection('${meta.name}'): maxAttempts must be an integer ≥ 1, got ${maxAttempts}`,
        );
      }
      if (onFailure !== 'park' && onFailure !== 'stop') {
        throw new EventSourcingError(
          `@Projection('${meta.name}'): onFailure must be 'park' or 'stop', got '${String(onFailure)}'`,
        );
      }
      const r: Running = {
        name: meta.name,
        instance,
        handlers,
        batchSize: meta.options.batchSize ?? this.options.projections.batchSize,
        onFailure,
        maxAttempts,
        position: 0,
        stopped: false,
        failures: 0,
        attempts: 0,
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

  /**
   * Clears the read model (`reset()`) and the projection's parked events, sets the checkpoint to
   * 0 and replays every event.
   */
  async rebuild(name: string): Promise<void> {
    const r = this.get(name);
    await this.stop(r);
    await this.es.run(async () => {
      await this.checkpoints.lock(name);
      await (r.instance as Partial<ResettableProjection>).reset?.();
      await this.parked.removeAll(name);
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
    // The checkpoint row before the first batch, in its own statement (a failure here is fine:
    // the batch's `lock` creates it too).
    await this.checkpoints.ensure(r.name).catch(() => undefined);
    r.position = await this.checkpoints.peek(r.name).catch(() => 0);
    while (!r.stopped) {
      const next = this.store.appended();
      let more = false;
      try {
        more = await this.batch(r);
        if (r.suspect === undefined) this.recovered(r);
      } catch (error) {
        if (await this.failed(r, error)) continue;
        // The lag keeps telling the truth while the projection is stuck (events keep arriving).
        await this.report(r);
        const delay = Math.min(30_000, 100 * 2 ** Math.min(r.failures, 9));
        this.log.error(
          {
            err: error instanceof EventFailure ? error.cause : error,
            projection: r.name,
            checkpoint: r.position,
            ...(r.suspect !== undefined ? { position: r.suspect, attempts: r.attempts } : {}),
            retryInMs: delay,
          },
          'projection batch failed; rolled back, will retry from the checkpoint',
        );
        await this.pause(r, delay);
        continue;
      }
      await this.report(r);
      if (more) continue;
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

  private recovered(r: Running): void {
    r.failures = 0;
    r.failingSince = undefined;
    r.lastError = undefined;
  }

  /**
   * Counts a failed batch. A handler failure makes its event the suspect (the next batches stop
   * before it, then try it alone); at `maxAttempts` under policy `park` it is parked. True when
   * the loop should go on at once (the event was parked).
   */
  private async failed(r: Running, error: unknown): Promise<boolean> {
    r.failures++;
    r.failingSince ??= Date.now();
    r.lastError = describeError(error instanceof EventFailure ? error.cause : error);
    this.errors?.inc({ projection: r.name });
    if (!(error instanceof EventFailure)) return false; // the store or the checkpoint: retry all
    const { position } = error.recorded;
    if (r.suspect === position) r.attempts++;
    else {
      r.suspect = position;
      r.attempts = 1;
    }
    const parkNow = r.onFailure === 'park' && r.attempts >= r.maxAttempts;
    if (!error.alone) {
      // Apply the events before it at once; it is retried alone (with backoff) after them.
      this.log.warn(
        { err: error.cause, projection: r.name, checkpoint: r.position, position },
        'projection batch failed on one event; applying the events before it, then retrying it alone',
      );
    }
    if (!parkNow) return !error.alone;
    try {
      await this.park(r, error.recorded, r.lastError);
    } catch (parkError) {
      this.log.error({ err: parkError, projection: r.name, position }, 'could not park the event');
      return false;
    }
    return true;
  }

  /**
   * Records `recorded` as parked and moves the checkpoint past it, once it is next in line: while
   * events before it are still to apply (it failed inside a full batch), the suspect stays and
   * the next batch applies them first.
   */
  private async park(r: Running, recorded: RecordedEvent, error: string): Promise<void> {
    let parked = false;
    let pending = false;
    await this.es.run(async () => {
      const from = await this.checkpoints.lock(r.name);
      const [next] = await this.store.readAll({ fromPosition: from, limit: 1 });
      if (next && next.position < recorded.position) {
        pending = true;
        return;
      }
      // Another instance applied or parked it meanwhile: nothing to skip.
      if (next?.position !== recorded.position) return;
      await this.parked.park({
        projection: r.name,
        position: recorded.position,
        eventId: recorded.event.id,
        streamId: recorded.streamId,
        type: eventTypeOf(recorded.event.constructor),
        error,
        attempts: r.attempts,
        parkedAt: Date.now(),
      });
      await this.checkpoints.save(r.name, recorded.position);
      parked = true;
    });
    if (parked) {
      r.position = recorded.position;
      this.parkedCounter?.inc({ projection: r.name });
      this.log.error(
        {
          projection: r.name,
          position: recorded.position,
          eventId: recorded.event.id,
          streamId: recorded.streamId,
          attempts: r.attempts,
          error,
        },
        'projection parked an event its handler kept failing on; replay it with ParkedEvents',
      );
    }
    if (pending) return;
    r.suspect = undefined;
    r.attempts = 0;
    this.recovered(r);
    await this.report(r);
  }

  /**
   * One batch in one transaction; true when more events may be waiting. While a suspect is
   * known, a batch holds the events before it, or the suspect alone.
   */
  private async batch(r: Running): Promise<boolean> {
    let last = r.position;
    let more = false;
    await this.es.run(async () => {
      const from = await this.checkpoints.lock(r.name);
      if (r.suspect !== undefined && r.suspect <= from) {
        r.suspect = undefined; // applied or parked by another instance
        r.attempts = 0;
      }
      let events: RecordedEvent[] = await this.store.readAll({
        fromPosition: from,
        limit: r.batchSize,
      });
      more = events.length >= r.batchSize;
      const suspect = r.suspect;
      if (suspect !== undefined) {
        const before = events.filter((e) => e.position < suspect);
        more ||= before.length < events.length;
        events = before.length > 0 ? before : events.slice(0, 1);
      }
      last = from;
      for (const recorded of events) {
        const handler = r.handlers.get(eventTypeOf(recorded.event.constructor));
        if (handler) {
          try {
            await handler(recorded.event, recorded);
          } catch (error) {
            throw new EventFailure(recorded, error, last === from);
          }
        }
        last = recorded.position;
      }
      if (last !== from) await this.checkpoints.save(r.name, last);
    });
    r.position = last;
    if (r.suspect !== undefined && last >= r.suspect) {
      r.suspect = undefined; // it went through this time
      r.attempts = 0;
    }
    return more;
  }

  /** @internal The handler `projection` has for `recorded`'s type (replays of parked events). */
  handler(projection: string, recorded: RecordedEvent): ProjectionHandlerFn | undefined {
    return this.get(projection).handlers.get(eventTypeOf(recorded.event.constructor));
  }

  private async report(r: Running): Promise<void> {
    this.positionGauge?.set({ projection: r.name }, r.position);
    const ready = r.waiters.filter((w) => r.position >= w.position);
    r.waiters = r.waiters.filter((w) => r.position < w.position);
    for (const w of ready) w.resolve();
  }
}
