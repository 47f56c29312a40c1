import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { connect } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  DeadLetterRecord,
  OutgoingMessage,
  TransportMessage,
} from '@infrastructure/messaging';
import {
  createRabbitMqTransport,
  type RabbitMqConnectionEvent,
  type RabbitMqTransport,
  type RabbitMqTransportOptions,
} from '../src/transports/rabbitmq/rabbitmq.transport.js';
import { describeTransportContract, Recorder } from './contract/transport-contract.js';

const run = promisify(execFile);
const rabbitmqctl = (...args: string[]) => run('rabbitmqctl', ['-q', ...args]);

const BROKER = process.env.RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
// A vhost of our own: closing "all" its connections only touches this file's clients, and
// deleting it at the end removes every queue and exchange the tests declared.
const VHOST = `messaging-test-${randomUUID().slice(0, 8)}`;
const URL_IN_VHOST = `${BROKER}/${encodeURIComponent(VHOST)}`;

const message = (type: string, id: string = randomUUID(), body = '{}'): OutgoingMessage => ({
  type,
  body,
  headers: { 'x-message-id': id, 'content-type': 'application/json' },
});

const letter = (n: number) => ({
  type: 'shop.Dead',
  group: 'g',
  body: `{"n":${n}}`,
  headers: { 'x-message-id': `d${n}`, 'x-exception-type': 'Error', 'x-attempts': '3' },
});

/** Ready messages per queue, read on a connection of its own (the drop test closes them all). */
async function queueDepths(...queues: string[]): Promise<number[]> {
  const admin = await connect(URL_IN_VHOST);
  try {
    const channel = await admin.createChannel();
    const depths: number[] = [];
    for (const queue of queues) depths.push((await channel.checkQueue(queue)).messageCount);
    return depths;
  } finally {
    await admin.close();
  }
}

const succeed = async () => ({ outcome: 'success' as const });

/** Puts a message straight into a queue (default exchange), as a foreign publisher would. */
async function sendToQueue(
  queue: string,
  body: string,
  headers: Record<string, string>,
  properties: { type?: string; messageId?: string } = {},
): Promise<void> {
  const foreign = await connect(URL_IN_VHOST);
  try {
    const channel = await foreign.createConfirmChannel();
    channel.sendToQueue(queue, Buffer.from(body), { headers, persistent: true, ...properties });
    await channel.waitForConfirms();
  } finally {
    await foreign.close();
  }
}

