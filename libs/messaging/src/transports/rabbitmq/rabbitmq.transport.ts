import { createHash, randomUUID } from 'node:crypto';
import type {
  Channel,
  ChannelModel,
  ConfirmChannel,
  ConsumeMessage,
  Message,
  MessagePropertyHeaders,
  Options,
  RecoveringChannelModel,
} from 'amqplib';
import { maskUrlPassword, loadDriver } from '@infrastructure/core';
import { getLogger } from '@infrastructure/monitoring';
import { MessagingConfigError } from '../../errors.js';
import { wakeableSleep } from '../wakeable-sleep.js';
import { inspectUnrouted, transportFailureHeaders, type DeadLetterSink } from '../unrouted.js';
import type {
  DeadLetterRecord,
  DeliveryHandler,
  OutgoingMessage,
  SubscribeOptions,
  Transport,
  TransportMessage,
  TransportOptions,
} from '../transport.js';

type Amqp = typeof import('amqplib');

/** RabbitMQ-specific settings (the second argument of {@link createRabbitMqTransport}). */
export interface RabbitMqTransportOptions {
  /**
   * Type of each group's queue and retry queue. Quorum queues are replicated (use them on a
   * cluster); classic queues are faster on one node. A queue keeps the type it was created with:
   * switching an existing group fails with 406 PRECONDITION_FAILED until its queues are deleted.
   * @default 'classic'
   */
  queueType?: 'classic' | 'quorum';
  /** AMQP heartbeat (seconds) when the URL sets none: how soon a silent dead TCP link is noticed. @default 10 */
  heartbeatSeconds?: number;
  /** First delay before reconnecting; doubles (with jitter) up to `maxReconnectDelayMs`. @default 100 */
  reconnectDelayMs?: number;
  /** Longest delay between reconnect attempts (the transport never gives up once connected). @default 5000 */
  maxReconnectDelayMs?: number;
  /** Reconnect attempts at startup before `connect()` fails (the broker is down at boot). @default 3 */
  initialConnectRetries?: number;
  /** TCP connect timeout (ms). @default 5000 */
  connectTimeoutMs?: number;
  /**
   * How long `publish`, `deadLetter` and `redeliver` wait for a connection, and keep re-sending a
   * batch whose confirms a connection drop cut off, before they reject.
   * @default 15000
   */
  publishTimeoutMs?: number;
  /**
   * Delay before a well-formed delivery of a type this process has no handler for in that group
   * (a binding left by another version of the service, e.g. during a rolling deploy) goes back to
   * the queue. A delivery that is no message of ours (not JSON, no type, no id) gets no grace: it
   * is dead-lettered at once (`x-dead-letter-reason: malformed-envelope: …`).
   * @default 5000
   */
  unhandledRetryDelayMs?: number;
  /**
   * How many times such a delivery goes back before it is dead-lettered (`UnhandledTypeError`,
   * `x-dead-letter-reason: unhandled-type: <type>`). @default 60
   */
  unhandledMaxRequeues?: number;
}

/** Connection state changes, for tests and tooling (see {@link RabbitMqTransport.observe}). */
export interface RabbitMqConnectionEvent {
  kind: 'connected' | 'disconnected';
  role: 'publisher' | 'consumer';
}

interface Subscription {
  handler: DeliveryHandler;
  prefetch: number;
  active: number;
  /** Deliveries waiting for a slot; resolved with `false` when the transport stops. */
  waiting: Array<(run: boolean) => void>;
}

interface Group {
  name: string;
  queue: string;
  retryQueue: string;
  /** Handlers by event type: one queue per group, dispatched by the message type. */
  subs: Map<string, Subscription>;
  channel?: ConfirmChannel;
  consumerTag?: string;
  /** Prefetch the current consumer was created with (sum of the subscriptions' prefetch). */
  prefetch: number;
  /** Where deliveries no subscription takes are dead-lettered (the runtime's, when it gave one). */
  deadLetter?: DeadLetterSink;
}

/** Broker-added or transport-private headers that never reach handlers or dead letters. */
const INTERNAL_HEADERS = new Set([
  'x-attempt',
  'x-unhandled',
  'x-death',
  'x-delivery-count',
  'x-dead-letter-type',
  'x-dead-letter-group',
]);
const isInternalHeader = (key: string) =>
  INTERNAL_HEADERS.has(key) || /^x-(first|last)-death-/.test(key);

const HANDLER_BUG_RETRY_MS = 5_000;

const noop = () => {};

const errorMessage = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** A failure caused by the channel or connection going away (worth re-sending), not a broker nack. */
const isConnectionLoss = (error: unknown) =>
  (error instanceof Error && error.name === 'IllegalOperationError') ||
  /closed|closing|connection/i.test(errorMessage(error));

