import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnModuleInit,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { DiscoveryService, MetadataScanner, ModuleRef } from '@nestjs/core';
import { context as otel, trace, type Context, type Span, type Tracer } from '@opentelemetry/api';
import type { Counter, Histogram } from 'prom-client';
import {
  counterSeries,
  extractContext,
  extractRequestContext,
  getLogger,
  HealthRegistry,
  histogramSeries,
  injectContext,
  MetricsService,
  RequestContext,
  ShutdownService,
  type CounterSeries,
  type HistogramSeries,
  type RequestContextStore,
} from '@infrastructure/monitoring';
import { UnitOfWork } from '@infrastructure/persistence';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { DeadLetters } from './dead-letters.js';
import { DomainEvent, uuidv7 } from './domain-event.js';
import { EventBus, type PublishOptions } from './event-bus.js';
import {
  EVENT_HANDLER,
  type EventHandlerMetadata,
  type RetryPolicy,
} from './event-handler.decorator.js';
import {
  assertValidEvents,
  copyEnvelope,
  envelopeDefect,
  eventTypeOf,
  fromEnvelopeChecked,
  toEnvelope,
  type EventEnvelope,
} from './event-registry.js';
import {
  DEAD_LETTER_REASONS,
  malformedEnvelope,
  MessagingConfigError,
  PoisonMessageError,
  type DeadLetterReason,
} from './errors.js';
import { OutboxRelay } from './outbox/outbox.relay.js';
import { OutboxStore } from './outbox/outbox.store.js';
import { retryDelayMs, type ResolvedMessagingOptions } from './messaging.options.js';
import {
  endConsumerSpan,
  messagingTracer,
  recordFailure,
  runsByTrace,
  setMessageId,
  startConsumerSpan,
  startProducerSpan,
  storedContext,
} from './messaging.tracing.js';
import type {
  DeadLetterRecord,
  HandlingOutcome,
  OutgoingMessage,
  Transport,
  TransportMessage,
} from './transports/transport.js';

export const MESSAGING_OPTIONS = 'MESSAGING:OPTIONS';
export const MESSAGING_TRANSPORT = 'MESSAGING:TRANSPORT';

/** What the runtime reports to observers (tests, tooling) after each publish and each delivery. */
export type MessagingObservation =
  | { kind: 'published'; type: string; event: DomainEvent }
  | {
      kind: 'handled';
      type: string;
      group: string;
      outcome: HandlingOutcome;
      attempt: number;
      event?: DomainEvent;
      error?: unknown;
    };

/**
 * The EventBus implementation and the consumer pipeline: discovers `@EventHandler` methods,
 * subscribes them per consumer group, restores the publisher's context in handlers, retries with
 * backoff, dead-letters with failure headers, counts everything, and drains at shutdown.
 */
