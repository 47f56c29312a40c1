import { randomUUID } from 'node:crypto';
import { withTimeout, loadDriver } from '@infrastructure/core';
import { getLogger } from '@infrastructure/monitoring';
import { MessagingConfigError } from '../../errors.js';
import {
  hasKafkaError,
  partitionKey,
  type KafkaAdminLike,
  type KafkaClientLike,
  type KafkaConsumeOptions,
  type KafkaConsumerLike,
  type KafkaGroupJoin,
  type KafkaMessage,
  type KafkaMessagesStream,
  type KafkaOutgoingMessage,
  type KafkaPartitioner,
  type KafkaProducerLike,
} from './kafka.client.js';
import { KafkaDeadLetterView } from './kafka.dead-letters.js';
import { OffsetCommitter, PartitionProgress } from './kafka.offsets.js';
import {
  decodeHeaders,
  encodeHeaders,
  HEADER,
  murmur2,
  parseKafkaUrl,
  topicName,
  type KafkaConnection,
} from './kafka.topology.js';
import { wakeableSleep } from '../wakeable-sleep.js';
import { transportFailureHeaders, type DeadLetterSink } from '../unrouted.js';
import type {
  DeadLetterRecord,
  DeliveryHandler,
  OutgoingMessage,
  SubscribeOptions,
  Transport,
  TransportMessage,
  TransportOptions,
} from '../transport.js';

/** Kafka-specific knobs (the second argument of {@link createKafkaTransport}). */
export interface KafkaTransportSettings {
  /** Partitions of the topics the transport creates (event types, retry topics). @default 3 */
  partitions?: number;
  /** Replication factor of the topics it creates; -1 takes the broker default. @default -1 */
  replicationFactor?: number;
  /**
   * Create missing topics (event types, `<ns>.<group>.retry`, `<ns>.dead-letters`) with the admin
   * client. Turn off where ACLs forbid it and create them beforehand. @default true
   */
  createTopics?: boolean;
  /**
   * Where a group with no committed offset starts: at the oldest retained record (nothing
   * published before its first start is missed) or at the end. @default true
   */
  fromBeginning?: boolean;
  /** How long `ping()` waits for the cluster metadata. @default 2000 */
  pingTimeoutMs?: number;
  /** How long `listDeadLetters` may take to read the dead-letter topic to its end. @default 15000 */
  deadLetterReadTimeoutMs?: number;
  /** Consumer session timeout: a crashed member's partitions move after this. @default 30000 */
  sessionTimeoutMs?: number;
  /** Longest wait between tries to write a retry record while the broker refuses it. @default 5000 */
  maxRetryBackoffMs?: number;
  /** A ready client (tests, custom client settings); the URL is then only used in messages. */
  client?: KafkaClientLike;
}

type Settings = Required<Omit<KafkaTransportSettings, 'client'>>;

const DEFAULTS: Settings = {
  partitions: 3,
  replicationFactor: -1,
  createTopics: true,
  fromBeginning: true,
  pingTimeoutMs: 2000,
  deadLetterReadTimeoutMs: 15_000,
  sessionTimeoutMs: 30_000,
  maxRetryBackoffMs: 5000,
};

/** Consumer heartbeat period (the client beats on its own timer, whatever the handlers do). */
const HEARTBEAT_MS = 3000;
/** Longest wait of one fetch request when the partitions have nothing new. */
const MAX_WAIT_MS = 1000;
/** `acks: -1`: every in-sync replica has the record. */
const ACKS_ALL = -1;

/** FIFO counting semaphore: the prefetch of one (type, group) subscription. */
class Slots {
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  constructor(private readonly size: number) {}
  async acquire(): Promise<void> {
    if (this.active < this.size) {
      this.active++;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }
  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.active--;
  }
}

interface Subscription {
  type: string;
  topic: string;
  handler: DeliveryHandler;
  prefetch: number;
  slots: Slots;
}

interface Group {
  name: string;
  retryTopic: string;
  /** By event type. */
  subs: Map<string, Subscription>;
  runner?: GroupRunner;
  /** Serialises (re)starts of the group's consumer. */
  chain: Promise<void>;
  scheduled?: Promise<void>;
  /** Consecutive failed runs (back-off of automatic restarts). */
  failures: number;
  /** Where records no subscription takes are dead-lettered (the runtime's, when it gave one). */
  deadLetter?: DeadLetterSink;
}