/**
 * RabbitMQ transport on amqplib 2.3.
 *
 * Topology (all durable, prefixed with the namespace):
 * - topic exchange `<ns>`; events are published with routing key = event type, persistent,
 *   `mandatory` (an unroutable event, i.e. no group bound yet, is logged at debug: normal);
 * - per group a queue `<ns>.<group>` (classic or quorum) bound once per subscribed type, consumed
 *   by one consumer whose prefetch is the sum of the group's subscriptions (handler concurrency is
 *   then capped per type in process);
 * - per group a retry queue `<ns>.<group>.retry` without consumers: a retried delivery is copied
 *   there with per-message `expiration` = delay and `x-attempt` + 1 (confirmed), then the original
 *   is acked; on expiry the broker dead-letters it back to the group queue. Nothing waits in
 *   process memory, so a crash never loses a retry;
 * - a classic queue `<ns>.dead-letters` holding dead letters (listed with basic.get + requeue).
 *
 * Two connections (publisher, consumer) so a publisher blocked by a broker alarm cannot stall the
 * acks of consumers; both use amqplib's built-in recovery, whose `setup` re-declares the topology
 * and re-attaches every consumer on each reconnect.
 */
export class RabbitMqTransport implements Transport {
  readonly name = 'rabbitmq';
  private readonly log = getLogger('RabbitMqTransport');
  private readonly settings: Required<RabbitMqTransportOptions>;
  private readonly exchange: string;
  private readonly deadLetterQueue: string;
  private readonly safeUrl: string;
  private publisherConnection?: RecoveringChannelModel;
  private consumerConnection?: RecoveringChannelModel;
  /** The live publisher connection and its confirm channel; undefined while reconnecting. */
  private publisher?: { model: ChannelModel; channel: ConfirmChannel };
  /** The live consumer connection; undefined while reconnecting. */
  private consumerModel?: ChannelModel;
  private readonly closedModels = new WeakSet<ChannelModel>();
  private readonly groups = new Map<string, Group>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly publisherWaiters = new Set<() => void>();
  private readonly observers = new Set<(event: RabbitMqConnectionEvent) => void>();
  /** Correlation ids of `redeliver` publishes, set to true when the broker returned them. */
  private readonly redeliveries = new Map<string, boolean>();
  /** Consumer topology changes run one at a time (subscribe vs reconnect setup). */
  private consumerOps: Promise<void> = Promise.resolve();
  /** Dead-letter reads run one at a time: a read hides the letters it holds until it requeues them. */
  private deadLetterOps: Promise<unknown> = Promise.resolve();
  private stopping = false;
  private closed = false;
  private closing?: Promise<void>;

  /** Loads amqplib (an optional peer) and builds the transport; see {@link createRabbitMqTransport}. */
  static async create(
    options: TransportOptions,
    settings: RabbitMqTransportOptions = {},
  ): Promise<RabbitMqTransport> {
    const amqp = await loadDriver<Amqp>('amqplib', 'RabbitMQ transport');
    return new RabbitMqTransport(amqp, options, settings);
  }

  // Private: its declaration would name amqplib's types, and amqplib is an optional peer.
  private constructor(
    private readonly amqp: Amqp,
    private readonly options: TransportOptions,
    settings: RabbitMqTransportOptions = {},
  ) {
    if (!options.url) {
      throw new MessagingConfigError(
        'MessagingModule: options.url is required for transport rabbitmq (e.g. amqp://guest:guest@127.0.0.1:5672)',
      );
    }
    this.settings = {
      queueType: settings.queueType ?? 'classic',
      heartbeatSeconds: settings.heartbeatSeconds ?? 10,
      reconnectDelayMs: settings.reconnectDelayMs ?? 100,
      maxReconnectDelayMs: settings.maxReconnectDelayMs ?? 5_000,
      initialConnectRetries: settings.initialConnectRetries ?? 3,
      connectTimeoutMs: settings.connectTimeoutMs ?? 5_000,
      publishTimeoutMs: settings.publishTimeoutMs ?? 15_000,
      unhandledRetryDelayMs: settings.unhandledRetryDelayMs ?? 5_000,
      unhandledMaxRequeues: settings.unhandledMaxRequeues ?? 60,
    };
    this.exchange = options.namespace;
    this.deadLetterQueue = `${options.namespace}.dead-letters`;
    this.safeUrl = maskUrlPassword(options.url);
  }

  /** Listens to connection state changes; returns the function that stops listening. */
  observe(listener: (event: RabbitMqConnectionEvent) => void): () => void {
    this.observers.add(listener);
    return () => this.observers.delete(listener);
  }

  private notify(event: RabbitMqConnectionEvent): void {
    for (const listener of this.observers) listener(event);
  }

