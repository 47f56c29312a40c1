import { randomUUID } from 'node:crypto';
import { connect, headers as natsHeaders } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { TcpProxy } from '@infrastructure/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NatsTransport } from '../src/transports/nats/nats.transport.js';
import { typeSubject } from '../src/transports/nats/nats.subjects.js';
import type { DeliveryHandler, TransportMessage } from '../src/transports/transport.js';
import { describeTransportContract, Recorder } from './contract/transport-contract.js';

const URL = 'nats://127.0.0.1:4222';
const CONTRACT_STREAM = /^contract-[0-9a-f]{8}(-dlq)?$/;

/** Streams that exist now, to tell the contract suite's new ones apart in afterAll. */
let before = new Set<string>();

async function streamNames(): Promise<string[]> {
  const nc = await connect({ servers: '127.0.0.1:4222' });
  try {
    const jsm = await jetstreamManager(nc);
    const names: string[] = [];
    for await (const name of jsm.streams.names()) names.push(name);
    return names;
  } finally {
    await nc.close();
  }
}

async function deleteStreams(names: readonly string[]): Promise<void> {
  const nc = await connect({ servers: '127.0.0.1:4222' });
  try {
    const jsm = await jetstreamManager(nc);
    for (const name of names) await jsm.streams.delete(name).catch(() => false);
  } finally {
    await nc.close();
  }
}

beforeAll(async () => {
  before = new Set(await streamNames());
});

afterAll(async () => {
  // The contract suite picks its own namespace: remove the streams it created.
  const created = (await streamNames()).filter((n) => CONTRACT_STREAM.test(n) && !before.has(n));
  await deleteStreams(created);
});

describeTransportContract('nats', () => ({ transport: 'nats', url: URL }), {
  dedupesPublishedIds: true, // Nats-Msg-Id: a re-publish within the window is dropped
  // A JetStream publish by another client on the type's subject, with its own headers only.
  publishForeign: async (_, m) => {
    const nc = await connect({ servers: '127.0.0.1:4222' });
    try {
      const h = natsHeaders();
      for (const [k, v] of Object.entries(m.headers)) h.set(k, v);
      await jetstream(nc).publish(`${m.namespace}.ev.${typeSubject(m.type)}`, m.body, {
        headers: h,
      });
    } finally {
      await nc.close();
    }
  },
});

/** Records deliveries and answers with what `decide` says. */
function recordingHandler(
  recorder: Recorder<TransportMessage>,
  decide: (m: TransportMessage) => { outcome: 'success' | 'retry'; delayMs?: number } = () => ({
    outcome: 'success',
  }),
): DeliveryHandler {
  return async (m) => {
    recorder.push(m);
    return decide(m);
  };
}

