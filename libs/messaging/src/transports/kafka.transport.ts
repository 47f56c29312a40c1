import { randomUUID } from 'node:crypto';
import type { Kafka, KafkaConfig, LogEntry, logLevel as KafkaLogLevel, SASLOptions } from 'kafkajs';
import { getLogger, withTimeout } from '@infrastructure/monitoring';
import { loadDriver } from '@infrastructure/persistence';
import { MessagingConfigError } from '../errors.js';
import type {
  KafkaAdminLike,
  KafkaBatchPayload,
  KafkaClientLike,
  KafkaConsumerLike,
  KafkaOutgoingRecord,
  KafkaProducerLike,
  KafkaRecord,
} from './kafka.client.js';
import { KafkaDeadLetterView } from './kafka.dead-letters.js';
import { OffsetCommitter, PartitionProgress } from './kafka.offsets.js';
import {
  decodeHeaders,
  HEADER,
  parseKafkaUrl,
  topicName,
  type KafkaConnection,
} from './kafka.topology.js';
import type {
  DeadLetterRecord,
  DeliveryHandler,
  OutgoingMessage,
  SubscribeOptions,
  Transport,
  TransportMessage,
  TransportOptions,
} from './transport.js';

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
  /** How long `ping()` waits for `describeCluster`. @default 2000 */
  pingTimeoutMs?: number;
  /** How long `listDeadLetters` may take to read the dead-letter topic to its end. @default 15000 */
  deadLetterReadTimeoutMs?: number;
  /** Consumer session timeout: a crashed member's partitions move after this. @default 30000 */
  sessionTimeoutMs?: number;
  /** Longest wait between tries to write a retry record while the broker refuses it. @default 5000 */
  maxRetryBackoffMs?: number;
  /** A ready client (tests, custom kafkajs settings); the URL is then only used in messages. */
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

/** Heartbeats sent while a long batch is being handled (kafkajs only beats between batches). */
const HEARTBEAT_MS = 3000;

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
  consumer?: KafkaConsumerLike;
  /** Serialises (re)starts of the group's consumer. */
  chain: Promise<void>;
  scheduled?: Promise<void>;
}

interface Decoded {
  type: string | undefined;
  key: string | undefined;
  body: string;
  headers: Record<string, string>;
  attempt: number;
  dueAt: number;
}