  // ---------------------------------------------------------------- connections

  async connect(): Promise<void> {
    if (this.publisherConnection) return;
    try {
      this.publisherConnection = await this.open('publisher', (m) => this.setupPublisher(m));
      this.consumerConnection = await this.open('consumer', (m) => this.setupConsumer(m));
      await Promise.all([
        this.publisherConnection.waitForConnect(),
        this.consumerConnection.waitForConnect(),
      ]);
    } catch (error) {
      await this.publisherConnection?.close().catch(noop);
      await this.consumerConnection?.close().catch(noop);
      this.publisherConnection = this.consumerConnection = undefined;
      throw new Error(
        `RabbitMQ transport: cannot connect to ${this.safeUrl}: ${errorMessage(error)}`,
        {
          cause: error,
        },
      );
    }
    this.log.info({ url: this.safeUrl, namespace: this.exchange }, 'connected to RabbitMQ');
  }

  private async open(
    role: RabbitMqConnectionEvent['role'],
    setup: (model: ChannelModel) => Promise<void>,
  ): Promise<RecoveringChannelModel> {
    const url = new URL(this.options.url!);
    if (!url.searchParams.has('heartbeat')) {
      url.searchParams.set('heartbeat', String(this.settings.heartbeatSeconds));
    }
    // waitForConnect: false resolves at once, so the listeners are in place before the first attempt.
    const connection = await this.amqp.connect(url.toString(), {
      timeout: this.settings.connectTimeoutMs,
      clientProperties: { connection_name: `${this.options.serviceName} ${role}` },
      recovery: {
        initialDelay: this.settings.reconnectDelayMs,
        maxDelay: this.settings.maxReconnectDelayMs,
        initialMaxRetries: this.settings.initialConnectRetries,
        waitForConnect: false,
        setup,
      },
    });
    connection.on('error', (err: Error) =>
      this.log.warn({ err: errorMessage(err), role }, 'RabbitMQ connection error'),
    );
    connection.on('connect-failed', (err: Error) =>
      this.log.warn({ err: errorMessage(err), role, url: this.safeUrl }, 'RabbitMQ connect failed'),
    );
    connection.on('reconnect-scheduled', (info: { attempt: number; delay: number }) =>
      this.log.debug({ role, attempt: info.attempt, delayMs: info.delay }, 'reconnect scheduled'),
    );
    connection.on('reconnect-failed', (err: Error) =>
      this.log.error({ err: errorMessage(err), role }, 'RabbitMQ reconnect gave up'),
    );
    return connection;
  }

  private async setupPublisher(model: ChannelModel): Promise<void> {
    this.watchModel(model, 'publisher', () => {
      if (this.publisher?.model === model) this.publisher = undefined;
    });
    const channel = await model.createConfirmChannel();
    channel.on('error', (err: Error) => this.log.warn({ err }, 'publisher channel error'));
    channel.on('return', (message: Message) => this.onReturn(message));
    channel.on('close', () => {
      if (this.publisher?.channel !== channel) return;
      this.publisher = undefined;
      this.escalate(model, 'publisher channel closed');
    });
    await channel.assertExchange(this.exchange, 'topic', { durable: true });
    // Always classic: basic.get + requeue keeps the order of a classic queue.
    await channel.assertQueue(this.deadLetterQueue, { durable: true });
    this.publisher = { model, channel };
    for (const wake of this.publisherWaiters) wake();
    this.notify({ kind: 'connected', role: 'publisher' });
  }

  private async setupConsumer(model: ChannelModel): Promise<void> {
    this.watchModel(model, 'consumer', () => {
      if (this.consumerModel !== model) return;
      this.consumerModel = undefined;
      for (const group of this.groups.values()) group.channel = undefined;
    });
    await this.serialConsumerOp(async () => {
      this.consumerModel = model;
      for (const group of this.groups.values()) {
        if (group.subs.size > 0) await this.attach(model, group);
      }
    });
    this.notify({ kind: 'connected', role: 'consumer' });
  }

  private watchModel(
    model: ChannelModel,
    role: RabbitMqConnectionEvent['role'],
    onClose: () => void,
  ): void {
    // The recovering wrapper re-emits errors (logged there); a raw model must not throw on one.
    model.on('error', noop);
    model.on('blocked', (reason: string) =>
      this.log.warn({ reason, role }, 'RabbitMQ blocked the connection (resource alarm)'),
    );
    model.on('close', () => {
      this.closedModels.add(model);
      onClose();
      if (this.closed) return;
      this.log.warn({ role, url: this.safeUrl }, 'RabbitMQ connection lost; reconnecting');
      this.notify({ kind: 'disconnected', role });
    });
  }

