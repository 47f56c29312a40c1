import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { Readable } from 'node:stream';
import { MultipleErrors, NetworkError, ProtocolError, UserError } from '@platformatic/kafka';
import {
  partitionKey,
  type KafkaAdminLike,
  type KafkaClientLike,
  type KafkaConsumeOptions,
  type KafkaConsumerConfig,
  type KafkaConsumerLike,
  type KafkaGroupJoin,
  type KafkaMessage,
  type KafkaMessagesStream,
  type KafkaOutgoingMessage,
  type KafkaProducerConfig,
  type KafkaProducerLike,
} from '../src/transports/kafka/kafka.client.js';

// ---------------------------------------------------------------------------------------------
// An in-memory Kafka that speaks the @platformatic/kafka API the transport uses, with its
// semantics: `Producer.send` (the producer's partitioner, then `% partitions`, acks checked
// against idempotence), partitioned logs, `Consumer.consume` returning an object-mode Readable of
// `Message`s (fetch loop honouring pause/resume and backpressure, `offsetsToFetch`, `'fetch'`
// events), group membership with a generation and `consumer:group:join` events carrying the
// assignments (round robin over each topic's subscribers), the stream re-reading committed offsets
// after every join (as the library does: records fetched but not committed come again), a
// stream-level single-flight commit queue behind `message.commit()`, commits refused from a closed
// client, `listOffsets` (-1n end, -2n start), and the library's own error classes
// (`TOPIC_ALREADY_EXISTS`, `UNKNOWN_TOPIC_OR_PARTITION`). Compaction is not simulated (compacted
// topics read as plain logs) and rebalances are immediate.
// ---------------------------------------------------------------------------------------------

export interface StoredRecord {
  offset: bigint;
  key?: Buffer;
  value?: Buffer;
  headers: Array<[Buffer, Buffer]>;
}

interface Topic {
  name: string;
  config: Record<string, string>;
  partitions: StoredRecord[][];
}

interface GroupState {
  generation: number;
  members: FakeConsumer[];
}

const EARLIEST = -2n;

export class FakeBroker {
  readonly topics = new Map<string, Topic>();
  readonly committed = new Map<string, Map<string, bigint>>();
  readonly groups = new Map<string, GroupState>();
  readonly producerConfigs: KafkaProducerConfig[] = [];
  readonly sends: Array<{ acks?: number; topics: string[] }> = [];
  readonly commitLog: Array<{ group: string; topic: string; partition: number; offset: bigint }> =
    [];
  /** When set, metadata requests never answer (a hung broker). */
  hung = false;
  /** Number of next sends to refuse. */
  refuseSends = 0;
  private waiters = new Set<() => void>();

  createTopic(name: string, partitions: number, config: Record<string, string> = {}): void {
    if (this.topics.has(name)) {
      throw new MultipleErrors('Creating topics failed.', [
        new ProtocolError('TOPIC_ALREADY_EXISTS'),
      ]);
    }
    this.topics.set(name, {
      name,
      config,
      partitions: Array.from({ length: Math.max(1, partitions) }, () => []),
    });
    // Subscribers of a new topic get its partitions.
    for (const [group, state] of this.groups) {
      if (state.members.some((m) => m.subscribed.has(name))) this.rebalance(group);
    }
  }

  topic(name: string): Topic {
    const topic = this.topics.get(name);
    if (!topic) throw new ProtocolError('UNKNOWN_TOPIC_OR_PARTITION');
    return topic;
  }

  append(name: string, partition: number, record: Omit<StoredRecord, 'offset'>): bigint {
    const log = this.topic(name).partitions[partition]!;
    const offset = BigInt(log.length);
    log.push({ ...record, offset });
    return offset;
  }

  records(name: string): StoredRecord[] {
    return this.topics.get(name)?.partitions.flat() ?? [];
  }

  committedOffset(group: string, topic: string, partition: number): bigint | undefined {
    return this.committed.get(group)?.get(partitionKey(topic, partition));
  }

  /** Wakes fetch loops waiting for records (a fetch request held until data arrives). */
  waitForData(wake: () => void): () => void {
    this.waiters.add(wake);
    return () => this.waiters.delete(wake);
  }

  notify(): void {
    const waiting = [...this.waiters];
    this.waiters.clear();
    for (const wake of waiting) setImmediate(wake);
  }