interface Decoded {
  type: string | undefined;
  key: string | undefined;
  body: string;
  headers: Record<string, string>;
  attempt: number;
  dueAt: number;
}

/** One partition of a stream, as this member sees it: records in offset order, started in order. */
interface Lane {
  topic: string;
  partition: number;
  isRetryTopic: boolean;
  stream: StreamState;
  queue: KafkaMessage[];
  /** Offset after the last record accepted: the client re-fetches from the commit after a rejoin. */
  next?: bigint;
  progress: PartitionProgress<KafkaMessage>;
  committer: OffsetCommitter<KafkaMessage>;
  draining: boolean;
  revoked: boolean;
}

interface StreamState {
  stream?: KafkaMessagesStream;
  /** Records received and not started yet (held in lanes). */
  buffered: number;
  limit: number;
  paused: boolean;
}

/**
 * One run of a group's consumer: its two streams (the type topics, the retry topic: a retry
 * partition waiting for its due time never holds back the type topics), the lanes of the
 * partitions assigned to it, and the deliveries it started.
 */
class GroupRunner {
  readonly lanes = new Map<string, Lane>();
  readonly inFlight = new Set<Promise<void>>();
  readonly main: StreamState;
  readonly retry: StreamState;
  stopping = false;
  private sleepers = new Set<() => void>();
  private stopped?: Promise<void>;

  constructor(
    readonly group: Group,
    readonly consumer: KafkaConsumerLike,
    limit: number,
  ) {
    this.main = { buffered: 0, limit, paused: false };
    this.retry = { buffered: 0, limit, paused: false };
  }

  /** Sleeps up to `ms`; woken early by a rebalance or a stop (the caller looks again). */
  sleep(ms: number): Promise<void> {
    return wakeableSleep(ms, this.sleepers);
  }

  wakeAll(): void {
    for (const wake of this.sleepers) wake();
  }

  unbuffer(state: StreamState, count: number): void {
    state.buffered -= count;
    if (state.paused && state.buffered < state.limit && !this.stopping) {
      state.paused = false;
      state.stream?.resume();
    }
  }

  buffer(state: StreamState): void {
    state.buffered++;
    if (!state.paused && state.buffered >= state.limit) {
      state.paused = true;
      state.stream?.pause();
    }
  }

  /** Drops the lanes of partitions this member no longer owns (their queued records too). */
  onJoin(payload: KafkaGroupJoin): void {
    const owned = new Set(
      (payload.assignments ?? []).flatMap((a) => a.partitions.map((p) => partitionKey(a.topic, p))),
    );
    for (const [key, lane] of this.lanes) {
      if (owned.has(key)) continue;
      this.revoke(lane);
      this.lanes.delete(key);
    }
    this.wakeAll();
  }

  revoke(lane: Lane): void {
    lane.revoked = true;
    const dropped = lane.queue.length;
    lane.queue = [];
    this.unbuffer(lane.stream, dropped);
  }

  /** Stops fetching, drops queued records, waits for started deliveries and their commits. */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      this.stopping = true;
      for (const state of [this.main, this.retry]) state.stream?.pause();
      for (const lane of this.lanes.values()) {
        lane.queue = [];
      }
      this.wakeAll();
      while (this.inFlight.size > 0) await Promise.allSettled(this.inFlight);
      await Promise.allSettled([...this.lanes.values()].map((l) => l.committer.flush()));
      await Promise.allSettled(
        [this.main, this.retry].map((s) => s.stream?.close() ?? Promise.resolve()),
      );
      await this.consumer.close(true);
    })();
    return this.stopped;
  }
}

/**
 * Kafka transport (@platformatic/kafka). Topology, per namespace `ns`:
 * - `ns.<type>`: one topic per event type, keyed by the aggregate id (per-key order);
 * - consumer group id = the messaging group; one consumer per group reads all its types;
 * - `ns.<group>.retry`: the group's retries, with a due-time header; read by that group only,
 *   each partition waiting for its head record to be due;
 * - `ns.dead-letters`: compacted, one partition, keyed by letter id; removal writes a tombstone.
 *
 * Offsets are committed only after the pipeline's outcome (and after a retry record is stored),
 * in order per partition: a crash or rebalance redelivers whatever was not finished.
 */