  /** A channel died under a live connection: reconnect everything (setup rebuilds it all). */
  private escalate(model: ChannelModel, why: string): void {
    if (this.stopping || this.closedModels.has(model)) return;
    this.log.warn({ reason: why }, 'RabbitMQ channel lost; reopening the connection');
    model.close().catch(noop);
  }

  // ---------------------------------------------------------------- publishing

  async publish(messages: readonly OutgoingMessage[]): Promise<void> {
    if (messages.length === 0) return;
    await this.withPublisher('publish', async (channel) => {
      const confirms: Promise<void>[] = [];
      for (const m of messages) {
        const { ok, confirmed } = this.send(channel, this.exchange, m.type, m.body, {
          ...this.properties(m.type, m.headers),
          mandatory: true,
        });
        confirms.push(confirmed);
        if (!ok) await this.drained(channel);
      }
      // One wait for the whole batch (awaiting each confirm in turn is ~10x slower).
      await Promise.all(confirms);
    });
  }

  async redeliver(group: string, message: OutgoingMessage): Promise<void> {
    const queue = this.queueOf(group);
    const correlationId = randomUUID();
    const headers = Object.fromEntries(
      Object.entries(message.headers).filter(([k]) => !isInternalHeader(k)),
    );
    this.redeliveries.set(correlationId, false);
    try {
      await this.withPublisher('redeliver', async (channel) => {
        await this.send(channel, '', queue, message.body, {
          ...this.properties(message.type, headers),
          mandatory: true,
          correlationId,
        }).confirmed;
      });
      // The broker sends basic.return before the confirm: it has been seen by now.
      if (this.redeliveries.get(correlationId)) {
        throw new Error(`RabbitMQ transport: group "${group}" has no queue (${queue})`);
      }
    } finally {
      this.redeliveries.delete(correlationId);
    }
  }

  async deadLetter(letter: Omit<DeadLetterRecord, 'id'>): Promise<void> {
    await this.withPublisher('deadLetter', async (channel) => {
      await this.send(channel, '', this.deadLetterQueue, letter.body, {
        ...this.properties(letter.type, {
          ...letter.headers,
          'x-dead-letter-type': letter.type,
          'x-dead-letter-group': letter.group,
        }),
        messageId: randomUUID(),
        mandatory: true,
      }).confirmed;
    });
  }

  private properties(type: string, headers: Record<string, string>): Options.Publish {
    return {
      persistent: true,
      type,
      headers,
      ...(headers['x-message-id'] ? { messageId: headers['x-message-id'] } : {}),
      ...(headers['content-type'] ? { contentType: headers['content-type'] } : {}),
    };
  }

  /** Publishes one message on a confirm channel; `confirmed` settles on the broker's ack/nack. */
  private send(
    channel: ConfirmChannel,
    exchange: string,
    routingKey: string,
    body: string | Buffer,
    properties: Options.Publish,
  ): { ok: boolean; confirmed: Promise<void> } {
    let ok = true;
    const confirmed = new Promise<void>((resolve, reject) => {
      try {
        ok = channel.publish(
          exchange,
          routingKey,
          typeof body === 'string' ? Buffer.from(body) : body,
          properties,
          (err: unknown) =>
            err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve(),
        );
      } catch (error) {
        reject(error instanceof Error ? error : new Error(String(error)));
      }
    });
    return { ok, confirmed };
  }

