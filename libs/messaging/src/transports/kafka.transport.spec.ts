import { afterEach, describe, expect, it } from 'vitest';
import type {
  KafkaAdminLike,
  KafkaBatchPayload,
  KafkaClientLike,
  KafkaConsumerConfig,
  KafkaConsumerLike,
  KafkaHeaders,
  KafkaOutgoingRecord,
  KafkaProducerConfig,
  KafkaProducerLike,
  KafkaRecord,
} from './kafka.client.js';
import { OffsetCommitter, PartitionProgress } from './kafka.offsets.js';
import { parseKafkaUrl, topicName } from './kafka.topology.js';
import { KafkaTransport } from './kafka.transport.js';
import type { DeliveryHandler, HandlingOutcome, TransportMessage } from './transport.js';

// ---------------------------------------------------------------------------------------------
// An in-memory Kafka with the semantics the transport relies on: partitioned logs (key hash →
// partition), per-group committed offsets, one owner per partition within a group (round robin,
// reassigned when a member joins or leaves), fetch position = resolved offset else committed,
// pause/resume/seek per partition, commits refused from a member that is no longer in the group
// (a zombie after a crash), compacted topics read as plain logs (compaction is not simulated).
// Rebalances are immediate (kafkajs waits for running batches first): tests only kill members.
// ---------------------------------------------------------------------------------------------

interface StoredRecord {
  offset: bigint;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, Buffer>;
}

interface Topic {
  name: string;
  config: Record<string, string>;
  partitions: StoredRecord[][];
}

const tp = (topic: string, partition: number) => `${topic}#${partition}`;

function partitionOf(key: Buffer | null, count: number, counter: { n: number }): number {
  if (!key) return counter.n++ % count;
  let h = 0;
  for (const byte of key) h = (h * 31 + byte) >>> 0;
  return h % count;
}

class FakeBroker {
  readonly topics = new Map<string, Topic>();
  readonly committed = new Map<string, Map<string, bigint>>();
  readonly members = new Map<string, FakeConsumer[]>();
  readonly producerConfigs: KafkaProducerConfig[] = [];
  readonly sends: Array<{ acks?: number; topics: string[] }> = [];
  readonly commitLog: Array<{ group: string; topic: string; partition: number; offset: string }> =
    [];
  /** When set, describeCluster never answers (a hung broker). */
  hung = false;
  /** Number of next sends to refuse. */
  refuseSends = 0;
  private readonly counter = { n: 0 };

  createTopic(name: string, partitions: number, config: Record<string, string> = {}): boolean {
    if (this.topics.has(name)) return false;
    this.topics.set(name, {
      name,
      config,
      partitions: Array.from({ length: Math.max(1, partitions) }, () => []),
    });
    return true;
  }

  append(name: string, record: KafkaOutgoingRecord): void {
    const topic = this.topics.get(name);
    if (!topic) throw new Error(`UNKNOWN_TOPIC_OR_PARTITION ${name}`);
    const key = record.key == null ? null : Buffer.from(record.key);
    const log = topic.partitions[partitionOf(key, topic.partitions.length, this.counter)]!;
    const headers: Record<string, Buffer> = {};
    for (const [k, v] of Object.entries(record.headers ?? {})) {
      if (typeof v === 'string' || Buffer.isBuffer(v)) headers[k] = Buffer.from(v);
    }
    log.push({
      offset: BigInt(log.length),
      key,
      value: record.value === null ? null : Buffer.from(record.value),
      headers,
    });
  }

  records(name: string): StoredRecord[] {
    return this.topics.get(name)?.partitions.flat() ?? [];
  }

  committedOffset(group: string, topic: string, partition: number): bigint | undefined {
    return this.committed.get(group)?.get(tp(topic, partition));
  }

  join(consumer: FakeConsumer): void {
    const list = this.members.get(consumer.groupId) ?? [];
    list.push(consumer);
    this.members.set(consumer.groupId, list);
    this.rebalance(consumer.groupId);
  }