export class KafkaTransport implements Transport {
  readonly name = 'kafka';
  private readonly log = getLogger('KafkaTransport');
  private readonly settings: Settings;
  private readonly connection: KafkaConnection;
  private client?: KafkaClientLike;
  private producer?: KafkaProducerLike;
  private admin?: KafkaAdminLike;
  private view?: KafkaDeadLetterView;
  private readonly groups = new Map<string, Group>();
  private readonly knownTopics = new Set<string>();
  /** Pending back-off sleeps, woken early by `close()`. */
  private readonly sleepers = new Set<() => void>();
  private readonly deadLetterTopic: string;
  private closing = false;
  private closed?: Promise<void>;

  constructor(
    private readonly options: TransportOptions,
    settings: KafkaTransportSettings = {},
  ) {
    if (!options.url) {
      throw new MessagingConfigError(
        'MessagingModule: options.url is required for transport "kafka" (kafka://host:9092)',
      );
    }
    this.connection = parseKafkaUrl(options.url);
    const { client, ...rest } = settings;
    this.client = client;
    this.settings = { ...DEFAULTS, ...rest };
    this.deadLetterTopic = topicName(options.namespace, 'dead-letters');
  }

  /** The topic of an event type. */
  topicOf(type: string): string {
    return topicName(this.options.namespace, type);
  }

  /** The retry topic of a consumer group. */
  retryTopicOf(group: string): string {
    return topicName(this.options.namespace, group, 'retry');
  }

  async connect(): Promise<void> {
    this.client ??= await this.createClient();
    this.producer = this.client.producer({
      // Sequence numbers keep publish order through the client's retries (up to 5 in flight).
      idempotent: true,
      acks: ACKS_ALL,
      partitioner: javaCompatiblePartitioner(),
      autocreateTopics: false,
    });
    this.admin = this.client.admin();
    // The client connects lazily: ask for the brokers so a wrong URL fails the boot here.
    await this.admin.metadata({ topics: [], forceUpdate: true }).catch((error: unknown) => {
      throw new Error(
        `KafkaTransport: cannot connect to ${this.connection.display}: ${errorText(error)}`,
        { cause: error },
      );
    });
    await this.ensureTopics([this.deadLetterTopic], {
      numPartitions: 1,
      configs: [{ name: 'cleanup.policy', value: 'compact' }],
    });
    this.view = new KafkaDeadLetterView(
      this.client,
      this.admin,
      this.deadLetterTopic,
      `${this.deadLetterTopic}.reader.${this.options.serviceName}.${randomUUID()}`,
      this.settings.deadLetterReadTimeoutMs,
      this.log,
    );
    this.log.info({ url: this.connection.display }, 'connected to Kafka');
  }

  async publish(messages: readonly OutgoingMessage[]): Promise<void> {
    const producer = this.requireOpen();
    if (messages.length === 0) return;
    const records: KafkaOutgoingMessage[] = messages.map((m) => ({
      topic: this.topicOf(m.type),
      ...(m.key === undefined ? {} : { key: Buffer.from(m.key, 'utf8') }),
      value: Buffer.from(m.body, 'utf8'),
      headers: encodeHeaders(m.headers),
    }));
    await this.ensureTopics([...new Set(records.map((r) => r.topic))]);
    await producer.send({ messages: records, acks: ACKS_ALL });
  }

  async subscribe(
    type: string,
    group: string,
    handler: DeliveryHandler,
    options: SubscribeOptions,
  ): Promise<void> {
    this.requireOpen();
    let g = this.groups.get(group);
    if (!g) {
      g = {
        name: group,
        retryTopic: this.retryTopicOf(group),
        subs: new Map(),
        chain: Promise.resolve(),
        failures: 0,
      };
      this.groups.set(group, g);
    }
    if (g.subs.has(type))
      throw new Error(`KafkaTransport: ${type} is already subscribed by "${group}"`);
    const prefetch = Math.max(1, options.prefetch);
    if (options.deadLetter) g.deadLetter = options.deadLetter;
    g.subs.set(type, {
      type,
      topic: this.topicOf(type),
      handler,
      prefetch,
      slots: new Slots(prefetch),
    });
    await this.scheduleStart(g);
  }