  private drained(channel: Channel): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        channel.off('drain', done);
        channel.off('close', done);
        resolve();
      };
      channel.on('drain', done);
      channel.on('close', done);
    });
  }

  /**
   * Runs `fn` on the publisher's confirm channel, waiting for a connection; re-runs it on the new
   * channel when a connection drop cut it off (at-least-once: the broker may then hold duplicates).
   */
  private async withPublisher(
    what: string,
    fn: (channel: ConfirmChannel) => Promise<void>,
  ): Promise<void> {
    const deadline = Date.now() + this.settings.publishTimeoutMs;
    for (;;) {
      const channel = await this.waitForPublisher(deadline);
      try {
        return await fn(channel);
      } catch (error) {
        if (!isConnectionLoss(error) || this.closed || Date.now() >= deadline) throw error;
        this.log.warn(
          { err: errorMessage(error), op: what },
          'connection lost before confirm; sending again',
        );
      }
    }
  }

  private async waitForPublisher(deadline: number): Promise<ConfirmChannel> {
    for (;;) {
      if (this.closed) throw new Error('RabbitMQ transport is closed');
      if (this.publisher) return this.publisher.channel;
      if (!this.publisherConnection)
        throw new Error('RabbitMQ transport: connect() was not called');
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(
          `RabbitMQ transport: no connection to ${this.safeUrl} within ${this.settings.publishTimeoutMs} ms`,
        );
      }
      await wakeableSleep(left, this.publisherWaiters);
    }
  }

  private onReturn(message: Message): void {
    const correlationId = message.properties.correlationId as string | undefined;
    if (correlationId && this.redeliveries.has(correlationId)) {
      this.redeliveries.set(correlationId, true);
      return;
    }
    // No group has bound this type yet: normal for events nobody consumes (yet).
    this.log.debug(
      { type: message.fields.routingKey, exchange: message.fields.exchange },
      'unroutable message: no queue bound',
    );
  }

  // ---------------------------------------------------------------- consuming

  async subscribe(
    type: string,
    group: string,
    handler: DeliveryHandler,
    options: SubscribeOptions,
  ): Promise<void> {
    if (this.stopping) throw new Error('RabbitMQ transport is closed');
    let state = this.groups.get(group);
    if (!state) {
      const queue = this.queueOf(group);
      state = { name: group, queue, retryQueue: `${queue}.retry`, subs: new Map(), prefetch: 0 };
      this.groups.set(group, state);
    }
    if (state.subs.has(type)) {
      throw new Error(`RabbitMQ transport: group "${group}" already subscribes to ${type}`);
    }
    if (options.deadLetter) state.deadLetter = options.deadLetter;
    // Registered before the first await: every subscription the runtime makes in one pass is in
    // place before the group's consumer starts, so no delivery finds its handler missing.
    state.subs.set(type, {
      handler,
      prefetch: Math.max(1, options.prefetch),
      active: 0,
      waiting: [],
    });
    const g = state;
    await this.serialConsumerOp(async () => {
      const model = this.consumerModel;
      if (!model) return; // reconnecting: setup attaches it
      try {
        if (!g.channel) {
          await this.attach(model, g);
          return;
        }
        await g.channel.bindQueue(g.queue, this.exchange, type);
        if (this.prefetchOf(g) !== g.prefetch) {
          // A consumer's prefetch is fixed at basic.consume: start a new one with the new total.
          await g.channel.cancel(g.consumerTag!);
          await this.consume(g, g.channel);
        }
      } catch (error) {
        if (this.closedModels.has(model)) return; // dropped meanwhile: setup attaches it
        throw error;
      }
    });
    this.log.debug({ type, group, queue: g.queue }, 'subscribed');
  }

  private queueOf(group: string): string {
    return `${this.options.namespace}.${group}`;
  }

  private prefetchOf(group: Group): number {
    let total = 0;
    for (const sub of group.subs.values()) total += sub.prefetch;
    return total;
  }

  private serialConsumerOp(fn: () => Promise<void>): Promise<void> {
    const run = this.consumerOps.then(fn);
    this.consumerOps = run.catch(noop);
    return run;
  }

  /** Declares a group's queues and bindings on a fresh channel and starts its consumer. */
  private async attach(model: ChannelModel, group: Group): Promise<void> {
    const channel = await model.createConfirmChannel();
    channel.on('error', (err: Error) =>
      this.log.warn({ err: errorMessage(err), group: group.name }, 'consumer channel error'),
    );
    channel.on('close', () => {
      if (group.channel !== channel) return;
      group.channel = undefined;
      this.escalate(model, `consumer channel of ${group.name} closed`);
    });
    const quorum = this.settings.queueType === 'quorum';
    const typeArg = quorum ? { 'x-queue-type': 'quorum' } : {};
    try {
      await channel.assertQueue(group.queue, { durable: true, arguments: { ...typeArg } });
      await channel.assertQueue(group.retryQueue, {
        durable: true,
        arguments: {
          ...typeArg,
          'x-dead-letter-exchange': '',
          'x-dead-letter-routing-key': group.queue,
          // Quorum queues dead-letter at-most-once unless told otherwise.
          ...(quorum
            ? { 'x-dead-letter-strategy': 'at-least-once', 'x-overflow': 'reject-publish' }
            : {}),
        },
      });
    } catch (error) {
      throw new Error(
        `RabbitMQ transport: cannot declare ${group.queue} (exists with other arguments? queueType is ` +
          `'${this.settings.queueType}'): ${errorMessage(error)}`,
        { cause: error },
      );
    }
    for (const type of group.subs.keys()) await channel.bindQueue(group.queue, this.exchange, type);
    group.channel = channel;
    await this.consume(group, channel);
  }

  private async consume(group: Group, channel: ConfirmChannel): Promise<void> {
    const prefetch = this.prefetchOf(group);
    await channel.prefetch(prefetch);
    const { consumerTag } = await channel.consume(
      group.queue,
      (message) => this.onDelivery(group, channel, message),
      { noAck: false },
    );
    group.consumerTag = consumerTag;
    group.prefetch = prefetch;
  }

  private onDelivery(group: Group, channel: ConfirmChannel, message: ConsumeMessage | null): void {
    if (!message) {
      // The broker cancelled the consumer (queue deleted): reconnecting re-declares everything.
      if (group.channel === channel && this.consumerModel) {
        this.log.warn({ group: group.name }, 'consumer cancelled by the broker');
        this.escalate(this.consumerModel, `consumer of ${group.name} cancelled`);
      }
      return;
    }
    const work = this.deliver(group, channel, message).catch((err: unknown) =>
      this.log.error({ err, group: group.name }, 'delivery failed; the broker will redeliver'),
    );
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work));
  }

  private async deliver(group: Group, channel: ConfirmChannel, raw: ConsumeMessage): Promise<void> {
    const headers: MessagePropertyHeaders = raw.properties.headers ?? {};
    const declared = this.declaredType(raw);
    let type = declared ?? '';
    let sub = declared === undefined ? undefined : group.subs.get(declared);
    if (!sub) {
      // Not for a subscription here: a message of ours of another type (grace), or not ours at all.
      const id = raw.properties.messageId ?? headers['x-message-id'];
      const found = inspectUnrouted(raw.content.toString('utf8'), {
        ...(declared === undefined ? {} : { type: declared }),
        ...(id === undefined || id === null ? {} : { id: String(id) }),
      });
      if ('defect' in found) return this.malformed(group, channel, raw, type, found.defect);
      type = found.type;
      sub = group.subs.get(type);
      if (!sub) return this.unhandled(group, channel, raw, type);
    }
    // Not acked when the transport stops first: the broker requeues it when the channel closes.
    if (!(await this.acquire(sub))) return;
    try {
      const passed = publicHeaders(headers);
      // A foreign publisher's AMQP message id is the message's id (inbox, causation id).
      if (passed['x-message-id'] === undefined && typeof raw.properties.messageId === 'string')
        passed['x-message-id'] = raw.properties.messageId;
      const message: TransportMessage = {
        body: raw.content.toString('utf8'),
        headers: passed,
        attempt: attemptOf(raw),
      };
      const result = await sub.handler(message).catch((err: unknown) => {
        this.log.error({ err, type, group: group.name }, 'delivery pipeline threw; retrying');
        return { outcome: 'retry' as const, delayMs: HANDLER_BUG_RETRY_MS };
      });
      if (result.outcome === 'retry') {
        await this.retryLater(group, channel, raw, type, {
          'x-attempt': message.attempt + 1,
          delayMs: result.delayMs ?? 0,
        });
      } else {
        ack(channel, raw);
      }
    } finally {
      this.release(sub);
    }
  }

  /**
   * The type a delivery declares: its `type` property, else the `x-message-type` header, else the
   * routing key when it came through the events exchange (a foreign publisher that sets neither).
   * A message put straight into the group queue (default exchange) has a routing key that is no type.
   */
  private declaredType(raw: ConsumeMessage): string | undefined {
    const header = raw.properties.headers?.['x-message-type'];
    const declared = raw.properties.type ?? header;
    if (declared !== undefined && declared !== null && String(declared) !== '') {
      return String(declared);
    }
    return raw.fields.exchange === this.exchange ? raw.fields.routingKey : undefined;
  }

  /**
   * Copies the delivery into the group's retry queue (expiring after the delay, then routed back
   * to the group queue by the broker) and acks the original once the copy is confirmed. A crash
   * in between leaves the original unacked, so it is redelivered: never lost.
   */
  private async retryLater(
    group: Group,
    channel: ConfirmChannel,
    raw: ConsumeMessage,
    type: string,
    next: { 'x-attempt'?: number; 'x-unhandled'?: number; delayMs: number },
  ): Promise<void> {
    const { delayMs, ...extra } = next;
    const kept = Object.fromEntries(
      Object.entries(raw.properties.headers ?? {}).filter(
        ([k]) => !isInternalHeader(k) || k === 'x-attempt' || k === 'x-unhandled',
      ),
    );
    try {
      await this.send(channel, '', group.retryQueue, raw.content, {
        persistent: true,
        type,
        headers: { ...kept, ...extra },
        ...(raw.properties.messageId ? { messageId: raw.properties.messageId as string } : {}),
        ...(raw.properties.contentType
          ? { contentType: raw.properties.contentType as string }
          : {}),
        expiration: String(Math.max(0, Math.round(delayMs))),
      }).confirmed;
      ack(channel, raw);
    } catch (error) {
      if (isConnectionLoss(error)) return; // unacked: redelivered after reconnect
      this.log.error(
        { err: error, type, group: group.name },
        'could not schedule retry; requeueing',
      );
      await new Promise((resolve) => setTimeout(resolve, Math.min(delayMs, 10_000)));
      nack(channel, raw);
    }
  }

  /** A type bound to this group's queue that this process has no handler for. */
  private async unhandled(
    group: Group,
    channel: ConfirmChannel,
    raw: ConsumeMessage,
    type: string,
  ): Promise<void> {
    const headers = raw.properties.headers ?? {};
    const requeues = Number(headers['x-unhandled'] ?? 0) + 1;
    if (requeues <= this.settings.unhandledMaxRequeues) {
      this.log.warn(
        { type, group: group.name },
        'no handler for this type here; requeued with delay',
      );
      await this.retryLater(group, channel, raw, type, {
        'x-unhandled': requeues,
        delayMs: this.settings.unhandledRetryDelayMs,
      });
      return;
    }
    await this.giveUp(group, channel, raw, type, {
      message: `no handler for ${type} in group ${group.name}`,
      errorType: 'UnhandledTypeError',
      reason: `unhandled-type: ${type}`,
    });
  }

  /** Not a message of ours (not JSON, no type, no id): dead letters at once, no grace. */
  private async malformed(
    group: Group,
    channel: ConfirmChannel,
    raw: ConsumeMessage,
    type: string,
    defect: string,
  ): Promise<void> {
    this.log.warn({ group: group.name, defect }, 'malformed delivery; dead-lettering it');
    await this.giveUp(group, channel, raw, type, {
      message: `malformed envelope: ${defect}`,
      errorType: 'PoisonMessageError',
      reason: `malformed-envelope: ${defect}`,
    });
  }

  /**
   * Dead-letters a delivery no subscription takes, then acks it. If the dead letter cannot be
   * stored, the delivery goes to the retry queue and comes back later: never lost.
   */
  private async giveUp(
    group: Group,
    channel: ConfirmChannel,
    raw: ConsumeMessage,
    type: string,
    failure: { message: string; errorType: string; reason: string },
  ): Promise<void> {
    const letter = {
      type,
      group: group.name,
      body: raw.content.toString('utf8'),
      headers: {
        ...publicHeaders(raw.properties.headers ?? {}),
        ...transportFailureHeaders({
          ...failure,
          attempts: attemptOf(raw),
          type,
          group: group.name,
        }),
      },
    };
    try {
      await (group.deadLetter ?? ((l: typeof letter) => this.deadLetter(l)))(letter);
    } catch (error) {
      this.log.error(
        { err: error, type, group: group.name },
        'could not store dead letter; will redeliver',
      );
      await this.retryLater(group, channel, raw, type, { delayMs: HANDLER_BUG_RETRY_MS });
      return;
    }
    ack(channel, raw);
  }

  private acquire(sub: Subscription): Promise<boolean> | boolean {
    if (this.stopping) return false;
    if (sub.active < sub.prefetch) {
      sub.active++;
      return true;
    }
    return new Promise((resolve) => sub.waiting.push(resolve));
  }

  private release(sub: Subscription): void {
    const next = sub.waiting.shift();
    if (next) next(true);
    else sub.active--;
  }

  // ---------------------------------------------------------------- dead letters

  /**
   * Reads the first `limit` letters with basic.get (no ack), then requeues them all: a classic
   * queue puts them back in their places. Costs one round trip per letter, and the letters are
   * invisible to other readers meanwhile (reads are serialised in this process only).
   */
  async listDeadLetters(limit: number): Promise<DeadLetterRecord[]> {
    return this.withDeadLetterChannel(async (channel) => {
      const letters: DeadLetterRecord[] = [];
      while (letters.length < limit) {
        const message = await channel.get(this.deadLetterQueue, { noAck: false });
        if (!message) break;
        letters.push(toRecord(message));
      }
      return letters;
    });
  }

  /**
   * Takes letters from the head until every requested id was found (or the queue is empty), acks
   * the requested ones and requeues the rest: cost grows with how deep the letters sit.
   */
  async removeDeadLetters(letters: readonly DeadLetterRecord[]): Promise<void> {
    const wanted = new Set(letters.map((l) => l.id));
    if (wanted.size === 0) return;
    await this.withDeadLetterChannel(async (channel) => {
      while (wanted.size > 0) {
        const message = await channel.get(this.deadLetterQueue, { noAck: false });
        if (!message) break;
        const id = letterId(message);
        if (wanted.delete(id)) channel.ack(message);
      }
    });
  }

  private withDeadLetterChannel<T>(fn: (channel: Channel) => Promise<T>): Promise<T> {
    const run = this.deadLetterOps.then(async () => {
      await this.waitForPublisher(Date.now() + this.settings.publishTimeoutMs);
      const channel = await this.publisher!.model.createChannel();
      channel.on('error', (err: Error) =>
        this.log.warn({ err: errorMessage(err) }, 'dead-letter channel error'),
      );
      try {
        return await fn(channel);
      } finally {
        // Everything fetched and not acked goes back, in order.
        try {
          channel.nackAll(true);
        } catch {
          // channel already gone: the broker requeued the letters itself
        }
        await channel.close().catch(noop);
      }
    });
    this.deadLetterOps = run.catch(noop);
    return run;
  }

  // ---------------------------------------------------------------- health and shutdown

  /** Fails when either connection is down (reconnecting) or the transport is closed. No I/O. */
  async ping(): Promise<void> {
    if (this.stopping) throw new Error('RabbitMQ transport is closed');
    if (!this.publisher)
      throw new Error(`RabbitMQ publisher connection to ${this.safeUrl} is down`);
    if (!this.consumerModel)
      throw new Error(`RabbitMQ consumer connection to ${this.safeUrl} is down`);
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    this.stopping = true;
    await this.consumerOps;
    // Stop new deliveries; the ones already received but waiting for a slot are left unacked.
    await Promise.all(
      [...this.groups.values()].map(async (group) => {
        if (group.channel && group.consumerTag) {
          await group.channel.cancel(group.consumerTag).catch(noop);
        }
      }),
    );
    for (const group of this.groups.values()) {
      for (const sub of group.subs.values()) {
        for (const wake of sub.waiting.splice(0)) wake(false);
      }
    }
    // In-flight handlers may still publish retries or dead letters: connections stay open for them.
    while (this.inFlight.size > 0) await Promise.allSettled(this.inFlight);
    await this.deadLetterOps;
    // Channels first: their close-ok comes after every ack sent on them, whereas closing the
    // connection at once can drop acks still queued in amqplib's per-channel buffers. Whatever
    // stays unacked (deliveries that waited for a slot) goes back to the queue.
    await Promise.all([...this.groups.values()].map((group) => group.channel?.close().catch(noop)));
    await this.publisher?.channel.close().catch(noop);
    this.closed = true;
    for (const wake of this.publisherWaiters) wake();
    await Promise.all([
      this.consumerConnection?.close().catch(noop),
      this.publisherConnection?.close().catch(noop),
    ]);
    this.publisher = undefined;
    this.consumerModel = undefined;
    this.log.info({ url: this.safeUrl }, 'RabbitMQ transport closed');
  }
}