  join(consumer: FakeConsumer): void {
    const state = this.groups.get(consumer.groupId) ?? { generation: 0, members: [] };
    if (!state.members.includes(consumer)) state.members.push(consumer);
    this.groups.set(consumer.groupId, state);
    this.rebalance(consumer.groupId);
  }

  leave(consumer: FakeConsumer): void {
    const state = this.groups.get(consumer.groupId);
    if (!state?.members.includes(consumer)) return;
    state.members = state.members.filter((m) => m !== consumer);
    this.rebalance(consumer.groupId);
  }

  isMember(consumer: FakeConsumer): boolean {
    return this.groups.get(consumer.groupId)?.members.includes(consumer) ?? false;
  }

  /** A new generation: each topic's partitions dealt round robin over the members subscribed to it. */
  rebalance(group: string): void {
    const state = this.groups.get(group);
    if (!state) return;
    state.generation++;
    const next = new Map<FakeConsumer, Map<string, number[]>>(
      state.members.map((m) => [m, new Map()]),
    );
    const topics = [...new Set(state.members.flatMap((m) => [...m.subscribed]))].sort();
    for (const name of topics) {
      const topic = this.topics.get(name);
      if (!topic) continue;
      const subscribers = state.members.filter((m) => m.subscribed.has(name));
      topic.partitions.forEach((_, p) => {
        const owner = next.get(subscribers[p % subscribers.length]!)!;
        owner.set(name, [...(owner.get(name) ?? []), p]);
      });
    }
    for (const [member, parts] of next) {
      member.assigned(
        state.generation,
        [...parts].map(([topic, partitions]) => ({ topic, partitions })),
      );
    }
  }

  commit(
    consumer: FakeConsumer,
    offsets: Array<{ topic: string; partition: number; offset: bigint }>,
  ): void {
    if (!this.isMember(consumer)) throw new ProtocolError('UNKNOWN_MEMBER_ID');
    const map = this.committed.get(consumer.groupId) ?? new Map<string, bigint>();
    for (const { topic, partition, offset } of offsets) {
      map.set(partitionKey(topic, partition), offset);
      this.commitLog.push({ group: consumer.groupId, topic, partition, offset });
    }
    this.committed.set(consumer.groupId, map);
  }
}

export class FakeProducer implements KafkaProducerLike {
  private closed = false;
  private roundRobin = 0;
  constructor(
    private readonly broker: FakeBroker,
    readonly config: KafkaProducerConfig,
  ) {}