  async deadLetter(letter: Omit<DeadLetterRecord, 'id'>): Promise<void> {
    const producer = this.requireOpen();
    await producer.send({
      acks: ACKS_ALL,
      messages: [
        {
          topic: this.deadLetterTopic,
          key: Buffer.from(randomUUID(), 'utf8'),
          value: Buffer.from(letter.body, 'utf8'),
          headers: encodeHeaders({
            ...letter.headers,
            [HEADER.letterType]: letter.type,
            [HEADER.letterGroup]: letter.group,
          }),
        },
      ],
    });
  }

  async listDeadLetters(limit: number): Promise<DeadLetterRecord[]> {
    this.requireOpen();
    return this.view!.list(limit);
  }

  /**
   * Kafka cannot delete one record: each removed letter gets a tombstone (same key, null value)
   * on the compacted dead-letter topic. Readers skip it at once; compaction deletes both later.
   */
  async removeDeadLetters(letters: readonly DeadLetterRecord[]): Promise<void> {
    const producer = this.requireOpen();
    if (letters.length === 0) return;
    await producer.send({
      acks: ACKS_ALL,
      messages: letters.map((l) => ({
        topic: this.deadLetterTopic,
        key: Buffer.from(l.id, 'utf8'),
      })),
    });
    this.view!.forget(letters.map((l) => l.id));
  }

  async redeliver(group: string, message: OutgoingMessage): Promise<void> {
    this.requireOpen();
    await this.writeRetry(group, message.type, message.key, message.body, message.headers, 1, 0);
  }

  async ping(): Promise<void> {
    if (this.closing || !this.admin) throw new Error('KafkaTransport is not connected');
    await withTimeout(
      this.admin.metadata({ topics: [], forceUpdate: true, retries: 0 }),
      this.settings.pingTimeoutMs,
      () =>
        `Kafka at ${this.connection.display} did not answer within ${this.settings.pingTimeoutMs} ms`,
    );
  }

  close(): Promise<void> {
    this.closed ??= this.shutdown();
    return this.closed;
  }

  private async shutdown(): Promise<void> {
    this.closing = true;
    for (const wake of this.sleepers) wake();
    // Stopping a runner waits for its started deliveries and commits them.
    await Promise.allSettled(
      [...this.groups.values()].map(async (g) => {
        await g.chain;
        await g.runner?.stop();
      }),
    );
    await this.view
      ?.close()
      .catch((error: unknown) => this.log.warn({ err: error }, 'dead-letter reader close failed'));
    await Promise.allSettled([this.producer?.close(), this.admin?.close()]);
    this.log.info('Kafka transport closed');
  }

  private requireOpen(): KafkaProducerLike {
    if (this.closing) throw new Error('KafkaTransport is closed');
    if (!this.producer) throw new Error('KafkaTransport: connect() first');
    return this.producer;
  }

  private async createClient(): Promise<KafkaClientLike> {
    const driver = await loadDriver<typeof import('@platformatic/kafka')>(
      '@platformatic/kafka',
      'MessagingModule transport "kafka"',
    );
    const { brokers, ssl, sasl } = this.connection;
    const base = {
      clientId: this.options.serviceName,
      bootstrapBrokers: brokers,
      ...(ssl ? { tls: {} } : {}),
      ...(sasl
        ? {
            sasl: {
              mechanism: SASL_MECHANISMS[sasl.mechanism],
              username: sasl.username,
              password: sasl.password,
            },
          }
        : {}),
    };
    // The library's classes must fit the structural types the transport (and the fake) use.
    const client: KafkaClientLike = {
      producer: (c): KafkaProducerLike => new driver.Producer({ ...base, ...c }),
      consumer: (c): KafkaConsumerLike => new driver.Consumer({ ...base, ...c }),
      admin: (): KafkaAdminLike => new driver.Admin(base),
    };
    return client;
  }

  /** Creates missing topics (one request each: a topic created meanwhile is not an error). */
  private async ensureTopics(
    topics: string[],
    config: { numPartitions?: number; configs?: Array<{ name: string; value: string }> } = {},
  ): Promise<void> {
    const missing = topics.filter((t) => !this.knownTopics.has(t));
    if (missing.length === 0 || !this.settings.createTopics) return;
    await Promise.all(
      missing.map(async (topic) => {
        try {
          await this.admin!.createTopics({
            topics: [topic],
            partitions: config.numPartitions ?? this.settings.partitions,
            replicas: this.settings.replicationFactor,
            ...(config.configs ? { configs: config.configs } : {}),
          });
        } catch (error) {
          if (!hasKafkaError(error, 'TOPIC_ALREADY_EXISTS')) throw error;
        }
        this.knownTopics.add(topic);
      }),
    );
  }