/** Delivery number within the group: `x-attempt` of the copy plus the broker's redeliveries. */
function attemptOf(message: Message): number {
  const headers = message.properties.headers ?? {};
  const base = Number(headers['x-attempt']);
  const first = Number.isInteger(base) && base >= 1 ? base : 1;
  const count = Number(headers['x-delivery-count']);
  // Quorum queues count returns exactly; classic queues only flag "delivered before".
  if (Number.isInteger(count) && count > 0) return first + count;
  return first + (message.fields.redelivered ? 1 : 0);
}

function publicHeaders(headers: MessagePropertyHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(headers)) {
    if (isInternalHeader(key) || value === undefined || value === null) continue;
    if (typeof value === 'string') out[key] = value;
    else if (Buffer.isBuffer(value)) out[key] = value.toString('utf8');
    else if (typeof value !== 'object') out[key] = String(value);
  }
  return out;
}

function letterId(message: Message): string {
  const id = message.properties.messageId as string | undefined;
  if (id) return id;
  // Letters stored by something else: a stable id from their content.
  return createHash('sha256')
    .update(message.content)
    .update(JSON.stringify(message.properties.headers ?? {}))
    .digest('hex')
    .slice(0, 32);
}

function toRecord(message: Message): DeadLetterRecord {
  const headers = message.properties.headers ?? {};
  return {
    id: letterId(message),
    type: String(headers['x-dead-letter-type'] ?? message.properties.type ?? ''),
    group: String(headers['x-dead-letter-group'] ?? ''),
    body: message.content.toString('utf8'),
    headers: publicHeaders(headers),
  };
}

function ack(channel: Channel, message: Message): void {
  try {
    channel.ack(message);
  } catch {
    // channel gone with the connection: the broker redelivers the message
  }
}

function nack(channel: Channel, message: Message): void {
  try {
    channel.nack(message, false, true);
  } catch {
    // channel gone with the connection: the broker redelivers the message
  }
}

/**
 * Loads amqplib and builds the RabbitMQ transport (connect() opens the connections).
 * `settings` tunes queue type, reconnects and timeouts; see {@link RabbitMqTransportOptions}.
 */
export async function createRabbitMqTransport(
  options: TransportOptions,
  settings: RabbitMqTransportOptions = {},
): Promise<RabbitMqTransport> {
  return RabbitMqTransport.create(options, settings);
}