describe('rabbitmq transport', () => {
  const open: RabbitMqTransport[] = [];

  beforeAll(async () => {
    await rabbitmqctl('add_vhost', VHOST);
    await rabbitmqctl('set_permissions', '-p', VHOST, 'guest', '.*', '.*', '.*');
  }, 30_000);

  afterAll(async () => {
    try {
      await Promise.all(open.map((t) => t.close()));
    } finally {
      await rabbitmqctl('delete_vhost', VHOST);
    }
  }, 30_000);

  async function transport(
    namespace = `ns-${randomUUID().slice(0, 8)}`,
    settings: RabbitMqTransportOptions = {},
  ): Promise<RabbitMqTransport> {
    const t = await createRabbitMqTransport(
      { url: URL_IN_VHOST, namespace, serviceName: `svc-${randomUUID().slice(0, 8)}` },
      settings,
    );
    open.push(t);
    await t.connect();
    return t;
  }

  describeTransportContract('rabbitmq', () => ({ transport: 'rabbitmq', url: URL_IN_VHOST }), {
    publishForeign: (_, m) => sendToQueue(`${m.namespace}.${m.group}`, m.body, m.headers),
  });

  it('declares one queue per group with a binding per type and dispatches by type', async () => {
    const ns = `ns-${randomUUID().slice(0, 8)}`;
    const t = await transport(ns);
    const got = new Recorder<{ handler: string; id: string; attempt: number }>();
    const handler = (name: string) => async (m: TransportMessage) => {
      got.push({ handler: name, id: m.headers['x-message-id']!, attempt: m.attempt });
      return { outcome: 'success' as const };
    };
    await Promise.all([
      t.subscribe('shop.A', 'g', handler('a'), { prefetch: 2 }),
      t.subscribe('shop.B', 'g', handler('b'), { prefetch: 3 }),
    ]);
    await t.publish([message('shop.A', 'a1'), message('shop.B', 'b1'), message('shop.A', 'a2')]);
    const all = await got.until(3);
    expect(all.map((x) => `${x.handler}:${x.id}:${x.attempt}`).sort()).toEqual([
      'a:a1:1',
      'a:a2:1',
      'b:b1:1',
    ]);
    expect(await queueDepths(`${ns}.g`, `${ns}.g.retry`, `${ns}.dead-letters`)).toEqual([0, 0, 0]);
  });

  it('gives only well-formed messages of a type it does not handle the rolling-deploy grace', async () => {
    const ns = `ns-${randomUUID().slice(0, 8)}`;
    const t = await transport(ns, { unhandledRetryDelayMs: 1_000, unhandledMaxRequeues: 2 });
    const letters = new Recorder<{ letter: Omit<DeadLetterRecord, 'id'>; at: number }>();
    const deadLetter = async (stored: Omit<DeadLetterRecord, 'id'>) => {
      await t.deadLetter(stored);
      letters.push({ letter: stored, at: Date.now() });
    };
    await t.subscribe('shop.A', 'g', succeed, { prefetch: 2, deadLetter });

    // Ours, of a type another version of the service bound to this queue: requeued twice first.
    const started = Date.now();
    const envelope = JSON.stringify({ id: 'w1', type: 'shop.New', payload: {} });
    await sendToQueue(`${ns}.g`, envelope, { 'x-message-id': 'w1' }, { type: 'shop.New' });
    // Not ours although it names a type: no grace.
    const sent = Date.now();
    await sendToQueue(`${ns}.g`, 'garbage', { 'x-message-id': 'm1' }, { type: 'shop.New' });

    const [garbage] = await letters.until(1, (l) => l.letter.body === 'garbage');
    expect(garbage!.at - sent).toBeLessThan(1_000); // sooner than one requeue
    expect(garbage!.letter.headers).toMatchObject({
      'x-dead-letter-reason': 'malformed-envelope: body is not JSON',
      'x-exception-type': 'PoisonMessageError',
    });
    const [unhandled] = await letters.until(1, (l) => l.letter.body === envelope);
    expect(unhandled!.at - started).toBeGreaterThanOrEqual(2_000); // 2 requeues of 1 s
    expect(unhandled!.letter).toMatchObject({ type: 'shop.New', group: 'g' });
    expect(unhandled!.letter.headers).toMatchObject({
      'x-dead-letter-reason': 'unhandled-type: shop.New',
      'x-exception-type': 'UnhandledTypeError',
      'x-original-destination': 'shop.New#g',
    });
    expect(await queueDepths(`${ns}.g`, `${ns}.g.retry`, `${ns}.dead-letters`)).toEqual([0, 0, 2]);
  });

  it("passes a foreign message's AMQP messageId on as x-message-id (so the inbox can de-duplicate it)", async () => {
    const ns = `ns-${randomUUID().slice(0, 8)}`;
    const t = await transport(ns);
    const got = new Recorder<string | undefined>();
    await t.subscribe(
      'shop.Plain',
      'g',
      async (m) => {
        got.push(m.headers['x-message-id']);
        return { outcome: 'success' as const };
      },
      { prefetch: 1 },
    );
    await sendToQueue(`${ns}.g`, '{"plain":true}', {}, { type: 'shop.Plain', messageId: 'amqp-7' });
    await sendToQueue(
      `${ns}.g`,
      '{"plain":true}',
      { 'x-message-id': 'ours-1' },
      { type: 'shop.Plain', messageId: 'amqp-8' },
    );
    expect((await got.until(2)).sort()).toEqual(['amqp-7', 'ours-1']);
  });

  it('confirms publishes to a type no group is bound to (unroutable events are normal)', async () => {
    const t = await transport();
    await expect(t.publish([message('nobody.Listens')])).resolves.toBeUndefined();
  });

  it('keeps a delayed retry in the broker across a crash and redelivers it with attempt + 1', async () => {
    const ns = `ns-${randomUUID().slice(0, 8)}`;
    const first = await transport(ns);
    const attempts = new Recorder<{ attempt: number; at: number }>();
    await first.subscribe(
      'shop.Retried',
      'g',
      async (m) => {
        attempts.push({ attempt: m.attempt, at: Date.now() });
        return { outcome: 'retry', delayMs: 3_000 };
      },
      { prefetch: 1 },
    );
    await first.publish([message('shop.Retried', 'r1')]);
    const [firstTry] = await attempts.until(1);
    // The process goes away while the retry waits: nothing of it lives in memory.
    await first.close();
    expect(await queueDepths(`${ns}.g.retry`, `${ns}.g`)).toEqual([1, 0]);

    const second = await transport(ns);
    const again = new Recorder<{ attempt: number; at: number; id?: string }>();
    await second.subscribe(
      'shop.Retried',
      'g',
      async (m) => {
        again.push({ attempt: m.attempt, at: Date.now(), id: m.headers['x-message-id'] });
        return { outcome: 'success' };
      },
      { prefetch: 1 },
    );
    const [retried] = await again.until(1);
    expect(retried).toMatchObject({ attempt: 2, id: 'r1' });
    expect(retried!.at - firstTry!.at).toBeGreaterThanOrEqual(2_900);
  });

  it('retries on quorum queues too, counting attempts per group', async () => {
    const t = await transport(undefined, { queueType: 'quorum' });
    const seen = new Recorder<number>();
    await t.subscribe(
      'shop.Quorum',
      'q',
      async (m) => {
        seen.push(m.attempt);
        return m.attempt < 3 ? { outcome: 'retry', delayMs: 20 } : { outcome: 'success' };
      },
      { prefetch: 4 },
    );
    await t.publish([message('shop.Quorum')]);
    expect(await seen.until(3)).toEqual([1, 2, 3]);
  });

  it('stores dead letters durably, lists them oldest first without removing, removes selected ones', async () => {
    const t = await transport();
    for (const n of [1, 2, 3, 4]) await t.deadLetter(letter(n));
    const listed = await t.listDeadLetters(10);
    expect(listed.map((l) => l.headers['x-message-id'])).toEqual(['d1', 'd2', 'd3', 'd4']);
    expect(listed[0]).toMatchObject({
      type: 'shop.Dead',
      group: 'g',
      body: '{"n":1}',
      headers: { 'x-message-id': 'd1', 'x-exception-type': 'Error', 'x-attempts': '3' },
    });
    expect(Object.keys(listed[0]!.headers)).not.toContain('x-dead-letter-group');
    expect((await t.listDeadLetters(2)).map((l) => l.id)).toEqual(
      listed.slice(0, 2).map((l) => l.id),
    );
    await t.removeDeadLetters([listed[1]!, listed[3]!]);
    expect((await t.listDeadLetters(10)).map((l) => l.headers['x-message-id'])).toEqual([
      'd1',
      'd3',
    ]);
  });

  it('redelivers to one group only, as a first attempt, and fails for a group without a queue', async () => {
    const t = await transport();
    const got = new Recorder<{ group: string; attempt: number; replayed?: string }>();
    const handler = (group: string) => async (m: TransportMessage) => {
      got.push({ group, attempt: m.attempt, replayed: m.headers['x-replayed'] });
      return { outcome: 'success' as const };
    };
    await t.subscribe('shop.Replay', 'g1', handler('g1'), { prefetch: 1 });
    await t.subscribe('shop.Replay', 'g2', handler('g2'), { prefetch: 1 });
    const replay = message('shop.Replay');
    replay.headers['x-replayed'] = 'true';
    replay.headers['x-attempt'] = '3';
    await t.redeliver('g2', replay);
    const marker = randomUUID();
    await t.publish([message('shop.Replay', marker)]);
    await got.until(2, (x) => x.group === 'g2');
    await got.until(1, (x) => x.group === 'g1');
    expect(got.items.filter((x) => x.group === 'g1')).toEqual([{ group: 'g1', attempt: 1 }]);
    expect(got.items.filter((x) => x.group === 'g2')[0]).toEqual({
      group: 'g2',
      attempt: 1,
      replayed: 'true',
    });
    await expect(t.redeliver('nobody', message('shop.Replay'))).rejects.toThrow(/no queue/);
  });

  it('re-attaches consumers after the broker drops the connections, without losing confirmed messages', async () => {
    const t = await transport(undefined, { reconnectDelayMs: 50 });
    const events = new Recorder<RabbitMqConnectionEvent & { at: number }>();
    t.observe((e) => events.push({ ...e, at: Date.now() }));
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let dropped = false;
    const started = new Recorder<string>();
    const handled = new Recorder<{ id: string; attempt: number; afterDrop: boolean }>();
    await t.subscribe(
      'shop.Durable',
      'g',
      async (m) => {
        const id = m.headers['x-message-id']!;
        const afterDrop = dropped;
        started.push(id);
        if (!afterDrop) await gate; // held in flight (unacked) while the connection goes away
        handled.push({ id, attempt: m.attempt, afterDrop });
        return { outcome: 'success' };
      },
      { prefetch: 5 },
    );
    const ids = Array.from({ length: 20 }, (_, i) => `m${i}`);
    await t.publish(ids.map((id) => message('shop.Durable', id)));
    const inFlight = await started.until(5);

    dropped = true;
    await rabbitmqctl('close_all_connections', '-p', VHOST, 'transport reconnect test');
    await events.until(2, (e) => e.kind === 'disconnected');
    await expect(t.ping()).rejects.toThrow(/down/);
    release();

    // Publishing waits for the new connection and resolves once the broker confirmed.
    await t.publish([message('shop.Durable', 'after-drop')]);
    const after = await handled.until(21, (h) => h.afterDrop);
    await events.until(2, (e) => e.kind === 'connected');
    await expect(t.ping()).resolves.toBeUndefined();

    const attemptsAfter = new Map(after.map((h) => [h.id, h.attempt]));
    expect([...attemptsAfter.keys()].sort()).toEqual([...ids, 'after-drop'].sort());
    expect(after).toHaveLength(21); // each message once after the drop
    // The five that were in flight come back as second attempts; the rest are first deliveries.
    for (const id of inFlight) expect(attemptsAfter.get(id)).toBe(2);
    for (const id of ids.filter((x) => !inFlight.includes(x)))
      expect(attemptsAfter.get(id)).toBe(1);
    expect(attemptsAfter.get('after-drop')).toBe(1);
  });

  it('fails ping after close, closes idempotently, and never shows the password in errors', async () => {
    const t = await transport();
    await expect(t.ping()).resolves.toBeUndefined();
    await Promise.all([t.close(), t.close()]);
    await expect(t.ping()).rejects.toThrow(/closed/);

    const unreachable = await createRabbitMqTransport(
      { url: 'amqp://guest:s3cret@127.0.0.1:1', namespace: 'x', serviceName: 'x' },
      { initialConnectRetries: 0 },
    );
    const error = await unreachable.connect().catch((e: unknown) => e as Error);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toContain('cannot connect to amqp://guest:');
    expect((error as Error).message).not.toContain('s3cret');
  });
});