  leave(consumer: FakeConsumer): void {
    const list = (this.members.get(consumer.groupId) ?? []).filter((c) => c !== consumer);
    this.members.set(consumer.groupId, list);
    consumer.assign([]);
    this.rebalance(consumer.groupId);
  }

  isMember(consumer: FakeConsumer): boolean {
    return this.members.get(consumer.groupId)?.includes(consumer) ?? false;
  }

  rebalance(group: string): void {
    const members = this.members.get(group) ?? [];
    const all = new Set(members.flatMap((m) => m.topics));
    const partitions = [...all].sort().flatMap((name) => {
      const topic = this.topics.get(name);
      return topic ? topic.partitions.map((_, p) => ({ topic: name, partition: p })) : [];
    });
    const next = new Map<FakeConsumer, Array<{ topic: string; partition: number }>>(
      members.map((m) => [m, []]),
    );
    partitions.forEach((part, i) => next.get(members[i % members.length]!)?.push(part));
    for (const [member, parts] of next) member.assign(parts);
  }

  commit(consumer: FakeConsumer, topic: string, partition: number, offset: string): void {
    if (!this.isMember(consumer) || !consumer.owns(topic, partition)) {
      throw new Error('REBALANCE_IN_PROGRESS: not a member of the current generation');
    }
    const offsets = this.committed.get(consumer.groupId) ?? new Map<string, bigint>();
    offsets.set(tp(topic, partition), BigInt(offset));
    this.committed.set(consumer.groupId, offsets);
    this.commitLog.push({ group: consumer.groupId, topic, partition, offset });
  }

  wakeAll(): void {
    for (const list of this.members.values()) for (const m of list) m.pump();
  }
}

class FakeProducer implements KafkaProducerLike {
  constructor(private readonly broker: FakeBroker) {}
  async connect(): Promise<void> {}
  async disconnect(): Promise<void> {}
  async sendBatch(batch: {
    acks?: number;
    topicMessages?: Array<{ topic: string; messages: KafkaOutgoingRecord[] }>;
  }): Promise<unknown> {
    await Promise.resolve();
    if (this.broker.refuseSends > 0) {
      this.broker.refuseSends--;
      throw new Error('NOT_ENOUGH_REPLICAS');
    }
    const topicMessages = batch.topicMessages ?? [];
    this.broker.sends.push({ acks: batch.acks, topics: topicMessages.map((t) => t.topic) });
    for (const { topic, messages } of topicMessages) {
      for (const m of messages) this.broker.append(topic, m);
    }
    setImmediate(() => this.broker.wakeAll());
    return [];
  }
}

type EachBatch = (payload: KafkaBatchPayload) => Promise<void>;

class FakeConsumer implements KafkaConsumerLike {
  readonly groupId: string;
  topics: string[] = [];
  private fromBeginning = false;
  private running = false;
  private eachBatch?: EachBatch;
  private assigned: Array<{ topic: string; partition: number }> = [];
  private readonly positions = new Map<string, bigint>();
  private readonly seeks = new Map<string, bigint>();
  private readonly paused = new Set<string>();
  private readonly busy = new Map<string, Promise<void>>();
  private scheduled = false;

  constructor(
    private readonly broker: FakeBroker,
    readonly config: KafkaConsumerConfig,
  ) {
    this.groupId = config.groupId;
  }