  /**
   * Starts (or restarts, when a type is added later) the group's consumer. Subscriptions made in
   * the same tick (the runtime subscribes every handler at once) share one start.
   */
  private scheduleStart(g: Group, delayMs = 0): Promise<void> {
    if (!g.scheduled) {
      const run = g.chain
        .then(() =>
          delayMs <= 0
            ? new Promise<void>((resolve) => setImmediate(resolve))
            : wakeableSleep(delayMs, this.sleepers),
        )
        .then(() => {
          g.scheduled = undefined;
          return this.startGroup(g);
        });
      g.scheduled = run;
      g.chain = run.catch(() => undefined);
    }
    return g.scheduled;
  }

  private async startGroup(g: Group): Promise<void> {
    if (this.closing) return;
    const subs = [...g.subs.values()];
    const typeTopics = [...new Set(subs.map((s) => s.topic))];
    await this.ensureTopics([...typeTopics, g.retryTopic]);
    const previous = g.runner;
    g.runner = undefined;
    await previous?.stop();
    if (this.closing) return;
    const group = {
      sessionTimeout: this.settings.sessionTimeoutMs,
      rebalanceTimeout: Math.max(this.settings.sessionTimeoutMs, 60_000),
      heartbeatInterval: Math.min(HEARTBEAT_MS, this.settings.sessionTimeoutMs),
    };
    const consumer = this.client!.consumer({
      groupId: g.name,
      autocommit: false,
      autocreateTopics: false,
      ...group,
    });
    const prefetch = subs.reduce((n, s) => n + s.prefetch, 0);
    const runner = new GroupRunner(g, consumer, Math.max(16, 2 * prefetch));
    g.runner = runner;
    consumer.on('consumer:group:join', (payload) => runner.onJoin(payload));
    const options = (topics: string[]): KafkaConsumeOptions => ({
      topics,
      mode: 'committed',
      fallbackMode: this.settings.fromBeginning ? 'earliest' : 'latest',
      autocommit: false,
      maxWaitTime: MAX_WAIT_MS,
      highWaterMark: runner.main.limit,
      ...group,
    });
    try {
      for (const [state, topics] of [
        [runner.main, typeTopics],
        [runner.retry, [g.retryTopic]],
      ] as const) {
        const stream = await consumer.consume(options([...topics]));
        state.stream = stream;
        stream.on('data', (message) => this.onMessage(runner, state, message));
        stream.on('error', (error) => this.onStreamFailure(runner, error));
        stream.on('close', () => this.onStreamFailure(runner, new Error('stream closed')));
        if (state.paused) stream.pause();
      }
    } catch (error) {
      await runner.stop().catch(() => undefined);
      if (g.runner === runner) g.runner = undefined;
      throw error;
    }
    g.failures = 0;
    this.log.debug({ group: g.name, topics: [...typeTopics, g.retryTopic] }, 'consumer started');
  }

  /** A stream the runner did not close ended (broker gone for good, group fenced): restart. */
  private onStreamFailure(runner: GroupRunner, error: Error): void {
    const g = runner.group;
    if (runner.stopping || this.closing || g.runner !== runner) return;
    const delay = Math.min(this.settings.maxRetryBackoffMs, 250 * 2 ** g.failures++);
    this.log.warn(
      { err: error, group: g.name, retryInMs: delay },
      'Kafka consumer stopped; restarting it',
    );
    void runner.stop().catch(() => undefined);
    void this.scheduleStart(g, delay).catch((failure: unknown) => {
      if (!this.closing) this.onStreamFailure(runner, failure as Error);
    });
  }