  async send(options: {
    messages: KafkaOutgoingMessage[];
    acks?: number;
  }): Promise<{ offsets: Array<{ topic: string; partition: number; offset: bigint }> }> {
    if (this.closed) throw new NetworkError('Client is closed.', { canRetry: false });
    const acks = options.acks ?? this.config.acks;
    if (this.config.idempotent && acks !== -1) {
      throw new UserError('Idempotent producer requires acks to be ALL (-1).');
    }
    await new Promise<void>((resolve) => setImmediate(resolve)); // the network round trip
    if (this.broker.refuseSends > 0) {
      this.broker.refuseSends--;
      throw new ProtocolError('NOT_ENOUGH_REPLICAS');
    }
    // Partition as the client does: the configured partitioner, then modulo the partition count.
    const placed = options.messages.map((m) => {
      const topic = this.broker.topic(m.topic);
      const raw = this.config.partitioner
        ? this.config.partitioner(m, m.key, { metadata: undefined })
        : this.roundRobin++;
      return { m, partition: raw % topic.partitions.length };
    });
    this.broker.sends.push({ acks, topics: [...new Set(options.messages.map((m) => m.topic))] });
    const offsets = placed.map(({ m, partition }) => ({
      topic: m.topic,
      partition,
      offset: this.broker.append(m.topic, partition, {
        ...(m.key ? { key: Buffer.from(m.key) } : {}),
        ...(m.value ? { value: Buffer.from(m.value) } : {}),
        headers: [...(m.headers ?? new Map<Buffer, Buffer>())].map(([k, v]) => [
          Buffer.from(k),
          Buffer.from(v),
        ]),
      }),
    }));
    this.broker.notify();
    return { offsets };
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

interface CommitWaiter {
  key: string;
  offset: bigint;
  resolve: () => void;
  reject: (error: Error) => void;
}

/** The consumer's `MessagesStream`: an object-mode Readable fed by a fetch loop. */
export class FakeMessagesStream extends Readable implements KafkaMessagesStream {
  readonly offsetsToFetch = new Map<string, bigint>();
  private readonly toCommit = new Map<
    string,
    { topic: string; partition: number; offset: bigint }
  >();
  private commitWaiters: CommitWaiter[] = [];
  private commitInFlight = false;
  private explicitlyPaused = false;
  private refreshing = false;
  private fetchScheduled = false;
  private cancelWait?: () => void;
  private ended = false;
  private halted = false;
  private readonly onJoin = () => this.refreshOffsets();

  constructor(
    private readonly consumer: FakeConsumer,
    private readonly broker: FakeBroker,
    readonly options: KafkaConsumeOptions,
  ) {
    super({ objectMode: true, highWaterMark: options.highWaterMark ?? 1024 });
    consumer.on('consumer:group:join', this.onJoin);
  }

  get topics(): string[] {
    return this.options.topics;
  }

  override _construct(callback: (error?: Error | null) => void): void {
    this.refreshOffsets();
    callback();
  }

  override _read(): void {
    this.scheduleFetch();
  }

  override pause(): this {
    this.explicitlyPaused = true;
    return super.pause();
  }

  override resume(): this {
    const was = this.explicitlyPaused;
    this.explicitlyPaused = false;
    const result = super.resume();
    if (was) this.scheduleFetch();
    return result;
  }

  /** Stops fetching; buffered records are dropped; resolves once the stream is closed. */
  close(): Promise<void> {
    if (this.closed || this.destroyed) return Promise.resolve();
    const done = new Promise<void>((resolve) => this.once('close', () => resolve()));
    if (this.halted) {
      this.destroy();
    } else if (!this.ended) {
      this.ended = true;
      this.cancelWait?.();
      this.push(null);
      if (this.readableFlowing === null || this.isPaused()) {
        this.removeAllListeners('data');
        super.resume();
      }
    }
    return done;
  }

  /** A crash: the loop stops silently (no close, no error: the process is gone). */
  halt(): void {
    this.ended = true;
    this.halted = true;
    this.cancelWait?.();
    this.consumer.off('consumer:group:join', this.onJoin);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.ended = true;
    this.cancelWait?.();
    this.consumer.off('consumer:group:join', this.onJoin);
    callback(error);
  }

  /** As the library: fallback offsets for partitions never read, then the group's commits. */
  private refreshOffsets(): void {
    this.refreshing = true;
    queueMicrotask(() => {
      for (const topic of this.options.topics) {
        const parts = this.broker.topics.get(topic)?.partitions ?? [];
        parts.forEach((log, p) => {
          const key = partitionKey(topic, p);
          const fallback =
            this.options.mode === 'earliest' || this.options.fallbackMode === 'earliest'
              ? 0n
              : BigInt(log.length);
          if (!this.offsetsToFetch.has(key)) this.offsetsToFetch.set(key, fallback);
        });
      }
      if (this.options.mode === 'committed') {
        for (const { topic, partitions } of this.assignments()) {
          for (const p of partitions) {
            const committed = this.broker.committedOffset(this.consumer.groupId, topic, p);
            if (committed !== undefined) this.offsetsToFetch.set(partitionKey(topic, p), committed);
          }
        }
      }
      this.refreshing = false;
      this.scheduleFetch();
    });
  }

  private assignments(): Array<{ topic: string; partitions: number[] }> {
    return (this.consumer.assignments ?? []).filter((a) => this.options.topics.includes(a.topic));
  }

  private scheduleFetch(): void {
    if (this.fetchScheduled) return;
    this.fetchScheduled = true;
    setImmediate(() => {
      this.fetchScheduled = false;
      this.fetch();
    });
  }

  private fetch(): void {
    if (this.ended || this.destroyed) return;
    if (this.readableFlowing === null || this.explicitlyPaused || this.refreshing) return;
    const batch: KafkaMessage[] = [];
    for (const { topic, partitions } of this.assignments()) {
      for (const partition of partitions) {
        const key = partitionKey(topic, partition);
        const log = this.broker.topics.get(topic)?.partitions[partition] ?? [];
        const from = this.offsetsToFetch.get(key) ?? 0n;
        const records = log.slice(Number(from), Number(from) + 100);
        if (records.length === 0) continue;
        this.offsetsToFetch.set(key, records.at(-1)!.offset + 1n);
        for (const r of records) batch.push(this.toMessage(topic, partition, r));
      }
    }
    if (batch.length === 0) {
      // The broker holds the fetch until records arrive (maxWaitTime; here: until woken).
      this.cancelWait = this.broker.waitForData(() => {
        this.cancelWait = undefined;
        this.scheduleFetch();
      });
      return;
    }
    this.emit('fetch');
    let canPush = true;
    for (const message of batch) canPush = this.push(message);
    if (canPush) this.scheduleFetch();
  }

  private toMessage(topic: string, partition: number, r: StoredRecord): KafkaMessage {
    const headers = new Map<Buffer, Buffer>(
      r.headers.map(([k, v]) => [Buffer.from(k), Buffer.from(v)]),
    );
    return {
      topic,
      partition,
      offset: r.offset,
      ...(r.key ? { key: Buffer.from(r.key) } : {}),
      ...(r.value ? { value: Buffer.from(r.value) } : {}),
      headers,
      commit: () => this.commit(topic, partition, r.offset + 1n),
    };
  }

  /** Manual commits share one single-flight queue per stream, merged monotonically per partition. */
  private commit(topic: string, partition: number, offset: bigint): Promise<void> {
    const key = partitionKey(topic, partition);
    const current = this.toCommit.get(key);
    if (!current || current.offset < offset) this.toCommit.set(key, { topic, partition, offset });
    const done = new Promise<void>((resolve, reject) =>
      this.commitWaiters.push({ key, offset, resolve, reject }),
    );
    this.flushCommits();
    return done;
  }

  private flushCommits(): void {
    if (this.commitInFlight || this.toCommit.size === 0) return;
    this.commitInFlight = true;
    const offsets = [...this.toCommit.values()];
    this.toCommit.clear();
    void this.consumer.commit({ offsets }).then(
      () => {
        this.commitInFlight = false;
        this.settle(offsets, null);
        this.flushCommits();
      },
      (error: Error) => {
        this.commitInFlight = false;
        this.settle(offsets, error);
        this.flushCommits();
      },
    );
  }

  private settle(
    offsets: Array<{ topic: string; partition: number; offset: bigint }>,
    error: Error | null,
  ): void {
    const covered = new Map(offsets.map((o) => [partitionKey(o.topic, o.partition), o.offset]));
    this.commitWaiters = this.commitWaiters.filter((w) => {
      const offset = covered.get(w.key);
      if (offset === undefined || w.offset > offset) return true;
      if (error) w.reject(error);
      else w.resolve();
      return false;
    });
  }
}

export class FakeConsumer extends EventEmitter implements KafkaConsumerLike {
  readonly groupId: string;
  readonly memberId = randomUUID();
  generationId = 0;
  assignments: Array<{ topic: string; partitions: number[] }> | null = null;
  /** Topics of all streams (the group subscription). */
  readonly subscribed = new Set<string>();
  readonly streams = new Set<FakeMessagesStream>();
  readonly consumeOptions: KafkaConsumeOptions[] = [];
  closed = false;

  constructor(
    private readonly broker: FakeBroker,
    readonly config: KafkaConsumerConfig,
  ) {
    super();
    this.groupId = config.groupId;
  }

  async consume(options: KafkaConsumeOptions): Promise<FakeMessagesStream> {
    if (this.closed) throw new NetworkError('Client is closed.', { canRetry: false });
    for (const topic of options.topics) this.broker.topic(topic); // unknown topics fail
    this.consumeOptions.push(options);
    await Promise.resolve();
    const before = this.subscribed.size;
    for (const topic of options.topics) this.subscribed.add(topic);
    // Joining (or rejoining with more topics) comes first; the stream then reads its offsets.
    if (!this.broker.isMember(this) || this.subscribed.size !== before) this.broker.join(this);
    const stream = new FakeMessagesStream(this, this.broker, options);
    this.streams.add(stream);
    stream.once('close', () => this.streams.delete(stream));
    return stream;
  }

  async listOffsets(options: {
    topics: string[];
    timestamp?: bigint;
  }): Promise<Map<string, bigint[]>> {
    if (this.closed) throw new NetworkError('Client is closed.', { canRetry: false });
    await Promise.resolve();
    return new Map(
      options.topics.map((name) => [
        name,
        this.broker
          .topic(name)
          .partitions.map((log) => (options.timestamp === EARLIEST ? 0n : BigInt(log.length))),
      ]),
    );
  }

  async commit(options: {
    offsets: Array<{ topic: string; partition: number; offset: bigint }>;
  }): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (this.closed) throw new NetworkError('Client is closed.', { canRetry: false });
    this.broker.commit(this, options.offsets);
  }

  /** Called by the broker for each new generation. */
  assigned(generation: number, assignments: Array<{ topic: string; partitions: number[] }>): void {
    this.generationId = generation;
    this.assignments = assignments;
    const payload: KafkaGroupJoin = {
      groupId: this.groupId,
      memberId: this.memberId,
      generationId: generation,
      assignments,
    };
    this.emit('consumer:group:join', payload);
  }

  async close(force = false): Promise<void> {
    if (this.closed) return;
    const active = [...this.streams].filter((s) => !s.closed && !s.destroyed);
    if (active.length > 0 && !force) {
      throw new UserError('Cannot close the consumer while streams are active.');
    }
    await Promise.all(active.map((s) => s.close()));
    this.closed = true;
    this.broker.leave(this);
    this.emit('client:close');
  }

  /** A crash: gone from the group at once, fetching stops; running handlers become zombies. */
  kill(): void {
    this.closed = true;
    for (const stream of this.streams) stream.halt();
    this.broker.leave(this);
  }
}

export class FakeAdmin implements KafkaAdminLike {
  readonly created: Array<{ topic: string; partitions?: number; config: Record<string, string> }> =
    [];
  readonly deletedGroups: string[] = [];
  constructor(private readonly broker: FakeBroker) {}