  async connect(): Promise<void> {}
  async subscribe(s: { topics: string[]; fromBeginning?: boolean }): Promise<void> {
    if (this.running) throw new Error('Cannot subscribe to topic while consumer is running');
    this.topics.push(...s.topics);
    this.fromBeginning = s.fromBeginning ?? false;
  }
  async run(config: { eachBatch?: EachBatch }): Promise<void> {
    this.eachBatch = config.eachBatch;
    this.running = true;
    this.broker.join(this);
  }
  async stop(): Promise<void> {
    this.running = false;
    while (this.busy.size > 0) await Promise.allSettled(this.busy.values());
  }
  async disconnect(): Promise<void> {
    await this.stop();
    this.broker.leave(this);
  }
  /** A crash: gone from the group at once; its running handlers become zombies. */
  kill(): void {
    this.running = false;
    this.broker.leave(this);
  }
  seek({ topic, partition, offset }: { topic: string; partition: number; offset: string }): void {
    this.seeks.set(tp(topic, partition), BigInt(offset));
  }
  owns(topic: string, partition: number): boolean {
    return this.assigned.some((a) => a.topic === topic && a.partition === partition);
  }
  assign(parts: Array<{ topic: string; partition: number }>): void {
    this.assigned = parts;
    for (const key of this.positions.keys()) {
      if (!parts.some((p) => tp(p.topic, p.partition) === key)) this.positions.delete(key);
    }
    this.pump();
  }

  pump(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      for (const { topic, partition } of this.assigned) this.fetch(topic, partition);
    });
  }

  private fetch(topic: string, partition: number): void {
    const id = tp(topic, partition);
    if (!this.running || this.busy.has(id) || this.paused.has(id) || !this.eachBatch) return;
    const log = this.broker.topics.get(topic)?.partitions[partition] ?? [];
    const seek = this.seeks.get(id);
    if (seek !== undefined) {
      this.seeks.delete(id);
      this.positions.set(id, seek);
    }
    const committed = this.broker.committedOffset(this.groupId, topic, partition);
    const start =
      this.positions.get(id) ?? committed ?? (this.fromBeginning ? 0n : BigInt(log.length));
    this.positions.set(id, start);
    if (start >= BigInt(log.length)) return;
    const messages: KafkaRecord[] = log.slice(Number(start), Number(start) + 50).map((r) => ({
      offset: r.offset.toString(),
      key: r.key,
      value: r.value,
      headers: { ...r.headers } as KafkaHeaders,
    }));
    let resolved: bigint | undefined;
    const payload: KafkaBatchPayload = {
      batch: {
        topic,
        partition,
        messages,
        lastOffset: () => messages.at(-1)!.offset,
      },
      resolveOffset: (offset) => (resolved = BigInt(offset) + 1n),
      heartbeat: async () => {},
      pause: () => {
        this.paused.add(id);
        return () => {
          this.paused.delete(id);
          this.pump();
        };
      },
      commitOffsetsIfNecessary: async (offsets) => {
        await Promise.resolve();
        for (const t of offsets?.topics ?? []) {
          for (const p of t.partitions) this.broker.commit(this, t.topic, p.partition, p.offset);
        }
      },
      isRunning: () => this.running,
      isStale: () => this.seeks.has(id),
    };
    const work = this.eachBatch(payload)
      .catch(() => undefined)
      .finally(() => {
        this.busy.delete(id);
        if (resolved !== undefined && this.owns(topic, partition)) this.positions.set(id, resolved);
        this.pump();
      });
    this.busy.set(id, work);
  }
}

class FakeAdmin implements KafkaAdminLike {
  readonly created: Array<{
    topic: string;
    numPartitions?: number;
    config: Record<string, string>;
  }> = [];
  readonly deletedGroups: string[] = [];
  constructor(private readonly broker: FakeBroker) {}
  async connect(): Promise<void> {}
  async disconnect(): Promise<void> {}
  async createTopics(options: Parameters<KafkaAdminLike['createTopics']>[0]): Promise<boolean> {
    let any = false;
    for (const t of options.topics) {
      const config = Object.fromEntries((t.configEntries ?? []).map((e) => [e.name, e.value]));
      if (this.broker.createTopic(t.topic, t.numPartitions ?? 1, config)) {
        any = true;
        this.created.push({ topic: t.topic, numPartitions: t.numPartitions, config });
      }
    }
    return any;
  }
  async fetchTopicOffsets(topic: string) {
    const parts = this.broker.topics.get(topic)?.partitions ?? [];
    return parts.map((log, partition) => ({
      partition,
      offset: String(log.length),
      high: String(log.length),
      low: '0',
    }));
  }
  describeCluster(): Promise<unknown> {
    if (this.broker.hung) return new Promise(() => undefined);
    return Promise.resolve({ brokers: [{ nodeId: 1, host: 'fake', port: 9092 }], clusterId: 'x' });
  }
  async deleteGroups(ids: string[]): Promise<unknown> {
    this.deletedGroups.push(...ids);
    return [];
  }
}