  /** A fetched record: queued on its partition's lane, in offset order, once. */
  private onMessage(runner: GroupRunner, state: StreamState, message: KafkaMessage): void {
    if (runner.stopping) return;
    const key = partitionKey(message.topic, message.partition);
    let lane = runner.lanes.get(key);
    if (!lane) {
      lane = this.createLane(runner, state, message.topic, message.partition);
      runner.lanes.set(key, lane);
    }
    if (lane.next !== undefined && message.offset < lane.next) return; // re-fetched after a rejoin
    lane.next = message.offset + 1n;
    lane.queue.push(message);
    runner.buffer(state);
    if (!lane.draining) void this.drain(runner, lane);
  }

  private createLane(
    runner: GroupRunner,
    stream: StreamState,
    topic: string,
    partition: number,
  ): Lane {
    const g = runner.group;
    return {
      topic,
      partition,
      isRetryTopic: topic === g.retryTopic,
      stream,
      queue: [],
      progress: new PartitionProgress<KafkaMessage>(),
      committer: new OffsetCommitter<KafkaMessage>(
        async (message) => {
          await message.commit();
        },
        (error, message) =>
          this.log.warn(
            { err: error, group: g.name, topic, partition, offset: String(message.offset + 1n) },
            'offset commit failed; unfinished records will be redelivered',
          ),
      ),
      draining: false,
      revoked: false,
    };
  }

  /**
   * Starts a lane's records in offset order, up to each subscription's prefetch at once. A retry
   * record not yet due holds the lane until it is (the record stays uncommitted in Kafka, so a
   * crash loses nothing: the partition's next owner waits for it the same way).
   */
  private async drain(runner: GroupRunner, lane: Lane): Promise<void> {
    const g = runner.group;
    lane.draining = true;
    try {
      while (!lane.revoked && !runner.stopping && lane.queue.length > 0) {
        const message = lane.queue[0]!;
        const d = this.decode(g, lane, message);
        const wait = d.dueAt - Date.now();
        if (wait > 0) {
          await runner.sleep(wait);
          continue;
        }
        const sub = d.type === undefined ? undefined : g.subs.get(d.type);
        if (sub) {
          await sub.slots.acquire();
          if (lane.revoked || runner.stopping) {
            sub.slots.release();
            break;
          }
        }
        lane.queue.shift();
        runner.unbuffer(lane.stream, 1);
        lane.progress.start(message.offset, message);
        const work = (sub ? this.deliver(g, sub, d) : this.unroutable(g, lane.topic, d))
          .finally(() => sub?.slots.release())
          .then((done) => {
            if (!done || !lane.progress.finish(message.offset) || lane.revoked) return;
            const committable = lane.progress.committable;
            if (committable) void lane.committer.request(committable);
          })
          .catch((error: unknown) =>
            this.log.error({ err: error, group: g.name }, 'Kafka delivery failed'),
          )
          .finally(() => runner.inFlight.delete(work));
        runner.inFlight.add(work);
      }
    } finally {
      lane.draining = false;
    }
  }

  private decode(g: Group, lane: Lane, message: KafkaMessage): Decoded {
    const { visible, internal } = decodeHeaders(message.headers);
    const body = message.value?.toString('utf8') ?? '';
    const key = message.key?.toString('utf8');
    if (!lane.isRetryTopic) {
      const type = [...g.subs.values()].find((s) => s.topic === lane.topic)?.type;
      return { type, key, body, headers: visible, attempt: 1, dueAt: 0 };
    }
    return {
      type: internal[HEADER.type],
      key,
      body,
      headers: visible,
      attempt: Math.max(1, Number(internal[HEADER.attempt]) || 1),
      dueAt: Number(internal[HEADER.dueAt]) || 0,
    };
  }

  /** Runs the pipeline on one record; true once its outcome is settled (the offset may move). */
  private async deliver(g: Group, sub: Subscription, d: Decoded): Promise<boolean> {
    const message: TransportMessage = {
      body: d.body,
      headers: { ...d.headers },
      attempt: d.attempt,
    };
    const { outcome, delayMs } = await sub.handler(message).catch((error: unknown) => {
      // The pipeline never throws; a bug there must not loop forever.
      this.log.error({ err: error, type: sub.type, group: g.name }, 'delivery handler threw');
      return { outcome: 'success' as const, delayMs: 0 };
    });
    if (outcome !== 'retry') return true;
    return this.retryDurably(g.name, sub.type, d, d.attempt + 1, delayMs ?? 0);
  }