  async createTopics(options: {
    topics: string[];
    partitions?: number;
    replicas?: number;
    configs?: Array<{ name: string; value?: string | null }>;
  }): Promise<Array<{ name: string; partitions: number }>> {
    await Promise.resolve();
    const config = Object.fromEntries(
      (options.configs ?? []).map((c) => [c.name, c.value ?? '']),
    ) as Record<string, string>;
    for (const topic of options.topics) {
      this.broker.createTopic(topic, options.partitions ?? 1, config);
      this.created.push({ topic, partitions: options.partitions, config });
    }
    return options.topics.map((name) => ({ name, partitions: options.partitions ?? 1 }));
  }

  metadata(options: { topics: string[]; forceUpdate?: boolean }): Promise<unknown> {
    if (this.broker.hung) return new Promise(() => undefined);
    return Promise.resolve({
      id: 'fake-cluster',
      brokers: new Map([[1, { nodeId: 1, host: 'fake', port: 9092, rack: null }]]),
      controllerId: 1,
      topics: new Map(
        options.topics.map((name) => [
          name,
          { partitionsCount: this.broker.topic(name).partitions.length },
        ]),
      ),
      lastUpdate: Date.now(),
    });
  }

  async deleteGroups(options: { groups: string[] }): Promise<void> {
    this.deletedGroups.push(...options.groups);
    for (const g of options.groups) this.broker.groups.delete(g);
  }

  async close(): Promise<void> {}
}

/** The client factory over one fake broker (what `transportOptions.client` takes). */
export class FakeKafka implements KafkaClientLike {
  readonly consumers: FakeConsumer[] = [];
  readonly admins: FakeAdmin[] = [];
  constructor(readonly broker: FakeBroker = new FakeBroker()) {}

  producer(config: KafkaProducerConfig): FakeProducer {
    this.broker.producerConfigs.push(config);
    return new FakeProducer(this.broker, config);
  }

  consumer(config: KafkaConsumerConfig): FakeConsumer {
    const c = new FakeConsumer(this.broker, config);
    this.consumers.push(c);
    return c;
  }

  admin(): FakeAdmin {
    const a = new FakeAdmin(this.broker);
    this.admins.push(a);
    return a;
  }

  /** The consumer of `group` started last (a restart builds a new one). */
  groupConsumer(group: string): FakeConsumer {
    return this.consumers.filter((c) => c.groupId === group).at(-1)!;
  }
}
