import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  RedisTransport,
  type RedisTransportOptions,
} from '../src/transports/redis/redis.transport.js';
import type { DeliveryHandler, TransportMessage } from '../src/transports/transport.js';
import { describeTransportContract, Recorder } from './contract/transport-contract.js';

const URL = 'redis://127.0.0.1:6379';
const run = randomUUID().slice(0, 8);
const prefix = `redis-it-${run}`;

// The contract gets its own namespace under our prefix so afterAll can remove what it made.
describeTransportContract(
  'redis',
  () => ({ transport: 'redis', url: URL, namespace: `${prefix}-contract` }),
  {
    // XADD by another client: the `body` field and `h:` headers, nothing else.
    publishForeign: async (_, m) => {
      const client = new Redis(URL);
      try {
        const headers = Object.entries(m.headers).flatMap(([k, v]) => [`h:${k}`, v]);
        await client.xadd(`${m.namespace}:events:${m.type}`, '*', 'body', m.body, ...headers);
      } finally {
        client.disconnect();
      }
    },
  },
);

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

const message = (type: string, body: string, key?: string) => ({
  type,
  body,
  headers: { 'x-message-id': body },
  ...(key ? { key } : {}),
});

const letter = (n: number) => ({
  type: 'dl.Event',
  group: 'g',
  body: `body-${n}`,
  headers: { 'x-message-id': `m${n}`, 'x-attempts': '3' },
});