  /**
   * A retry record whose type this process does not handle, or without a type at all (not written
   * by us): dead-lettered, never dropped.
   */
  private async unroutable(g: Group, topic: string, d: Decoded): Promise<boolean> {
    const type = d.type ?? topic;
    this.log.error(
      { group: g.name, type },
      'no subscription for retried message; dead-lettering it',
    );
    const failure =
      d.type === undefined
        ? {
            message: `malformed envelope: missing type`,
            errorType: 'PoisonMessageError',
            reason: 'malformed-envelope: missing type',
          }
        : {
            message: `group "${g.name}" has no handler for ${type} in this service`,
            errorType: 'UnroutableMessageError',
            reason: `unhandled-type: ${type}`,
          };
    const store = g.deadLetter ?? ((letter) => this.deadLetter(letter));
    for (let attempt = 0; ; attempt++) {
      try {
        await store({
          type,
          group: g.name,
          body: d.body,
          headers: {
            ...d.headers,
            ...transportFailureHeaders({ ...failure, attempts: d.attempt, type, group: g.name }),
          },
        });
        return true;
      } catch (error) {
        if (this.closing) return false;
        await this.backoff(attempt, error, 'dead letter');
      }
    }
  }

  /** Writes the retry record, trying again while the broker refuses; false if closing first. */
  private async retryDurably(
    group: string,
    type: string,
    d: Decoded,
    attempt: number,
    delayMs: number,
  ): Promise<boolean> {
    for (let n = 0; ; n++) {
      try {
        await this.writeRetry(group, type, d.key, d.body, d.headers, attempt, delayMs);
        return true;
      } catch (error) {
        // Not committing keeps the record: it is redelivered (same attempt) after a restart.
        if (this.closing) return false;
        await this.backoff(n, error, 'retry record');
      }
    }
  }

  private async backoff(n: number, error: unknown, what: string): Promise<void> {
    const ms = Math.min(this.settings.maxRetryBackoffMs, 100 * 2 ** n);
    this.log.warn({ err: error, retryInMs: ms }, `could not write ${what}; trying again`);
    await new Promise<void>((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.sleepers.add(wake);
    });
  }

  private async writeRetry(
    group: string,
    type: string,
    key: string | undefined,
    body: string,
    headers: Record<string, string>,
    attempt: number,
    delayMs: number,
  ): Promise<void> {
    const topic = this.retryTopicOf(group);
    await this.ensureTopics([topic]);
    await this.producer!.send({
      acks: ACKS_ALL,
      messages: [
        {
          topic,
          ...(key === undefined ? {} : { key: Buffer.from(key, 'utf8') }),
          value: Buffer.from(body, 'utf8'),
          headers: encodeHeaders({
            ...headers,
            [HEADER.type]: type,
            [HEADER.attempt]: String(attempt),
            [HEADER.dueAt]: String(Date.now() + Math.max(0, delayMs)),
          }),
        },
      ],
    });
  }
}

const SASL_MECHANISMS = {
  plain: 'PLAIN',
  'scram-sha-256': 'SCRAM-SHA-256',
  'scram-sha-512': 'SCRAM-SHA-512',
} as const;

/**
 * The Java client's partitioner: a keyed record goes to `toPositive(murmur2(key)) % partitions`
 * (what Java and librdkafka's `murmur2_random` producers do); a record without a key goes round
 * robin. @platformatic/kafka's own default differs for keys whose hash has the top bit set (it
 * takes `murmur2 >>> 0`), so it is not used.
 */
export function javaCompatiblePartitioner(): KafkaPartitioner {
  let next = 0;
  return (_message, key) => (key === undefined ? next++ & 0x7fffffff : murmur2(key) & 0x7fffffff);
}

function errorText(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const nested = (error as Error & { errors?: unknown[] }).errors;
  const inner = Array.isArray(nested)
    ? nested
        .map((e) => (e instanceof Error ? e.message : String(e)))
        .filter((m) => m && m !== error.message)
    : [];
  return [...new Set([error.message, ...inner])].map((m) => m.replace(/\.$/, '')).join(': ');
}

/** Builds the Kafka transport (@platformatic/kafka is loaded on `connect`). */
export async function createKafkaTransport(
  options: TransportOptions,
  settings?: KafkaTransportSettings,
): Promise<Transport> {
  return new KafkaTransport(options, settings);
}
