import { compatibilityPartitioner } from '@platformatic/kafka';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeBroker, FakeKafka, type StoredRecord } from '../../../test/kafka-fake.js';
import type { KafkaMessage } from './kafka.client.js';
import { OffsetCommitter, PartitionProgress } from './kafka.offsets.js';
import {
  encodeHeaders,
  javaPartition,
  murmur2,
  parseKafkaUrl,
  topicName,
} from './kafka.topology.js';
import { javaCompatiblePartitioner, KafkaTransport } from './kafka.transport.js';
import type {
  DeadLetterRecord,
  DeliveryHandler,
  HandlingOutcome,
  TransportMessage,
} from '../transport.js';

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

/** A stored record's header as text. */
function header(record: StoredRecord, name: string): string | undefined {
  return record.headers.find(([k]) => k.toString() === name)?.[1].toString();
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
    const p = new PartitionProgress<string>();
    for (const o of [5n, 6n, 7n, 8n]) p.start(o, `m${o}`);
    expect(p.finish(7n)).toBe(false);
    expect(p.committable).toBeUndefined();
    expect(p.finish(5n)).toBe(true);
    expect([p.committable, p.nextOffset]).toEqual(['m5', 6n]);
    expect(p.finish(6n)).toBe(true);
    expect([p.committable, p.nextOffset, p.pending]).toEqual(['m7', 8n, 1]);
  });

  it('collapses commits requested while one is in flight into one commit of the newest', async () => {
    const done: string[] = [];
    const gate = deferred<void>();
    const c = new OffsetCommitter<string>(
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

  it('partitions keys like the Java client (murmur2, top bit cleared), keyless records round robin', () => {
    // Vectors of the Java client's UtilsTest.testMurmur2.
    expect(murmur2(Buffer.from('21'))).toBe(-973932308);
    expect(murmur2(Buffer.from('foobar'))).toBe(-790332482);
    expect(murmur2(Buffer.from('a-little-bit-longer-string'))).toBe(-1486304829);
    expect(murmur2(Buffer.from('abc'))).toBe(479470107);
    const partitioner = javaCompatiblePartitioner();
    for (const key of ['21', 'foobar', 'cart-1', 'order-42', 'é-ü', '']) {
      const bytes = Buffer.from(key);
      // @platformatic/kafka's compatibilityPartitioner is the same function...
      expect(partitioner({ topic: 't' }, bytes, { metadata: undefined })).toBe(
        compatibilityPartitioner({ topic: 't' }, bytes),
      );
      expect(partitioner({ topic: 't' }, bytes, { metadata: undefined }) % 7).toBe(
        javaPartition(bytes, 7),
      );
    }
    // ...and its default is not: murmur2 >>> 0 moves keys whose hash is negative.
    expect((murmur2(Buffer.from('21')) >>> 0) % 3).not.toBe(javaPartition(Buffer.from('21'), 3));
    const keyless = [0, 1, 2, 3].map(
      () => partitioner({ topic: 't' }, undefined, { metadata: undefined }) % 3,
    );
    expect(keyless).toEqual([0, 1, 2, 0]);
  });
});

describe('the fake broker honours the semantics the transport relies on', () => {
  it('re-fetches uncommitted records after a rejoin, keeps commits, refuses commits from a closed client', async () => {
    const broker = new FakeBroker();
    broker.createTopic('t', 1);
    const kafka = new FakeKafka(broker);
    const producer = kafka.producer({
      idempotent: true,
      acks: -1,
      partitioner: javaCompatiblePartitioner(),
      autocreateTopics: false,
    });
    await expect(
      producer.send({ messages: [{ topic: 't', value: Buffer.from('x') }], acks: 1 }),
    ).rejects.toThrow(/acks/);
    await producer.send({
      messages: ['a', 'b', 'c'].map((v) => ({ topic: 't', value: Buffer.from(v) })),
    });
    const seen = new Log<KafkaMessage>();
    const consumer = kafka.consumer({ groupId: 'g', autocommit: false });
    const joins: number[] = [];
    consumer.on('consumer:group:join', (p) => joins.push(p.generationId ?? -1));
    const stream = await consumer.consume({
      topics: ['t'],
      mode: 'committed',
      fallbackMode: 'earliest',
      autocommit: false,
    });
    stream.on('data', (m) => seen.push(m));
    const first = await seen.until(3);
    expect(first.map((m) => [m.offset, m.value?.toString()])).toEqual([
      [0n, 'a'],
      [1n, 'b'],
      [2n, 'c'],
    ]);
    await first[0]!.commit();
    expect(broker.committedOffset('g', 't', 0)).toBe(1n);
    // Another member joins and leaves: the stream goes back to the committed offset.
    const other = kafka.consumer({ groupId: 'g', autocommit: false });
    await other.consume({ topics: ['t'], mode: 'committed', autocommit: false });
    await other.close(true);
    const again = await seen.until(5);
    expect(again.slice(3).map((m) => m.offset)).toEqual([1n, 2n]);
    expect(joins.length).toBeGreaterThanOrEqual(3);
    await stream.close();
    await consumer.close();
    await expect(first[1]!.commit()).rejects.toThrow(/closed/);
    expect(broker.committedOffset('g', 't', 0)).toBe(1n);
  });
});

describe('KafkaTransport (against an in-memory fake client)', () => {
  it('creates a compacted one-partition dead-letter topic and an idempotent producer', async () => {
    const broker = new FakeBroker();
    const { kafka } = await transport(broker);
    expect(broker.producerConfigs[0]).toMatchObject({ idempotent: true, acks: -1 });
    expect(kafka.admins[0]!.created).toContainEqual({
      topic: 'ns.dead-letters',
      partitions: 1,
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
    expect(header(records[0]!, 'x-message-id')).toBe('m1');
    for (const key of ['a', 'b']) {
      const partition = broker.topics
        .get('ns.shop.ItemAdded')!
        .partitions.findIndex((log) => log.some((r) => r.key?.toString() === key));
      expect(partition).toBe(javaPartition(Buffer.from(key), 4));
    }
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
    const billingConsumer = kafka.groupConsumer('billing');
    expect(billingConsumer.config).toMatchObject({ groupId: 'billing', autocommit: false });
    expect(billingConsumer.consumeOptions).toMatchObject([
      { topics: ['ns.shop.ItemAdded'], mode: 'committed', fallbackMode: 'earliest' },
      { topics: ['ns.billing.retry'], mode: 'committed', fallbackMode: 'earliest' },
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
    expect(broker.commitLog.every((c) => c.offset === 3n)).toBe(true);
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
    expect(header(retries[0]!, 'x-kafka-type')).toBe('shop.ItemAdded');
    expect(Number(header(retries[0]!, 'x-kafka-due-at'))).toBeGreaterThan(0);
    expect(broker.records('ns.steady.retry')).toHaveLength(0);
    expect(seen.items.filter((s) => s.group === 'steady')).toHaveLength(1);
    await eventually(() => broker.committedOffset('flaky', 'ns.flaky.retry', 0) === 2n);
  });

  it('dead-letters retry records it cannot route through the runtime, with the reason', async () => {
    const broker = new FakeBroker();
    const { t, kafka } = await transport(broker);
    const letters = new Log<Omit<DeadLetterRecord, 'id'>>();
    const deadLetter = async (letter: Omit<DeadLetterRecord, 'id'>) => letters.push(letter);
    await t.subscribe('shop.ItemAdded', 'g', recorder(new Log<Seen>(), 'g'), {
      prefetch: 1,
      deadLetter,
    });
    const producer = kafka.producer({
      idempotent: false,
      acks: 1,
      partitioner: () => 0,
      autocreateTopics: false,
    });
    await producer.send({
      messages: [
        // A retry record of a type this service no longer handles, then one not written by us.
        {
          topic: t.retryTopicOf('g'),
          value: Buffer.from('{"n":1}'),
          headers: encodeHeaders({ 'x-message-id': 'r1', 'x-kafka-type': 'shop.Gone' }),
        },
        { topic: t.retryTopicOf('g'), value: Buffer.from('junk') },
      ],
    });
    const [gone, junk] = await letters.until(2);
    expect(gone!.headers).toMatchObject({
      'x-dead-letter-reason': 'unhandled-type: shop.Gone',
      'x-exception-type': 'UnroutableMessageError',
    });
    expect(junk!.headers['x-dead-letter-reason']).toBe('malformed-envelope: missing type');
    // Through the sink only: the transport did not store them a second time itself.
    expect(broker.records('ns.dead-letters')).toHaveLength(0);
    await producer.close();
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
    const dueAt = Number(header(broker.records('ns.g.retry')[0]!, 'x-kafka-due-at'));

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
    expect([tombstone.key?.toString(), tombstone.value]).toEqual([letters[0]!.id, undefined]);

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
    expect(kafka.consumers.filter((c) => c.groupId === 'g')).toHaveLength(2);
    expect(kafka.consumers[0]!.closed).toBe(true);
    expect(kafka.groupConsumer('g').consumeOptions.map((o) => o.topics)).toEqual([
      ['ns.shop.ItemAdded', 'ns.shop.Other'],
      ['ns.g.retry'],
    ]);
    await t.publish([{ ...msg(1), type: 'shop.Other' }]);
    await seen.until(1);
  });

  it('pings through a metadata request and fails fast when the broker hangs', async () => {
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