/**
 * Kafka transport (kafkajs). Topology, per namespace `ns`:
 * - `ns.<type>`: one topic per event type, keyed by the aggregate id (per-key order);
 * - consumer group id = the messaging group; one consumer per group reads all its types;
 * - `ns.<group>.retry`: the group's retries, with a due-time header; read by that group only,
 *   pausing the partition until the head record is due;
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
  private readonly timers = new Set<NodeJS.Timeout>();
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
      idempotent: true,
      // One request in flight per broker keeps publish order through retries.
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
    });
    this.admin = this.client.admin();
    await Promise.all([this.producer.connect(), this.admin.connect()]);
    await this.ensureTopics([this.deadLetterTopic], {
      numPartitions: 1,
      configEntries: [{ name: 'cleanup.policy', value: 'compact' }],
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
    const byTopic = new Map<string, KafkaOutgoingRecord[]>();
    for (const m of messages) {
      const topic = this.topicOf(m.type);
      let list = byTopic.get(topic);
      if (!list) byTopic.set(topic, (list = []));
      list.push({ key: m.key ?? null, value: m.body, headers: { ...m.headers } });
    }
    await this.ensureTopics([...byTopic.keys()]);
    await producer.sendBatch({
      acks: -1,
      topicMessages: [...byTopic].map(([topic, records]) => ({ topic, messages: records })),
    });
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
      };
      this.groups.set(group, g);
    }
    if (g.subs.has(type))
      throw new Error(`KafkaTransport: ${type} is already subscribed by "${group}"`);
    const prefetch = Math.max(1, options.prefetch);
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
    await producer.sendBatch({
      acks: -1,
      topicMessages: [
        {
          topic: this.deadLetterTopic,
          messages: [
            {
              key: randomUUID(),
              value: letter.body,
              headers: {
                ...letter.headers,
                [HEADER.letterType]: letter.type,
                [HEADER.letterGroup]: letter.group,
              },
            },
          ],
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
    await producer.sendBatch({
      acks: -1,
      topicMessages: [
        {
          topic: this.deadLetterTopic,
          messages: letters.map((l) => ({ key: l.id, value: null })),
        },
      ],
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
      this.admin.describeCluster(),
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
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const wake of this.sleepers) wake();
    // Disconnecting a consumer waits for its running batch, which waits for its deliveries.
    await Promise.allSettled(
      [...this.groups.values()].map(async (g) => {
        await g.chain;
        await g.consumer?.disconnect();
      }),
    );
    await this.view
      ?.close()
      .catch((error: unknown) => this.log.warn({ err: error }, 'dead-letter reader close failed'));
    await Promise.allSettled([this.producer?.disconnect(), this.admin?.disconnect()]);
    this.log.info('Kafka transport closed');
  }

  private requireOpen(): KafkaProducerLike {
    if (this.closing) throw new Error('KafkaTransport is closed');
    if (!this.producer) throw new Error('KafkaTransport: connect() first');
    return this.producer;
  }

  private async createClient(): Promise<KafkaClientLike> {
    const mod = await loadDriver<typeof import('kafkajs') & { default?: typeof import('kafkajs') }>(
      'kafkajs',
      'MessagingModule transport "kafka"',
    );
    const driver = mod.default ?? mod;
    const { brokers, ssl, sasl } = this.connection;
    const config: KafkaConfig = {
      clientId: this.options.serviceName,
      brokers,
      ssl,
      ...(sasl ? { sasl: saslOptions(sasl) } : {}),
      logLevel: driver.logLevel.WARN,
      logCreator: () => (entry: LogEntry) => this.kafkaLog(entry, driver.logLevel),
    };
    const kafka: Kafka = new driver.Kafka(config);
    return {
      // The Java-compatible (murmur2) partitioner: the same key lands on the same partition as
      // with Java/librdkafka producers. Naming it also silences kafkajs' v2 migration warning.
      producer: (c) =>
        kafka.producer({ ...c, createPartitioner: driver.Partitioners.DefaultPartitioner }),
      consumer: (c) => kafka.consumer(c),
      admin: () => kafka.admin(),
    };
  }

  private kafkaLog(entry: LogEntry, levels: typeof KafkaLogLevel): void {
    const { message, ...extra } = entry.log;
    const fields = { kafka: entry.namespace, ...extra };
    if (entry.level === levels.ERROR) this.log.error(fields, message);
    else if (entry.level === levels.WARN) this.log.warn(fields, message);
    else this.log.debug(fields, message);
  }

  private async ensureTopics(
    topics: string[],
    config: {
      numPartitions?: number;
      configEntries?: Array<{ name: string; value: string }>;
    } = {},
  ): Promise<void> {
    const missing = topics.filter((t) => !this.knownTopics.has(t));
    if (missing.length === 0 || !this.settings.createTopics) return;
    await this.admin!.createTopics({
      waitForLeaders: true,
      topics: missing.map((topic) => ({
        topic,
        numPartitions: config.numPartitions ?? this.settings.partitions,
        replicationFactor: this.settings.replicationFactor,
        ...(config.configEntries ? { configEntries: config.configEntries } : {}),
      })),
    });
    for (const t of missing) this.knownTopics.add(t);
  }

  /**
   * Starts (or restarts, when a type is added later) the group's consumer. Subscriptions made in
   * the same tick (the runtime subscribes every handler at once) share one start.
   */
  private scheduleStart(g: Group): Promise<void> {
    if (!g.scheduled) {
      const run = g.chain
        .then(() => new Promise<void>((resolve) => setImmediate(resolve)))
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
    const topics = [...new Set(subs.map((s) => s.topic)), g.retryTopic];
    await this.ensureTopics(topics);
    const previous = g.consumer;
    g.consumer = undefined;
    await previous?.disconnect();
    const consumer = this.client!.consumer({
      groupId: g.name,
      sessionTimeout: this.settings.sessionTimeoutMs,
      heartbeatInterval: HEARTBEAT_MS,
      allowAutoTopicCreation: false,
      // kafkajs restarts a crashed consumer (broker gone, coordinator moved) unless we are closing.
      retry: { restartOnFailure: async () => !this.closing },
    });
    g.consumer = consumer;
    await consumer.connect();
    await consumer.subscribe({ topics, fromBeginning: this.settings.fromBeginning });
    const concurrency = subs.reduce((n, s) => n + s.prefetch, 0);
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: Math.min(64, Math.max(1, concurrency)),
      eachBatch: (payload) => this.onBatch(g, consumer, payload),
    });
    this.log.debug({ group: g.name, topics }, 'consumer started');
  }

  /**
   * Handles one fetched batch: records start in offset order (up to each subscription's prefetch
   * at once), the offset advances over the contiguous done prefix only, and the batch returns
   * once everything it started is done. A retry record not yet due stops the batch: the
   * partition is sought back to it and paused until it is due (the record stays in Kafka, so a
   * crash loses nothing: the partition's next owner waits for it the same way).
   */
  private async onBatch(
    g: Group,
    consumer: KafkaConsumerLike,
    payload: KafkaBatchPayload,
  ): Promise<void> {
    const { batch } = payload;
    const isRetryTopic = batch.topic === g.retryTopic;
    const progress = new PartitionProgress();
    const committer = new OffsetCommitter(
      (offset) =>
        payload.commitOffsetsIfNecessary({
          topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset }] }],
        }),
      (error, offset) =>
        this.log.warn(
          { err: error, group: g.name, topic: batch.topic, partition: batch.partition, offset },
          'offset commit failed; unfinished records will be redelivered',
        ),
    );
    const advance = () => {
      const last = progress.resolved;
      const next = progress.committable;
      if (last === undefined || next === undefined) return;
      payload.resolveOffset(last);
      void committer.request(next);
    };
    const started: Promise<void>[] = [];
    const beat = setInterval(() => void payload.heartbeat().catch(() => undefined), HEARTBEAT_MS);
    let waitFor: { offset: string; dueAt: number } | undefined;
    try {
      for (const record of batch.messages) {
        if (this.closing || !payload.isRunning() || payload.isStale()) break;
        const d = this.decode(g, batch.topic, isRetryTopic, record);
        if (d.dueAt > Date.now()) {
          waitFor = { offset: record.offset, dueAt: d.dueAt };
          break;
        }
        const sub = d.type === undefined ? undefined : g.subs.get(d.type);
        if (sub) {
          await sub.slots.acquire();
          if (this.closing || !payload.isRunning() || payload.isStale()) {
            sub.slots.release();
            break;
          }
        }
        progress.start(record.offset);
        const work = (sub ? this.deliver(g, sub, d) : this.unroutable(g, batch.topic, d))
          .finally(() => sub?.slots.release())
          .then((done) => {
            if (done && progress.finish(record.offset)) advance();
          });
        started.push(work);
      }
      await Promise.all(started);
      advance();
      await committer.flush();
    } finally {
      clearInterval(beat);
    }
    if (waitFor && !this.closing && payload.isRunning()) {
      const { offset, dueAt } = waitFor;
      consumer.seek({ topic: batch.topic, partition: batch.partition, offset });
      const resume = payload.pause();
      const timer = setTimeout(
        () => {
          this.timers.delete(timer);
          resume();
        },
        Math.max(0, dueAt - Date.now()),
      );
      this.timers.add(timer);
    }
  }

  private decode(g: Group, topic: string, isRetryTopic: boolean, record: KafkaRecord): Decoded {
    const { visible, internal } = decodeHeaders(record.headers);
    const body = record.value?.toString('utf8') ?? '';
    const key = record.key?.toString('utf8');
    if (!isRetryTopic) {
      const type = [...g.subs.values()].find((s) => s.topic === topic)?.type;
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

  /** A retry record whose type this process does not handle: dead-lettered, never dropped. */
  private async unroutable(g: Group, topic: string, d: Decoded): Promise<boolean> {
    const type = d.type ?? topic;
    this.log.error(
      { group: g.name, type },
      'no subscription for retried message; dead-lettering it',
    );
    for (let attempt = 0; ; attempt++) {
      try {
        await this.deadLetter({
          type,
          group: g.name,
          body: d.body,
          headers: {
            ...d.headers,
            'x-exception-message': `group "${g.name}" has no handler for ${type} in this service`,
            'x-exception-type': 'UnroutableMessageError',
            'x-attempts': String(d.attempt),
            'x-original-destination': `${type}#${g.name}`,
            'x-failed-at': new Date().toISOString(),
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
    await this.producer!.sendBatch({
      acks: -1,
      topicMessages: [
        {
          topic,
          messages: [
            {
              key: key ?? null,
              value: body,
              headers: {
                ...headers,
                [HEADER.type]: type,
                [HEADER.attempt]: String(attempt),
                [HEADER.dueAt]: String(Date.now() + Math.max(0, delayMs)),
              },
            },
          ],
        },
      ],
    });
  }
}

function saslOptions({
  mechanism,
  username,
  password,
}: NonNullable<KafkaConnection['sasl']>): SASLOptions {
  switch (mechanism) {
    case 'plain':
      return { mechanism, username, password };
    case 'scram-sha-256':
      return { mechanism, username, password };
    case 'scram-sha-512':
      return { mechanism, username, password };
  }
}

/** Builds the Kafka transport (kafkajs is loaded on `connect`). */
export async function createKafkaTransport(
  options: TransportOptions,
  settings?: KafkaTransportSettings,
): Promise<Transport> {
  return new KafkaTransport(options, settings);
}