class FakeKafka implements KafkaClientLike {
  readonly consumers: FakeConsumer[] = [];
  readonly admins: FakeAdmin[] = [];
  constructor(readonly broker: FakeBroker) {}
  producer(config: KafkaProducerConfig = {}): KafkaProducerLike {
    this.broker.producerConfigs.push(config);
    return new FakeProducer(this.broker);
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

// ---------------------------------------------------------------------------------------------

/** Resolves when a condition over recorded items holds (no sleeps). */
class Log<T> {
  readonly items: T[] = [];
  private waiters: Array<() => void> = [];
  push(item: T): void {
    this.items.push(item);
    for (const w of this.waiters.splice(0)) w();
  }
  async until(count: number, match: (item: T) => boolean = () => true): Promise<T[]> {
    for (;;) {
      const found = this.items.filter(match);
      if (found.length >= count) return found;
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }
}

function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** Waits until `check` holds, checking after each macrotask (for broker-side state). */
async function eventually(check: () => boolean): Promise<void> {
  while (!check()) await new Promise<void>((r) => setImmediate(r));
}

const NS = 'ns';
const open: KafkaTransport[] = [];

async function transport(
  broker: FakeBroker,
  settings: { partitions?: number; pingTimeoutMs?: number } = {},
): Promise<{ t: KafkaTransport; kafka: FakeKafka }> {
  const kafka = new FakeKafka(broker);
  const t = new KafkaTransport(
    { url: 'kafka://127.0.0.1:9092', namespace: NS, serviceName: 'svc' },
    { client: kafka, partitions: 1, ...settings },
  );
  await t.connect();
  open.push(t);
  return { t, kafka };
}

interface Seen extends TransportMessage {
  group: string;
}

function recorder(
  log: Log<Seen>,
  group: string,
  decide: (m: TransportMessage) => HandlingOutcome | Promise<HandlingOutcome> = () => 'success',
  delayMs = 0,
): DeliveryHandler {
  return async (m) => {
    log.push({ ...m, group });
    return { outcome: await decide(m), delayMs };
  };
}

const msg = (n: number, key = 'cart-1') => ({
  type: 'shop.ItemAdded',
  body: JSON.stringify({ n }),
  headers: { 'x-message-id': `m${n}`, 'x-message-key': key },
  key,
});

afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.close()));
});