describe('redis transport specifics', () => {
  let admin: Redis;
  const open: RedisTransport[] = [];
  let count = 0;

  async function transport(extra: RedisTransportOptions = {}, namespace?: string) {
    const t = new RedisTransport(
      { url: URL, namespace: namespace ?? `${prefix}-${++count}`, serviceName: 'svc' },
      extra,
    );
    open.push(t);
    await t.connect();
    return t;
  }

  beforeAll(async () => {
    admin = new Redis(URL);
  });

  afterAll(async () => {
    await Promise.all(open.map((t) => t.close()));
    let cursor = '0';
    do {
      const [next, keys] = await admin.scan(cursor, 'MATCH', `${prefix}-*`, 'COUNT', 1000);
      if (keys.length > 0) await admin.del(...keys);
      cursor = next;
    } while (cursor !== '0');
    admin.disconnect();
  });

  it('re-attaches the consumer after CLIENT KILL and handles a message published after the drop once', async () => {
    const namespace = `${prefix}-kill`;
    const t = await transport({}, namespace);
    const seen = new Recorder<TransportMessage>();
    await t.subscribe(
      'drop.Happened',
      'g',
      async (m) => {
        seen.push(m);
        return { outcome: 'success' };
      },
      { prefetch: 4 },
    );
    await t.publish([message('drop.Happened', 'before')]);
    await seen.until(1, (m) => m.body === 'before');

    // An entry handed to this consumer whose reply the drop will lose: another consumer takes it
    // in a transaction (so the blocked reader does not get it), then it moves to ours.
    const stream = `${namespace}:events:drop.Happened`;
    const tx = admin.multi();
    tx.xadd(stream, '*', 'body', 'lost', 'h:x-message-id', 'lost');
    tx.call('XREADGROUP', 'GROUP', 'g', 'other', 'COUNT', 1, 'STREAMS', stream, '>');
    const [[, lostId]] = (await tx.exec()) as [[null, string], ...unknown[]];
    await admin.call('XCLAIM', stream, 'g', t.consumer, 0, lostId, 'JUSTID');

    // Kill every connection of this transport at once (command + blocking), like
    // `CLIENT KILL TYPE normal` restricted to our clients so other suites on this Redis live on.
    const list = String(await admin.call('CLIENT', 'LIST', 'TYPE', 'normal'));
    const ids = list
      .split('\n')
      .filter((line) => line.includes(` name=${namespace}:`))
      .map((line) => /(?:^|\s)id=(\d+)/.exec(line)![1]!);
    expect(ids.length).toBeGreaterThanOrEqual(2);
    const kill = admin.multi();
    for (const id of ids) kill.call('CLIENT', 'KILL', 'ID', id, 'TYPE', 'normal');
    const killed = await kill.exec();
    expect(killed!.map(([, r]) => r)).toEqual(ids.map(() => 1));

    // Recovered at reconnect (not after claimMinIdleMs), as its second delivery.
    const [lost] = await seen.until(1, (m) => m.body === 'lost');
    expect(lost!.attempt).toBe(2);
    await t.publish([message('drop.Happened', 'after', 'k')]);
    await seen.until(1, (m) => m.body === 'after');
    await t.publish([message('drop.Happened', 'marker', 'k')]);
    await seen.until(1, (m) => m.body === 'marker');
    expect(seen.items.filter((m) => m.body === 'after')).toHaveLength(1);
    expect(seen.items.find((m) => m.body === 'after')?.attempt).toBe(1);
    await expect(t.ping()).resolves.toBeUndefined();
  });

  it('re-creates the consumer group when the stream vanished and keeps consuming', async () => {
    const namespace = `${prefix}-vanish`;
    const t = await transport({}, namespace);
    const seen = new Recorder<TransportMessage>();
    await t.subscribe('gone.Event', 'g', async (m) => (seen.push(m), { outcome: 'success' }), {
      prefetch: 2,
    });
    await t.publish([message('gone.Event', 'one')]);
    await seen.until(1, (m) => m.body === 'one');
    await admin.del(`${namespace}:events:gone.Event`);
    await t.publish([message('gone.Event', 'two')]);
    await seen.until(1, (m) => m.body === 'two');
    expect(seen.items.map((m) => m.body)).toEqual(['one', 'two']);
  });

  it('takes over a delivery left pending by a dead consumer, counting it as the next attempt', async () => {
    const namespace = `${prefix}-takeover`;
    const stream = `${namespace}:events:orphan.Event`;
    await admin.call('XGROUP', 'CREATE', stream, 'g', '$', 'MKSTREAM');
    await admin.xadd(stream, '*', 'body', 'orphan', 'h:x-message-id', 'orphan');
    // A consumer that read it and died before acking.
    await admin.call('XREADGROUP', 'GROUP', 'g', 'dead', 'COUNT', 1, 'STREAMS', stream, '>');

    const t = await transport({ claimMinIdleMs: 100, claimIntervalMs: 50 }, namespace);
    const seen = new Recorder<TransportMessage>();
    await t.subscribe('orphan.Event', 'g', async (m) => (seen.push(m), { outcome: 'success' }), {
      prefetch: 1,
    });
    const [m] = await seen.until(1);
    expect(m).toMatchObject({ body: 'orphan', attempt: 2, headers: { 'x-message-id': 'orphan' } });
    await t.close();
    expect(await admin.call('XPENDING', stream, 'g')).toEqual([0, null, null, null]);
  });

  it('keeps a delayed retry in Redis across a stop: another instance of the group delivers it', async () => {
    const namespace = `${prefix}-durable-retry`;
    const first = await transport({}, namespace);
    const seenFirst = new Recorder<TransportMessage>();
    await first.subscribe(
      'retry.Event',
      'g',
      async (m) => (seenFirst.push(m), { outcome: 'retry', delayMs: 300 }),
      { prefetch: 1 },
    );
    await first.publish([message('retry.Event', 'r1')]);
    await seenFirst.until(1);
    await first.close(); // waits for the in-flight delivery, i.e. until its retry is stored
    expect(await admin.zcard(`${namespace}:delayed:retry.Event:g`)).toBe(1);
    expect(await admin.call('XPENDING', `${namespace}:events:retry.Event`, 'g')).toEqual([
      0,
      null,
      null,
      null,
    ]);

    const second = await transport({ delayedPollMs: 50 }, namespace);
    const seenSecond = new Recorder<TransportMessage>();
    await second.subscribe(
      'retry.Event',
      'g',
      async (m) => (seenSecond.push(m), { outcome: 'success' }),
      {
        prefetch: 1,
      },
    );
    const [m] = await seenSecond.until(1);
    expect(m).toMatchObject({ body: 'r1', attempt: 2 });
    await second.close();
    expect(await admin.zcard(`${namespace}:delayed:retry.Event:g`)).toBe(0);
    // settled retry entries are deleted: only this group ever reads its retry stream
    expect(await admin.xlen(`${namespace}:retry:retry.Event:g`)).toBe(0);
  });

  it('redelivers to the named group only, and refuses an unknown group', async () => {
    const t = await transport();
    const seen = new Recorder<{ group: string; m: TransportMessage }>();
    const record =
      (group: string): DeliveryHandler =>
      async (m) => (seen.push({ group, m }), { outcome: 'success' });
    await t.subscribe('replay.Event', 'g1', record('g1'), { prefetch: 2 });
    await t.subscribe('replay.Event', 'g2', record('g2'), { prefetch: 2 });
    await t.redeliver('g1', message('replay.Event', 'again', 'k'));
    const [got] = await seen.until(1, (s) => s.m.body === 'again');
    expect(got).toMatchObject({ group: 'g1', m: { attempt: 1 } });
    await t.publish([message('replay.Event', 'marker')]);
    await seen.until(2, (s) => s.m.body === 'marker');
    expect(seen.items.filter((s) => s.m.body === 'again').map((s) => s.group)).toEqual(['g1']);
    await expect(t.redeliver('nope', message('replay.Event', 'x'))).rejects.toThrow(
      'no group "nope"',
    );
  });

  it('keeps at most prefetch deliveries in flight per subscription', async () => {
    const t = await transport();
    const gate = deferred();
    let active = 0;
    let max = 0;
    const done = new Recorder<string>();
    await t.subscribe(
      'busy.Event',
      'g',
      async (m) => {
        active++;
        max = Math.max(max, active);
        if (active === 3) gate.resolve();
        await gate.promise;
        await new Promise((r) => setImmediate(r));
        active--;
        done.push(m.body);
        return { outcome: 'success' };
      },
      { prefetch: 3 },
    );
    await t.publish(Array.from({ length: 12 }, (_, i) => message('busy.Event', `b${i}`)));
    await done.until(12);
    expect(max).toBe(3);
  });

  it('close() waits for the in-flight delivery, acks it, and is idempotent', async () => {
    const namespace = `${prefix}-close`;
    const t = await transport({}, namespace);
    const started = deferred();
    const release = deferred();
    const order: string[] = [];
    await t.subscribe(
      'slow.Event',
      'g',
      async () => {
        started.resolve();
        await release.promise;
        order.push('handled');
        return { outcome: 'success' };
      },
      { prefetch: 1 },
    );
    await t.publish([message('slow.Event', 's1')]);
    await started.promise;
    const closing = t.close();
    expect(t.close()).toBe(closing);
    release.resolve();
    await closing.then(() => order.push('closed'));
    expect(order).toEqual(['handled', 'closed']);
    expect(await admin.call('XPENDING', `${namespace}:events:slow.Event`, 'g')).toEqual([
      0,
      null,
      null,
      null,
    ]);
    await expect(t.ping()).rejects.toThrow('closed');
    await expect(t.publish([message('slow.Event', 's2')])).rejects.toThrow('closed');
  });

  it('stores dead letters in a stream: listed oldest first, removed by id', async () => {
    const t = await transport();
    await t.deadLetter(letter(1));
    await t.deadLetter(letter(2));
    const listed = await t.listDeadLetters(10);
    expect(listed.map(({ id: _id, ...rest }) => rest)).toEqual([letter(1), letter(2)]);
    await t.removeDeadLetters([listed[0]!]);
    expect((await t.listDeadLetters(10)).map((l) => l.body)).toEqual(['body-2']);
    await expect(t.listDeadLetters(1)).resolves.toHaveLength(1);
  });

  it('fails to connect with a message that names the URL without its password', async () => {
    const t = new RedisTransport({
      url: 'redis://user:s3cret@127.0.0.1:1',
      namespace: `${prefix}-nope`,
      serviceName: 'svc',
    });
    const error = await t.connect().catch((e: unknown) => e as Error);
    expect(error).toBeInstanceOf(Error);
    expect(error!.message).toContain('redis://user:***@127.0.0.1:1');
    expect(error!.message).not.toContain('s3cret');
    await t.close();
  });

  it('publishes a batch atomically with the order kept', async () => {
    const namespace = `${prefix}-batch`;
    const t = await transport({ maxLen: 10 }, namespace);
    await t.publish(Array.from({ length: 5 }, (_, i) => message('batch.Event', `p${i}`)));
    const entries = (await admin.xrange(`${namespace}:events:batch.Event`, '-', '+')) as [
      string,
      string[],
    ][];
    expect(entries.map(([, fields]) => fields[1])).toEqual(['p0', 'p1', 'p2', 'p3', 'p4']);
  });
});