@Injectable()
export class MessagingRuntime
  extends EventBus
  implements OnModuleInit, OnApplicationBootstrap, OnApplicationShutdown
{
  private readonly log = getLogger('Messaging');
  private published?: Counter<'transport' | 'type'>;
  private consumed?: Counter<'transport' | 'type' | 'group' | 'outcome'>;
  private duration?: Histogram<'transport' | 'type' | 'group'>;
  private deadLettered?: Counter<'transport' | 'type' | 'group' | 'reason'>;
  /** Types subscribed here: the only `type` label values of dead letters (else `unknown`). */
  private readonly subscribedTypes = new Set<string>();
  private uow?: UnitOfWork;
  private store?: OutboxStore;
  private relay?: OutboxRelay;
  private outboxMode: 'always' | 'when-in-transaction' | 'never' = 'never';
  private inbox = false;
  private readonly observers = new Set<(o: MessagingObservation) => void>();
  private readonly subscriptions: Promise<void>[] = [];

  /** Subscribes to publish and delivery observations; returns the unsubscribe function. */
  observe(listener: (o: MessagingObservation) => void): () => void {
    this.observers.add(listener);
    return () => this.observers.delete(listener);
  }

  private notify(o: MessagingObservation): void {
    for (const listener of this.observers) listener(o);
  }

  constructor(
    @Inject(MESSAGING_OPTIONS) private readonly options: ResolvedMessagingOptions,
    @Inject(MESSAGING_TRANSPORT) private readonly transport: Transport,
    private readonly deadLetters: DeadLetters,
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly moduleRef: ModuleRef,
    private readonly context: RequestContext,
  ) {
    super();
    this.deadLetters.attach(transport);
  }

  private optional<T>(token: unknown): T | undefined {
    try {
      return this.moduleRef.get(token as never, { strict: false }) as T;
    } catch {
      return undefined;
    }
  }

  private metrics(): void {
    const metrics = this.optional<MetricsService>(MetricsService);
    if (!metrics) return;
    this.published = metrics.counter({
      name: 'messages_published_total',
      help: 'Messages published, by transport and event type.',
      labelNames: ['transport', 'type'],
    });
    this.consumed = metrics.counter({
      name: 'messages_consumed_total',
      help: 'Deliveries handled, by outcome (success, retry, dead_letter).',
      labelNames: ['transport', 'type', 'group', 'outcome'],
    });
    this.duration = metrics.histogram({
      name: 'message_handling_duration_seconds',
      help: 'Handler time per delivery.',
      labelNames: ['transport', 'type', 'group'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30],
    });
    this.deadLettered = metrics.counter({
      name: 'dead_letters_total',
      help: 'Messages sent to dead letters, by reason (malformed-envelope, unknown-type, unsupported-schema-version, invalid-payload, unhandled-type, poison, retries-exhausted).',
      labelNames: ['transport', 'type', 'group', 'reason'],
    });
  }

  /**
   * The messages `publish` hands to the transport (or the outbox) for `events`. For an in-process
   * transport (`Transport.inProcess`) each carries its envelope as data (`envelope`, nothing
   * shared with the event) and `body`, the JSON text, is written only when something reads it;
   * for a broker each carries `body` only.
   */
  toMessages(events: readonly DomainEvent[], options: PublishOptions = {}): OutgoingMessage[] {
    // The context headers are the same for every event of one publish: compute them once.
    const shared = injectContext({ ...options.headers, 'content-type': 'application/json' });
    // A broker gets the text only: its envelope is stringified at once, so nothing is copied
    // first. An in-process transport gets the envelope as data (copied: nothing shared).
    const inProcess = this.transport.inProcess === true;
    return events.map((event) => envelopeMessage(toEnvelope(event, inProcess), shared, inProcess));
  }

  /**
   * Not an `async` function: a publish outside a transaction makes no promise of its own besides
   * the transport's (an async frame per call was the biggest allocation of the in-process bus).
   * Errors still come as a rejection, never as a throw.
   */
  publish(
    events: DomainEvent | readonly DomainEvent[],
    options: PublishOptions = {},
  ): Promise<void> {
    try {
      const list = Array.isArray(events)
        ? (events as readonly DomainEvent[])
        : [events as DomainEvent];
      if (list.length === 0) return RESOLVED;
      // Every event of the batch is checked before any of them is published or written.
      const validating = assertValidEvents(list);
      if (validating) return validating.then(() => this.publishChecked(list, options));
      return this.publishChecked(list, options);
    } catch (error) {
      return Promise.reject(error as Error);
    }
  }

  /** `publish` of events that passed their schemas (a throw here becomes `publish`'s rejection). */
  private publishChecked(list: readonly DomainEvent[], options: PublishOptions): Promise<void> {
    // No closure per publish while nobody observes (the usual case outside tests).
    const notify =
      this.observers.size === 0
        ? noop
        : () => {
            for (const event of list) {
              this.notify({ kind: 'published', type: eventTypeOf(event.constructor), event });
            }
          };
    const tracer = messagingTracer();
    if (tracer) {
      const types = list.map((event) => eventTypeOf(event.constructor));
      return this.producing(tracer, types, () => this.toMessages(list, options), notify);
    }
    const messages = this.toMessages(list, options);
    if (this.store || this.uow?.active) return this.dispatch(messages, notify);
    // No outbox and no transaction: straight to the transport.
    const sent = this.send(messages);
    return notify === noop ? sent : sent.then(notify);
  }

  /**
   * Publishes under a PRODUCER span (`publish <type>`): the messages are built while it is
   * active, so their `traceparent` names it, and it covers the outbox write or the broker send.
   */
  private async producing(
    tracer: Tracer,
    types: readonly string[],
    build: () => OutgoingMessage[],
    notify: () => void,
  ): Promise<void> {
    const span = startProducerSpan(
      tracer,
      this.transport.name,
      'publish',
      this.usesOutbox() ? 'create' : 'send',
      types,
      otel.active(),
    );
    const ctx = trace.setSpan(otel.active(), span);
    try {
      await otel.with(ctx, () => {
        const messages = build();
        setMessageId(span, messages);
        return this.dispatch(messages, notify, ctx);
      });
    } catch (error) {
      recordFailure(span, error);
      throw error;
    } finally {
      span.end();
    }
  }

  /**
   * Publishes plain JSON `data` on `type` (what `ClientProxy.emit` of the Nest client does), with
   * the same headers, outbox and after-commit rules as `publish`.
   */
  async publishData(
    type: string,
    data: unknown,
    options: PublishOptions & { key?: string } = {},
  ): Promise<void> {
    const tracer = messagingTracer();
    if (!tracer) return this.dispatch(dataMessages(type, data, options), noop);
    await this.producing(tracer, [type], () => dataMessages(type, data, options), noop);
  }

  /** True when a publish now goes to the outbox (else straight to the transport). */
  private usesOutbox(): boolean {
    return (
      this.store !== undefined &&
      (this.outboxMode === 'always' ||
        (this.outboxMode === 'when-in-transaction' && (this.uow?.active ?? false)))
    );
  }

  /** `span`: the producer span's context, which a send deferred to after the commit keeps. */
  private async dispatch(
    messages: OutgoingMessage[],
    notify: () => void,
    span?: Context,
  ): Promise<void> {
    const inTransaction = this.uow?.active ?? false;
    if (this.store && this.usesOutbox()) {
      // Same transaction as the business write: both commit or neither does.
      await this.store.insert(
        inTransaction ? this.uow!.manager : this.store.dataSource.manager,
        messages,
      );
      const wake = () => {
        this.relay?.wake();
        notify();
      };
      if (inTransaction) await this.uow!.afterCommit(wake);
      else wake();
      return;
    }
    if (!inTransaction) {
      await this.send(messages);
      notify();
      return;
    }
    const send = async () => {
      await this.send(messages);
      notify();
    };
    // Without an outbox, events leave only once the unit of work has committed.
    await this.uow!.afterCommit(span ? otel.bind(span, send) : send);
  }

  /**
   * The outbox relay's send. With tracing on, each run of consecutive messages that carry one
   * trace context goes out under a `send <type>` span continuing that context (the publish span
   * stored with the rows), so the broker send and what the broker client records land in the
   * publisher's trace; a batch of several traces is sent as several ordered transport calls.
   */
  private async relaySend(messages: readonly OutgoingMessage[]): Promise<void> {
    const tracer = messagingTracer();
    if (!tracer) return this.send(messages);
    for (const run of runsByTrace(messages)) {
      const parent = storedContext(run[0]!.headers);
      const span = startProducerSpan(
        tracer,
        this.transport.name,
        'send',
        'send',
        run.map((m) => m.type),
        parent,
      );
      setMessageId(span, run);
      try {
        await otel.with(trace.setSpan(parent, span), () => this.send(run));
      } catch (error) {
        recordFailure(span, error);
        throw error;
      } finally {
        span.end();
      }
    }
  }

  /** Hands messages to the transport and counts them (the outbox relay publishes through here). */
  send(messages: readonly OutgoingMessage[]): Promise<void> {
    if (messages.length === 0) return RESOLVED;
    let sent: Promise<void>;
    try {
      sent = this.transport.publish(messages);
    } catch (error) {
      return Promise.reject(error as Error);
    }
    if (!this.published) return sent;
    return sent.then(() => this.countPublished(messages));
  }

  private countPublished(messages: readonly OutgoingMessage[]): void {
    if (messages.length === 1 || messages.every((m) => m.type === messages[0]!.type)) {
      this.publishedOf(messages[0]!.type).inc(messages.length);
      return;
    }
    for (const m of messages) this.publishedOf(m.type).inc();
  }

  private readonly publishedSeries = new Map<string, CounterSeries>();

  /** The `messages_published_total` series of `type` (resolved once per type). */
  private publishedOf(type: string): CounterSeries {
    let series = this.publishedSeries.get(type);
    if (!series) {
      series = counterSeries(this.published!, { transport: this.transport.name, type });
      // Types come from code (event classes, `publishData` callers); bound the memo anyway.
      if (this.publishedSeries.size < 1000) this.publishedSeries.set(type, series);
    }
    return series;
  }

  async onModuleInit(): Promise<void> {
    await this.setUpPersistence();
    await this.transport.connect();
    this.optional<HealthRegistry>(HealthRegistry)?.register(
      `messaging:${this.transport.name}`,
      () => this.transport.ping(),
      { critical: this.options.healthCritical },
    );
  }

  private async setUpPersistence(): Promise<void> {
    this.uow = this.optional<UnitOfWork>(UnitOfWork);
    const dataSource = this.optional<DataSource>(getDataSourceToken());
    const { outbox, inbox } = this.options;
    const wantsOutbox = outbox.mode !== 'never';
    if (!dataSource || !this.uow) {
      if ((outbox.explicit && wantsOutbox) || (inbox && inbox.explicit)) {
        throw new MessagingConfigError(
          'MessagingModule: options.outbox/options.inbox need the persistence lib (import PersistenceModule.forRoot), or set them to false',
        );
      }
      return;
    }
    if (!wantsOutbox && !inbox) return;
    this.store = new OutboxStore(dataSource);
    if (outbox.createTables) await this.store.ensureTables();
    else if (!(await this.store.tablesExist())) {
      throw new MessagingConfigError(
        'MessagingModule: tables outbox_messages/inbox_messages are missing: add messagingMigrations to your migrations, or set options.outbox.createTables to true',
      );
    }
    this.outboxMode = outbox.mode;
    this.inbox = inbox !== false;
    if (wantsOutbox && outbox.relay) {
      this.relay = new OutboxRelay(
        this.store,
        (messages) => this.relaySend(messages),
        {
          batchSize: outbox.batchSize,
          pollIntervalMs: outbox.pollIntervalMs,
          leaseMs: outbox.leaseMs,
          retentionMs: outbox.retentionMs,
          inboxRetentionMs: inbox ? inbox.retentionMs : 604_800_000,
          cleanupIntervalMs: outbox.cleanupIntervalMs,
        },
        this.transport.name,
      );
    }
  }

  /** The outbox relay of this instance, when it runs one (tests, tooling). */
  get outboxRelay(): OutboxRelay | undefined {
    return this.relay;
  }

  async onApplicationBootstrap(): Promise<void> {
    this.metrics();
    for (const wrapper of this.discovery.getProviders()) {
      const instance = wrapper.instance as Record<string, unknown> | undefined;
      if (!instance || typeof instance !== 'object' || !wrapper.isDependencyTreeStatic()) continue;
      const proto = Object.getPrototypeOf(instance) as object;
      for (const method of this.scanner.getAllMethodNames(proto)) {
        const handlers = Reflect.getMetadata(EVENT_HANDLER, proto, method) as
          EventHandlerMetadata[] | undefined;
        for (const h of handlers ?? []) this.subscribe(instance, method, h);
      }
    }
    await Promise.all(this.subscriptions);
    const metrics = this.optional<MetricsService>(MetricsService);
    if (metrics) this.relay?.instrument(metrics);
    this.relay?.start();
    this.optional<ShutdownService>(ShutdownService)?.registerDrainHook('messaging', () =>
      this.stop(),
    );
  }

  private stopping?: Promise<void>;

  /** Flushes the outbox relay, then stops consuming and closes the transport (once). */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await this.relay?.stop();
      await this.transport.close();
    })();
    return this.stopping;
  }

  private subscribe(
    instance: Record<string, unknown>,
    method: string,
    h: EventHandlerMetadata,
  ): void {
    const type = eventTypeOf(h.event);
    const group =
      h.options.group ?? `${this.options.serviceName}.${instance.constructor.name}.${method}`;
    const fn = (instance[method] as (event: DomainEvent) => unknown).bind(instance);
    this.subscriptions.push(
      this.consume(type, group, h.options, (body) => fromEnvelopeChecked(body), fn),
    );
  }

  /**
   * Subscribes `fn` to `type` for `group` through the full pipeline (per-key order, context
   * restore, inbox, retries, dead letters, metrics). `decode` turns the parsed JSON body into the
   * handler's argument and throws {@link PoisonMessageError} for what can never be handled.
   * `@EventHandler` methods and `@EventPattern` handlers of the Nest server both come through here.
   */
  async consume<T>(
    type: string,
    group: string,
    options: { retry?: RetryPolicy; concurrency?: number; inbox?: boolean },
    decode: (body: unknown) => T | Promise<T>,
    fn: (value: T) => unknown,
  ): Promise<void> {
    this.subscribedTypes.add(type);
    const consumer: Consumer<T> = {
      type,
      group,
      retry: { ...this.options.retry, ...options.retry },
      inbox: options.inbox !== false,
      decode,
      fn,
    };
    // One key's deliveries run one after the other (per-key order with concurrent handlers).
    const lanes = new Map<string, KeyLane>();
    const ordered = (message: TransportMessage) => {
      const key = message.headers['x-message-key'];
      if (!key) return this.handle(consumer, message);
      let lane = lanes.get(key);
      if (!lane) {
        // Idle lanes stay for the next delivery of their key; past the bound they are dropped.
        if (lanes.size >= IDLE_LANES)
          for (const [k, l] of lanes) if (l.pending === 0) lanes.delete(k);
        lanes.set(key, (lane = { tail: undefined, pending: 0 }));
      }
      const current = lane;
      current.pending++;
      // Called once when this delivery is decided (it may be at once, when nothing in it waits).
      const done = () => {
        if (--current.pending === 0) current.tail = undefined;
      };
      // Nothing of this key in flight: start now (no extra turn through a resolved promise).
      let result: Promise<Decision>;
      if (current.tail) {
        const run = () => this.handle(consumer, message, done);
        result = current.tail.then(run, run);
      } else {
        result = this.handle(consumer, message, done);
      }
      if (current.pending > 0) current.tail = result;
      return result;
    };
    await this.transport.subscribe(type, group, ordered, {
      prefetch: options.concurrency ?? this.options.prefetch,
      deadLetter: (letter) => this.storeTransportDeadLetter(letter),
    });
    this.log.debug({ type, group }, 'subscribed');
  }

  private readonly children = new Map<string, ChildMetrics>();

  /** Label children of one (type, group), resolved once: prom-client label lookups are not free. */
  private childMetrics(type: string, group: string): ChildMetrics | undefined {
    if (!this.duration || !this.consumed) return undefined;
    const key = `${type}\u0000${group}`;
    let found = this.children.get(key);
    if (!found) {
      const labels = { transport: this.transport.name, type, group };
      const consumed = this.consumed;
      const byOutcome = new Map<string, CounterSeries>();
      const outcome = (name: string) => {
        let child = byOutcome.get(name);
        if (!child)
          byOutcome.set(name, (child = counterSeries(consumed, { ...labels, outcome: name })));
        return child;
      };
      found = {
        duration: histogramSeries(this.duration, labels),
        success: outcome('success'),
        consumed: outcome,
      };
      this.children.set(key, found);
    }
    return found;
  }

  /** A consumer's metric series, resolved at the first delivery once the metrics exist. */
  private metricsOf<T>(consumer: Consumer<T>): ChildMetrics | undefined {
    return (consumer.metrics ??= this.childMetrics(consumer.type, consumer.group));
  }

  private handle<T>(
    consumer: Consumer<T>,
    message: TransportMessage,
    done?: () => void,
  ): Promise<Decision> {
    const tracer = messagingTracer();
    if (!tracer) {
      return this.handleIn(
        consumer,
        message,
        extractRequestContext(message.headers),
        undefined,
        done,
      );
    }
    const { store, otel: carried } = extractContext(message.headers);
    // A CONSUMER span continuing the publisher's context, active around the handler.
    const consumerSpan = startConsumerSpan(
      tracer,
      this.transport.name,
      consumer.type,
      consumer.group,
      message.attempt,
      message.headers['x-message-id'],
      carried,
    );
    return otel.with(consumerSpan.context, () =>
      this.handleIn(consumer, message, store, consumerSpan.span, done),
    );
  }

  private handleIn<T>(
    consumer: Consumer<T>,
    message: TransportMessage,
    store: RequestContextStore,
    span: Span | undefined,
    done: (() => void) | undefined,
  ): Promise<Decision> {
    let body: unknown;
    let unparsable: unknown;
    if (message.envelope) {
      // In process: a copy of the envelope, as parsing its text would give (no handler shares data).
      body = copyEnvelope(message.envelope);
    } else {
      try {
        body = parseBody(message.body);
      } catch (error) {
        unparsable = error;
      }
    }
    // A bare envelope (put on the queue by something else, without our headers) carries its id
    // in the body: the inbox and the causation id use it, so a redelivery is still a duplicate.
    const messageId = message.headers['x-message-id'] ?? envelopeIdOf(body);
    if (messageId) store.causationId = messageId;
    const handling = new Handling(
      consumer,
      message,
      messageId,
      this.metricsOf(consumer),
      span,
      done,
    );
    return this.context.run(store, () => this.deliver(handling, body, unparsable));
  }

  /**
   * Decodes and runs the handler, then decides. Synchronous while nothing is pending: a decode
   * without a schema and a handler that returns no promise settle in this turn, with no async
   * frame (the failure paths and the inbox are `async`).
   */
  private deliver<T>(h: Handling<T>, body: unknown, unparsable: unknown): Promise<Decision> {
    let result: unknown;
    try {
      if (unparsable !== undefined) throw unparsable;
      const parsed = h.consumer.decode(body);
      if (isThenable(parsed) || this.usesInbox(h)) return this.deliverLater(h, parsed);
      if (parsed instanceof DomainEvent) h.event = parsed;
      result = h.consumer.fn(parsed);
    } catch (error) {
      return this.failed(h, error);
    }
    if (!isThenable(result)) return this.decided(h, 'success');
    return Promise.resolve(result).then(
      () => this.decided(h, 'success'),
      (error: unknown) => this.failed(h, error),
    );
  }

  private usesInbox<T>(h: Handling<T>): boolean {
    return (
      h.consumer.inbox &&
      this.inbox &&
      this.store !== undefined &&
      this.uow !== undefined &&
      h.messageId !== undefined
    );
  }

  /** {@link deliver} for a decode that returned a promise (a schema), or through the inbox. */
  private async deliverLater<T>(h: Handling<T>, decoding: T | Promise<T>): Promise<Decision> {
    let duplicate = false;
    try {
      const parsed = await decoding;
      if (parsed instanceof DomainEvent) h.event = parsed;
      if (this.usesInbox(h)) {
        const { store: inbox, uow } = this;
        const messageId = h.messageId!;
        await uow!.run(async () => {
          // The inbox row and the handler's writes commit together: once per message and group.
          if (await inbox!.markProcessed(uow!.manager, messageId, h.consumer.group)) {
            await h.consumer.fn(parsed);
          } else {
            duplicate = true;
          }
        });
      } else {
        await h.consumer.fn(parsed);
      }
    } catch (error) {
      return this.failed(h, error);
    }
    return this.decided(h, duplicate ? 'duplicate' : 'success');
  }

  /** A handler (or decode) failed: retry it, or dead-letter it after the last attempt. */
  private async failed<T>(h: Handling<T>, error: unknown): Promise<Decision> {
    try {
      const { type, group, retry } = h.consumer;
      const attempt = h.message.attempt;
      const poison = error instanceof PoisonMessageError;
      if (!poison && attempt < retry.attempts) {
        const delayMs = retryDelayMs(retry, attempt, error);
        this.log.warn(
          { err: error, type, group, attempt, retryInMs: delayMs },
          'handler failed; will retry',
        );
        return await this.decided(h, 'retry', delayMs, error);
      }
      try {
        const why = poison
          ? { reason: error.reason, text: error.deadLetterReason }
          : {
              reason: 'retries-exhausted' as const,
              text: `retries-exhausted: ${attempt} attempt${attempt === 1 ? '' : 's'}`,
            };
        await this.deadLetter(type, group, h.message, error, why);
      } catch (storeError) {
        // The dead-letter destination is down: keep the message (no ack) and try later.
        this.log.error(
          { err: storeError, type, group },
          'could not store dead letter; will redeliver',
        );
        return await this.decided(h, 'retry', retry.maxDelayMs, error);
      }
      return await this.decided(h, 'dead_letter', undefined, error);
    } finally {
      h.finish();
    }
  }

  /**
   * Records what was decided (metrics, span, observers) and tells the transport. Never throws: a
   * throwing observer makes the delivery's promise reject, as an `async` pipeline did.
   */
  private decided<T>(
    h: Handling<T>,
    outcome: HandlingOutcome | 'duplicate',
    delayMs?: number,
    failure?: unknown,
  ): Promise<Decision> {
    try {
      const { type, group } = h.consumer;
      const { metrics, span } = h;
      if (metrics) {
        metrics.duration.observe((performance.now() - h.started) / 1000);
        if (outcome === 'success') metrics.success.inc();
        else metrics.consumed(outcome).inc();
      }
      if (span) endConsumerSpan(span, outcome, failure);
      const reported = outcome === 'duplicate' ? 'success' : outcome;
      if (outcome === 'duplicate') {
        this.log.debug(
          { type, group, messageId: h.messageId },
          'duplicate delivery skipped (inbox)',
        );
      }
      if (this.observers.size > 0) {
        this.notify({
          kind: 'handled',
          type,
          group,
          outcome: reported,
          attempt: h.message.attempt,
          event: h.event,
          error: failure,
        });
      }
      return reported === 'success' ? SUCCEEDED : Promise.resolve({ outcome: reported, delayMs });
    } catch (error) {
      return Promise.reject(error as Error);
    } finally {
      h.finish();
    }
  }

  private async deadLetter(
    type: string,
    group: string,
    message: TransportMessage,
    error: unknown,
    why: { reason: DeadLetterReason; text: string },
  ): Promise<void> {
    const e = error instanceof Error ? error : new Error(String(error));
    await this.deadLetters.add(
      {
        type,
        group,
        body: message.body,
        headers: {
          ...message.headers,
          'x-exception-message': e.message.slice(0, 1000),
          'x-exception-type': e.name,
          'x-dead-letter-reason': why.text.slice(0, 1000),
          'x-attempts': String(message.attempt),
          'x-original-destination': `${type}#${group}`,
          'x-failed-at': new Date().toISOString(),
        },
      },
      () => this.countDeadLetter(type, group, why.reason),
    );
    this.log.error(
      { err: e, type, group, attempts: message.attempt, reason: why.text },
      'message dead-lettered',
    );
  }

  /**
   * A dead letter a transport decided on itself (a delivery none of the group's subscriptions
   * takes): stored like the pipeline's, counted and logged.
   */
  private async storeTransportDeadLetter(letter: Omit<DeadLetterRecord, 'id'>): Promise<void> {
    const text = letter.headers['x-dead-letter-reason'] ?? '';
    await this.deadLetters.add(letter, () => {
      this.countDeadLetter(letter.type, letter.group, reasonOf(text));
      this.childMetrics(this.typeLabel(letter.type), letter.group)?.consumed('dead_letter').inc();
    });
    this.notify({
      kind: 'handled',
      type: letter.type,
      group: letter.group,
      outcome: 'dead_letter',
      attempt: Number(letter.headers['x-attempts']) || 1,
    });
    this.log.error(
      { type: letter.type, group: letter.group, reason: text },
      'message dead-lettered by the transport',
    );
  }

  /** A type label value: a type subscribed here, else `unknown` (foreign input stays bounded). */
  private typeLabel(type: string): string {
    return this.subscribedTypes.has(type) ? type : 'unknown';
  }

  private countDeadLetter(type: string, group: string, reason: DeadLetterReason): void {
    this.deadLettered?.inc({
      transport: this.transport.name,
      type: this.typeLabel(type),
      group,
      reason,
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.stop();
  }
}

function noop(): void {}

const RESOLVED: Promise<void> = Promise.resolve();

/** What the pipeline tells the transport about one delivery. */
type Decision = { outcome: HandlingOutcome; delayMs?: number };

const SUCCEEDED: Promise<Decision> = Promise.resolve(Object.freeze({ outcome: 'success' }));

/** One delivery on its way through the pipeline (one object instead of a closure per step). */
class Handling<T> {
  event?: DomainEvent;
  readonly started = performance.now();

  constructor(
    readonly consumer: Consumer<T>,
    readonly message: TransportMessage,
    readonly messageId: string | undefined,
    readonly metrics: ChildMetrics | undefined,
    readonly span: Span | undefined,
    private done: (() => void) | undefined,
  ) {}

  /** Tells the per-key lane this delivery is decided; once, whichever path gets there first. */
  finish(): void {
    const done = this.done;
    if (done) {
      this.done = undefined;
      done();
    }
  }
}

/** One subscription of the pipeline: what `consume` was given, resolved once. */
interface Consumer<T> {
  type: string;
  group: string;
  retry: ResolvedMessagingOptions['retry'];
  inbox: boolean;
  decode: (body: unknown) => T | Promise<T>;
  fn: (value: T) => unknown;
  /** Resolved at the first delivery after the metrics were registered. */
  metrics?: ChildMetrics;
}

interface ChildMetrics {
  duration: HistogramSeries;
  success: CounterSeries;
  consumed: (outcome: string) => CounterSeries;
}

/** Idle per-key lanes a consumer keeps (a sweep drops them all past this many keys). */
const IDLE_LANES = 1024;

/** The deliveries of one ordering key in flight here: the next one waits for `tail`. */
interface KeyLane {
  tail: Promise<unknown> | undefined;
  pending: number;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/**
 * One published event's message for an in-process transport: `body`, the envelope's JSON text,
 * is written only if something reads it (a dead letter, the outbox), never on the way to a
 * handler. A prototype getter (an object literal with a getter is built on V8's slow path).
 */
class LazyBodyMessage implements OutgoingMessage {
  private text?: string;
  key?: string;

  constructor(
    readonly type: string,
    readonly headers: Record<string, string>,
    readonly envelope: EventEnvelope,
  ) {}

  get body(): string {
    return (this.text ??= JSON.stringify(this.envelope));
  }
}

/** One published event's message (`lazyBody`: see {@link LazyBodyMessage}). */
function envelopeMessage(
  envelope: EventEnvelope,
  shared: Record<string, string>,
  lazyBody: boolean,
): OutgoingMessage {
  const headers: Record<string, string> = {
    ...shared,
    'x-message-id': envelope.id,
    'x-message-type': envelope.type,
  };
  const key = envelope.aggregateId || undefined;
  if (key) headers['x-message-key'] = key;
  if (lazyBody) {
    const message = new LazyBodyMessage(envelope.type, headers, envelope);
    if (key) message.key = key;
    return message;
  }
  return {
    type: envelope.type,
    body: JSON.stringify(envelope),
    headers,
    ...(key ? { key } : {}),
  };
}

/** The one message `publishData` sends; built in the producer span's context when tracing. */
function dataMessages(
  type: string,
  data: unknown,
  options: PublishOptions & { key?: string },
): OutgoingMessage[] {
  return [
    {
      type,
      body: JSON.stringify(data ?? null),
      headers: injectContext({
        ...options.headers,
        'x-message-id': uuidv7(),
        'x-message-type': type,
        'content-type': 'application/json',
        ...(options.key ? { 'x-message-key': options.key } : {}),
      }),
      ...(options.key ? { key: options.key } : {}),
    },
  ];
}

function parseBody(body: string): unknown {
  try {
    return JSON.parse(body) as unknown;
  } catch {
    throw malformedEnvelope('body is not JSON');
  }
}

/** The id of a parsed body that is one of our envelopes; undefined for anything else. */
function envelopeIdOf(body: unknown): string | undefined {
  return envelopeDefect(body) === undefined ? (body as EventEnvelope).id : undefined;
}

/** The reason category of an `x-dead-letter-reason` value; `poison` when it names none. */
function reasonOf(text: string): DeadLetterReason {
  const head = text.split(':', 1)[0]!.trim();
  return (DEAD_LETTER_REASONS as readonly string[]).includes(head)
    ? (head as DeadLetterReason)
    : 'poison';
}