describe('kafka topology helpers', () => {
  it('parses kafka:// URLs and plain host:port lists', () => {
    expect(parseKafkaUrl('kafka://k1:9092,k2:9093')).toMatchObject({
      brokers: ['k1:9092', 'k2:9093'],
      ssl: false,
      display: 'kafka://k1:9092,k2:9093',
    });
    expect(parseKafkaUrl('k1:9092, k2').brokers).toEqual(['k1:9092', 'k2:9092']);
    expect(parseKafkaUrl('kafkas://u:s3cret@k1:9094?sasl=scram-sha-512')).toMatchObject({
      ssl: true,
      sasl: { mechanism: 'scram-sha-512', username: 'u', password: 's3cret' },
      display: 'kafkas://u:***@k1:9094',
    });
  });

  it('rejects other schemes without echoing the password', () => {
    expect(() => parseKafkaUrl('amqp://u:s3cret@rabbit:5672')).toThrow(/unknown scheme "amqp"/);
    expect(() => parseKafkaUrl('amqp://u:s3cret@rabbit:5672')).not.toThrow(/s3cret/);
    expect(() => parseKafkaUrl('kafka://')).toThrow(/no broker/);
  });

  it('names topics <namespace>.<type> and sanitises illegal characters without collisions', () => {
    expect(topicName('events', 'shop.ItemAdded')).toBe('events.shop.ItemAdded');
    const a = topicName('events', 'shop/Item Added');
    expect(a).toMatch(/^events\.shop_Item_Added-[0-9a-f]{8}$/);
    expect(topicName('events', 'shop_Item/Added')).not.toBe(a);
    expect(topicName('e', 'x'.repeat(400)).length).toBeLessThanOrEqual(249);
  });

  it('moves the committable offset only over a contiguous done prefix', () => {
    const p = new PartitionProgress();
    for (const o of ['5', '6', '7', '8']) p.start(o);
    expect(p.finish('7')).toBe(false);
    expect(p.committable).toBeUndefined();
    expect(p.finish('5')).toBe(true);
    expect(p.committable).toBe('6');
    expect(p.finish('6')).toBe(true);
    expect([p.resolved, p.committable]).toEqual(['7', '8']);
  });

  it('collapses commits requested while one is in flight into one commit of the newest', async () => {
    const done: string[] = [];
    const gate = deferred<void>();
    const c = new OffsetCommitter(
      async (o) => {
        done.push(o);
        if (o === '1') await gate.promise;
      },
      () => undefined,
    );
    void c.request('1');
    void c.request('2');
    void c.request('3');
    gate.resolve();
    await c.flush();
    expect(done).toEqual(['1', '3']);
  });
});

describe('the fake broker honours the semantics the transport relies on', () => {
  it('keeps per-partition order, refetches unresolved records and refuses commits from a dead member', async () => {
    const broker = new FakeBroker();
    broker.createTopic('t', 1);
    const kafka = new FakeKafka(broker);
    const producer = kafka.producer();
    await producer.sendBatch({
      topicMessages: [{ topic: 't', messages: [{ value: 'a' }, { value: 'b' }] }],
    });
    const seen = new Log<string>();
    let first = true;
    const consumer = kafka.consumer({ groupId: 'g' });
    await consumer.subscribe({ topics: ['t'], fromBeginning: true });
    await consumer.run({
      eachBatch: async ({ batch, resolveOffset }) => {
        for (const m of batch.messages) seen.push(m.value!.toString());
        if (first)
          first = false; // not resolved: fetched again
        else resolveOffset(batch.lastOffset());
      },
    });
    expect(await seen.until(4)).toEqual(['a', 'b', 'a', 'b']);
    consumer.kill();
    expect(() => broker.commit(consumer, 't', 0, '2')).toThrow(/REBALANCE/);
  });
});