describe('nats transport: connection drops and crash safety', () => {
  const namespace = `nats-int-${randomUUID().slice(0, 8)}`;
  const proxy = new TcpProxy(4222);
  const transports: NatsTransport[] = [];
  const make = (url: string) => {
    const t = new NatsTransport({ url, namespace, serviceName: 'nats-int' });
    transports.push(t);
    return t;
  };

  beforeAll(() => proxy.listen());

  afterAll(async () => {
    await Promise.all(transports.map((t) => t.close()));
    await proxy.stop();
    await deleteStreams([namespace, `${namespace}-dlq`]);
  });

  it('re-attaches consumers after the connection drops; a message sent meanwhile is handled once', async () => {
    const publisher = make(URL);
    const consumer = make(`nats://127.0.0.1:${proxy.port}`);
    await publisher.connect();
    await consumer.connect();
    const seen = new Recorder<TransportMessage>();
    await consumer.subscribe('drop.Happened', 'drop-group', recordingHandler(seen), {
      prefetch: 4,
    });

    const send = (body: string) =>
      publisher.publish([
        { type: 'drop.Happened', body, headers: { 'x-message-id': randomUUID() } },
      ]);
    await send('before');
    await seen.until(1, (m) => m.body === 'before');

    // The broker becomes unreachable: ping fails fast, publishing elsewhere goes on.
    const accepted = proxy.total;
    await proxy.stop();
    await expect(consumer.ping()).rejects.toThrow(/not connected|did not answer/);
    await send('while-away');

    await proxy.listen();
    await proxy.accepted(accepted + 1);
    const [away] = await seen.until(1, (m) => m.body === 'while-away');
    expect(away!.attempt).toBe(1);

    // And a plain socket drop with the broker reachable.
    proxy.drop();
    await proxy.accepted(accepted + 2);
    await send('after');
    await send('marker');
    await seen.until(1, (m) => m.body === 'marker');
    expect(seen.items.filter((m) => m.body === 'after')).toHaveLength(1);
    // At least once: a drop right after a handler finished can lose its ack in the proxy.
    expect(seen.items.filter((m) => m.body === 'while-away').length).toBeGreaterThanOrEqual(1);
    await expect(consumer.ping()).resolves.toBeUndefined();
  });

  it('keeps a retried message in the broker across a restart of the consumer', async () => {
    const first = make(URL);
    await first.connect();
    const seen = new Recorder<TransportMessage>();
    // Retry in 300 ms, then the process goes away before the delay is over.
    await first.subscribe(
      'crash.Retried',
      'crash-group',
      recordingHandler(seen, () => ({ outcome: 'retry', delayMs: 300 })),
      { prefetch: 1 },
    );
    const id = randomUUID();
    await first.publish([
      { type: 'crash.Retried', body: 'payload', headers: { 'x-message-id': id } },
    ]);
    await seen.until(1);
    await first.close();

    const second = make(URL);
    await second.connect();
    const again = new Recorder<TransportMessage>();
    await second.subscribe('crash.Retried', 'crash-group', recordingHandler(again), {
      prefetch: 1,
    });
    const [m] = await again.until(1);
    expect(m).toMatchObject({ body: 'payload', attempt: 2 });
    expect(m!.headers['x-message-id']).toBe(id);
  });

  it('round-trips headers with line breaks and keeps dead letters until removed', async () => {
    const t = make(URL);
    await t.connect();
    const headers = { 'x-message-id': randomUUID(), 'x-exception-message': 'line one\nline two ' };
    await t.deadLetter({ type: 'dl.Kept', group: 'svc.Handlers.onKept', body: '{}', headers });
    const [letter] = (await t.listDeadLetters(100)).filter(
      (l) => l.headers['x-message-id'] === headers['x-message-id'],
    );
    expect(letter).toMatchObject({ type: 'dl.Kept', group: 'svc.Handlers.onKept', headers });
    await t.removeDeadLetters([letter!]);
    expect(
      (await t.listDeadLetters(100)).filter(
        (l) => l.headers['x-message-id'] === headers['x-message-id'],
      ),
    ).toEqual([]);
  });

  it('gives what it was sent but did not handle back at close, long before the ack wait', async () => {
    // ackWaitMs 30 s (the default): anything left unacked by the closed instance would reach the
    // other one only after that.
    const a = make(URL);
    const b = make(URL);
    await a.connect();
    await b.connect();
    const byA = new Recorder<TransportMessage>();
    const slow: DeliveryHandler = async (m) => {
      byA.push(m);
      await new Promise((r) => setTimeout(r, 1));
      return { outcome: 'success' };
    };
    await a.subscribe('handover.Needed', 'handover-group', slow, { prefetch: 16 });
    const bodies = Array.from({ length: 500 }, (_, i) => `m${i}`);
    await a.publish(bodies.map((body) => ({ type: 'handover.Needed', body, headers: {} })));
    await byA.until(50); // mid-stream: acks flowing, the next messages on their way
    const started = Date.now();
    await a.close();
    const byB = new Recorder<TransportMessage>();
    await b.subscribe('handover.Needed', 'handover-group', recordingHandler(byB), {
      prefetch: 4,
    });
    const handledByA = new Set(byA.items.map((m) => m.body));
    const rest = bodies.filter((body) => !handledByA.has(body));
    await byB.until(rest.length, (m) => rest.includes(m.body));
    expect(new Set(byB.items.map((m) => m.body))).toEqual(new Set(rest));
    expect(Date.now() - started).toBeLessThan(10_000);
  }, 15_000);

  it('close() waits for in-flight deliveries and is idempotent', async () => {
    const t = make(URL);
    await t.connect();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const started = new Recorder<TransportMessage>();
    let finished = false;
    await t.subscribe(
      'close.Waited',
      'close-group',
      async (m) => {
        started.push(m);
        await gate;
        finished = true;
        return { outcome: 'success' };
      },
      { prefetch: 1 },
    );
    await t.publish([{ type: 'close.Waited', body: 'x', headers: {} }]);
    await started.until(1);
    let closedFirst = false;
    const closing = Promise.all([t.close(), t.close()]).then(() => (closedFirst = !finished));
    // A few turns of the event loop: close() must still be waiting for the handler.
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    release();
    await closing;
    expect(closedFirst).toBe(false);
    expect(finished).toBe(true);
    await expect(t.ping()).rejects.toThrow(/closed/);
  });
});