describe('KafkaTransport (against an in-memory fake client)', () => {
  it('creates a compacted one-partition dead-letter topic and an idempotent producer', async () => {
    const broker = new FakeBroker();
    const { kafka } = await transport(broker);
    expect(broker.producerConfigs[0]).toMatchObject({ idempotent: true, maxInFlightRequests: 1 });
    expect(kafka.admins[0]!.created).toContainEqual({
      topic: 'ns.dead-letters',
      numPartitions: 1,
      config: { 'cleanup.policy': 'compact' },
    });
  });

  it('publishes to <namespace>.<type> keyed by the aggregate id, acks=all', async () => {
    const broker = new FakeBroker();
    const { t } = await transport(broker, { partitions: 4 });
    await t.publish([msg(1, 'a'), msg(2, 'b'), msg(3, 'a'), { ...msg(4), type: 'shop.Other' }]);
    expect(broker.sends).toEqual([{ acks: -1, topics: ['ns.shop.ItemAdded', 'ns.shop.Other'] }]);
    const records = broker.records('ns.shop.ItemAdded');
    const keyA = records.filter((r) => r.key?.toString() === 'a');
    expect(keyA.map((r) => JSON.parse(r.value!.toString()).n)).toEqual([1, 3]);
    const partitionsOfA = broker.topics
      .get('ns.shop.ItemAdded')!
      .partitions.flatMap((log, p) => (log.some((r) => r.key?.toString() === 'a') ? [p] : []));
    expect(partitionsOfA).toHaveLength(1);
    expect(records[0]!.headers['x-message-id']?.toString()).toBe('m1');
  });

  it('delivers to every group, with consumer group id = group and attempt 1', async () => {
    const broker = new FakeBroker();
    const { t, kafka } = await transport(broker);
    const seen = new Log<Seen>();
    await t.subscribe('shop.ItemAdded', 'billing', recorder(seen, 'billing'), { prefetch: 4 });
    await t.subscribe('shop.ItemAdded', 'shipping', recorder(seen, 'shipping'), { prefetch: 4 });
    await t.publish([msg(1), msg(2)]);
    const billing = await seen.until(2, (s) => s.group === 'billing');
    await seen.until(2, (s) => s.group === 'shipping');
    expect(billing.map((s) => [s.body, s.attempt])).toEqual([
      ['{"n":1}', 1],
      ['{"n":2}', 1],
    ]);
    expect(billing[0]!.headers).toEqual({ 'x-message-id': 'm1', 'x-message-key': 'cart-1' });
    expect(kafka.groupConsumer('billing').topics).toEqual([
      'ns.shop.ItemAdded',
      'ns.billing.retry',
    ]);
    await eventually(() => broker.committedOffset('billing', 'ns.shop.ItemAdded', 0) === 2n);
  });

  it('commits a partition offset only once every earlier record is done, with several in flight', async () => {
    const broker = new FakeBroker();
    const { t } = await transport(broker);
    const gates = new Map([1, 2, 3].map((n) => [n, deferred<HandlingOutcome>()]));
    const seen = new Log<Seen>();
    await t.subscribe(
      'shop.ItemAdded',
      'g',
      recorder(seen, 'g', (m) => gates.get(JSON.parse(m.body).n)!.promise),
      { prefetch: 3 },
    );
    await t.publish([msg(1), msg(2), msg(3)]);
    await seen.until(3); // all three in flight at once
    const committed = () => broker.committedOffset('g', 'ns.shop.ItemAdded', 0);

    gates.get(3)!.resolve('success');
    gates.get(2)!.resolve('success');
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    expect(committed()).toBeUndefined();
    gates.get(1)!.resolve('success');
    await eventually(() => committed() === 3n);
    expect(broker.commitLog.every((c) => c.offset === '3')).toBe(true);
  });

  it('never commits a record whose handler is still running: a crash redelivers it to the next member', async () => {
    const broker = new FakeBroker();
    const first = await transport(broker);
    const gate = deferred<HandlingOutcome>();
    const seen = new Log<Seen>();
    await first.t.subscribe(
      'shop.ItemAdded',
      'g',
      recorder(seen, 'g', () => gate.promise),
      {
        prefetch: 2,
      },
    );
    await first.t.publish([msg(1)]);
    await seen.until(1);
    first.kafka.groupConsumer('g').kill(); // process dies mid-handler

    const second = await transport(broker);
    await second.t.subscribe('shop.ItemAdded', 'g', recorder(seen, 'g2'), { prefetch: 2 });
    const [again] = await seen.until(1, (s) => s.group === 'g2');
    expect(again).toMatchObject({ body: '{"n":1}', attempt: 1 });
    gate.resolve('success'); // the zombie finishes: its commit is refused, no harm done
    await eventually(() => broker.committedOffset('g', 'ns.shop.ItemAdded', 0) === 1n);
  });

  it('retries through <namespace>.<group>.retry, to that group only, not before the due time', async () => {
    const broker = new FakeBroker();
    const { t } = await transport(broker);
    const seen = new Log<Seen>();
    const times: number[] = [];
    await t.subscribe(
      'shop.ItemAdded',
      'flaky',
      recorder(
        seen,
        'flaky',
        (m) => {
          times.push(Date.now());
          return m.attempt < 3 ? 'retry' : 'success';
        },
        60,
      ),
      { prefetch: 1 },
    );
    await t.subscribe('shop.ItemAdded', 'steady', recorder(seen, 'steady'), { prefetch: 1 });
    await t.publish([msg(7)]);
    const flaky = await seen.until(3, (s) => s.group === 'flaky');
    expect(flaky.map((s) => s.attempt)).toEqual([1, 2, 3]);
    expect(flaky[2]!.headers).toEqual({ 'x-message-id': 'm7', 'x-message-key': 'cart-1' });
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(55);
    expect(times[2]! - times[1]!).toBeGreaterThanOrEqual(55);

    const retries = broker.records('ns.flaky.retry');
    expect(retries).toHaveLength(2);
    expect(retries[0]!.key?.toString()).toBe('cart-1');
    expect(retries[0]!.headers['x-kafka-type']?.toString()).toBe('shop.ItemAdded');
    expect(Number(retries[0]!.headers['x-kafka-due-at'])).toBeGreaterThan(0);
    expect(broker.records('ns.steady.retry')).toHaveLength(0);
    expect(seen.items.filter((s) => s.group === 'steady')).toHaveLength(1);
    await eventually(() => broker.committedOffset('flaky', 'ns.flaky.retry', 0) === 2n);
  });

  it('keeps a pending retry in Kafka: after a crash the next member handles it when due', async () => {
    const broker = new FakeBroker();
    const first = await transport(broker);
    const seen = new Log<Seen>();
    await first.t.subscribe(
      'shop.ItemAdded',
      'g',
      recorder(seen, 'g', () => 'retry', 80),
      {
        prefetch: 1,
      },
    );
    await first.t.publish([msg(1)]);
    await seen.until(1);
    await eventually(() => broker.records('ns.g.retry').length === 1);
    await eventually(() => broker.committedOffset('g', 'ns.shop.ItemAdded', 0) === 1n);
    first.kafka.groupConsumer('g').kill();
    const dueAt = Number(broker.records('ns.g.retry')[0]!.headers['x-kafka-due-at']);

    const second = await transport(broker);
    await second.t.subscribe('shop.ItemAdded', 'g', recorder(seen, 'g2'), { prefetch: 1 });
    const [retried] = await seen.until(1, (s) => s.group === 'g2');
    expect(retried!.attempt).toBe(2);
    expect(Date.now()).toBeGreaterThanOrEqual(dueAt);
    expect(seen.items.filter((s) => s.group === 'g2')).toHaveLength(1);
  });

  it('does not commit a retried record until its retry record is stored', async () => {
    const broker = new FakeBroker();
    const { t } = await transport(broker);
    const seen = new Log<Seen>();
    await t.subscribe(
      'shop.ItemAdded',
      'g',
      recorder(seen, 'g', (m) => (m.attempt === 1 ? 'retry' : 'success')),
      { prefetch: 1 },
    );
    await t.publish([msg(1)]);
    broker.refuseSends = 2; // the broker refuses the first two retry writes
    await seen.until(2);
    expect(broker.refuseSends).toBe(0);
    expect(broker.records('ns.g.retry')).toHaveLength(1);
    await eventually(() => broker.committedOffset('g', 'ns.shop.ItemAdded', 0) === 1n);
  });

  it('stores, lists and removes dead letters (tombstones), seen alike by another process', async () => {
    const broker = new FakeBroker();
    const { t } = await transport(broker);
    const headers = { 'x-message-id': 'm1', 'x-exception-type': 'RangeError', 'x-attempts': '3' };
    await t.deadLetter({ type: 'shop.ItemAdded', group: 'g', body: '{"n":1}', headers });
    await t.deadLetter({ type: 'shop.ItemAdded', group: 'h', body: '{"n":2}', headers });
    const letters = await t.listDeadLetters(10);
    expect(letters.map((l) => [l.type, l.group, l.body])).toEqual([
      ['shop.ItemAdded', 'g', '{"n":1}'],
      ['shop.ItemAdded', 'h', '{"n":2}'],
    ]);
    expect(letters[0]!.headers).toEqual(headers);
    expect(await t.listDeadLetters(1)).toHaveLength(1);

    await t.removeDeadLetters([letters[0]!]);
    expect((await t.listDeadLetters(10)).map((l) => l.group)).toEqual(['h']);
    const tombstone = broker.records('ns.dead-letters').at(-1)!;
    expect([tombstone.key?.toString(), tombstone.value]).toEqual([letters[0]!.id, null]);

    const other = await transport(broker);
    expect((await other.t.listDeadLetters(10)).map((l) => l.id)).toEqual([letters[1]!.id]);
  });

  it('redelivers to one group only, through its retry topic, as a first attempt', async () => {
    const broker = new FakeBroker();
    const { t } = await transport(broker);
    const seen = new Log<Seen>();
    await t.subscribe('shop.ItemAdded', 'a', recorder(seen, 'a'), { prefetch: 1 });
    await t.subscribe('shop.ItemAdded', 'b', recorder(seen, 'b'), { prefetch: 1 });
    await t.redeliver('b', { ...msg(9), headers: { 'x-message-id': 'm9', 'x-replayed': 'true' } });
    const [b] = await seen.until(1, (s) => s.group === 'b');
    expect(b).toMatchObject({ attempt: 1, headers: { 'x-replayed': 'true' } });
    await t.publish([msg(10)]);
    await seen.until(1, (s) => s.group === 'a');
    expect(seen.items.filter((s) => s.group === 'a').map((s) => s.body)).toEqual(['{"n":10}']);
  });

  it('adds a type to a running group by restarting its consumer with every topic', async () => {
    const broker = new FakeBroker();
    const { t, kafka } = await transport(broker);
    const seen = new Log<Seen>();
    await t.subscribe('shop.ItemAdded', 'g', recorder(seen, 'g'), { prefetch: 1 });
    await t.subscribe('shop.Other', 'g', recorder(seen, 'g'), { prefetch: 1 });
    expect(kafka.groupConsumer('g').topics).toEqual([
      'ns.shop.ItemAdded',
      'ns.shop.Other',
      'ns.g.retry',
    ]);
    await t.publish([{ ...msg(1), type: 'shop.Other' }]);
    await seen.until(1);
  });

  it('pings through describeCluster and fails fast when the broker hangs', async () => {
    const broker = new FakeBroker();
    const { t } = await transport(broker, { pingTimeoutMs: 50 });
    await expect(t.ping()).resolves.toBeUndefined();
    broker.hung = true;
    const started = Date.now();
    await expect(t.ping()).rejects.toThrow(/did not answer within 50 ms/);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('close() waits for in-flight deliveries, commits them, and is idempotent', async () => {
    const broker = new FakeBroker();
    const { t } = await transport(broker);
    const gate = deferred<HandlingOutcome>();
    const seen = new Log<Seen>();
    await t.subscribe(
      'shop.ItemAdded',
      'g',
      recorder(seen, 'g', () => gate.promise),
      {
        prefetch: 1,
      },
    );
    await t.publish([msg(1), msg(2)]);
    await seen.until(1);
    let closed = false;
    const closing = t.close().then(() => (closed = true));
    await new Promise((r) => setImmediate(r));
    expect(closed).toBe(false);
    gate.resolve('success');
    await closing;
    await t.close();
    expect(broker.committedOffset('g', 'ns.shop.ItemAdded', 0)).toBe(1n);
    expect(seen.items).toHaveLength(1); // the second record was not started
    await expect(t.publish([msg(3)])).rejects.toThrow(/closed/);
    await expect(t.ping()).rejects.toThrow(/not connected/);
  });
});
