import { Injectable, Module } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  DomainEvent,
  DomainEventType,
  EventBus,
  EventHandler,
  MemoryTransport,
  MessagingModule,
  MessagingRuntime,
  type DomainEventInit,
  type MessagingObservation,
  type MessagingOptions,
  type OutgoingMessage,
} from '@infrastructure/messaging';
import { MonitoringModule } from '@infrastructure/monitoring';
import { PersistenceModule, UnitOfWork } from '@infrastructure/persistence';
import { TestDatabase, testMonitoringOptions } from '@infrastructure/testing';
import { Recorder } from './contract/transport-contract.js';
import { FakeKafka } from './kafka-fake.js';

// Traces cross the message hop: a PRODUCER span on publish (its context is what the message
// carries), a CONSUMER span per delivery continuing it, active around the handler; through the
// outbox, the relay's send span continues the stored context. In-memory OTel provider.

const exporter = new InMemorySpanExporter();
const tracer = () => trace.getTracer('test');
const REDIS = 'redis://127.0.0.1:6379';

beforeAll(() => {
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  trace.setGlobalTracerProvider(provider);
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
});
afterAll(() => {
  trace.disable();
  context.disable();
  propagation.disable();
});
beforeEach(() => exporter.reset());

@DomainEventType('tracing.ParcelShipped')
class ParcelShipped extends DomainEvent {
  constructor(
    readonly parcelId: string,
    readonly fail: number = 0,
    init?: DomainEventInit,
  ) {
    super({ aggregateId: parcelId, aggregateType: 'Parcel', ...init });
  }
}

/** The span active in the handler, per parcel and attempt. */
const inHandler = new Recorder<{ parcelId: string; spanId?: string; traceId?: string }>();
const attempts = new Map<string, number>();

@Injectable()
class Depot {
  @EventHandler(ParcelShipped, { group: 'depot', retry: { attempts: 2, initialDelayMs: 10 } })
  async on(event: ParcelShipped): Promise<void> {
    const seen = (attempts.get(event.parcelId) ?? 0) + 1;
    attempts.set(event.parcelId, seen);
    const active = trace.getActiveSpan()?.spanContext();
    // A span the handler starts (a DB query, an HTTP call) nests under the consumer span.
    await tracer().startActiveSpan('depot.work', async (span) => {
      span.end();
    });
    inHandler.push({ parcelId: event.parcelId, spanId: active?.spanId, traceId: active?.traceId });
    if (seen <= event.fail) throw new Error(`depot closed (${seen})`);
  }
}

@Module({ providers: [Depot] })
class DepotModule {}

async function app(
  messaging: MessagingOptions,
  db?: TestDatabase,
): Promise<{ ref: TestingModule; handled: Recorder<MessagingObservation> }> {
  const ref = await Test.createTestingModule({
    imports: [
      MonitoringModule.forRoot(testMonitoringOptions()),
      ...(db ? [PersistenceModule.forRoot({ url: db.url, connectRetry: { attempts: 1 } })] : []),
      MessagingModule.forRoot({ serviceName: 'tracing-test', outbox: false, ...messaging }),
      DepotModule,
    ],
  }).compile();
  const handled = new Recorder<MessagingObservation>();
  await ref.init();
  ref.get(MessagingRuntime).observe((o) => o.kind === 'handled' && handled.push(o));
  return { ref, handled };
}

const spans = () => exporter.getFinishedSpans();
const named = (name: string) => spans().filter((s) => s.name === name);
const idOf = (s: ReadableSpan | undefined) => s?.spanContext().spanId;
const parentOf = (s: ReadableSpan | undefined) => s?.parentSpanContext?.spanId;
const traceOf = (s: ReadableSpan | undefined) => s?.spanContext().traceId;
const ofParcel = (parcelId: string) => (o: MessagingObservation) =>
  o.kind === 'handled' && (o.event as ParcelShipped | undefined)?.parcelId === parcelId;

/** Publishes inside a "request" span, as a controller would; returns that span. */
async function publishInRequest(bus: EventBus, event: DomainEvent): Promise<ReadableSpan> {
  let request: ReadableSpan | undefined;
  await tracer().startActiveSpan('request', async (span) => {
    await bus.publish(event);
    span.end();
    request = span as unknown as ReadableSpan;
  });
  return request!;
}

const run = randomUUID().slice(0, 8);
const rabbitmqctl = (...args: string[]) => promisify(execFile)('rabbitmqctl', ['-q', ...args]);
// A vhost of our own, deleted at the end with every exchange and queue the suite declared.
const VHOST = `messaging-tracing-${run}`;
const AMQP = process.env.RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

interface Broker {
  options: () => MessagingOptions;
  setUp?: () => Promise<unknown>;
  cleanUp?: () => Promise<unknown>;
}

const transports: Array<[string, Broker]> = [
  ['memory', { options: () => ({ transport: 'memory' }) }],
  [
    'rabbitmq',
    {
      options: () => ({ transport: 'rabbitmq', url: `${AMQP}/${encodeURIComponent(VHOST)}` }),
      setUp: async () => {
        await rabbitmqctl('add_vhost', VHOST);
        await rabbitmqctl('set_permissions', '-p', VHOST, 'guest', '.*', '.*', '.*');
      },
      cleanUp: () => rabbitmqctl('delete_vhost', VHOST),
    },
  ],
  [
    'redis',
    {
      options: () => ({ transport: 'redis', url: REDIS, namespace: `tracing-${run}` }),
      cleanUp: async () => {
        const admin = new Redis(REDIS);
        let cursor = '0';
        do {
          const [next, keys] = await admin.scan(cursor, 'MATCH', `tracing-${run}:*`, 'COUNT', 1000);
          if (keys.length > 0) await admin.del(...keys);
          cursor = next;
        } while (cursor !== '0');
        admin.disconnect();
      },
    },
  ],
  [
    'kafka',
    {
      // The in-memory broker with @platformatic/kafka's API (no Kafka server here; kafka-fake.ts).
      options: () => ({
        transport: 'kafka',
        url: 'kafka://127.0.0.1:9092',
        transportOptions: { client: new FakeKafka(), partitions: 1 },
      }),
    },
  ],
];

describe.each(transports)('traces over the %s transport', (system, broker) => {
  let ref: TestingModule;
  let handled: Recorder<MessagingObservation>;

  beforeAll(async () => {
    await broker.setUp?.();
    ({ ref, handled } = await app(broker.options()));
  }, 30_000);
  afterAll(async () => {
    try {
      await ref?.close();
    } finally {
      await broker.cleanUp?.();
    }
  }, 30_000);

  it('publish: a PRODUCER span under the request; delivery: a CONSUMER span whose parent is it, active in the handler', async () => {
    const parcel = randomUUID();
    const event = new ParcelShipped(parcel);
    const request = await publishInRequest(ref.get(EventBus), event);
    await handled.until(1, ofParcel(parcel));
    const [producer] = named('publish tracing.ParcelShipped').filter(
      (s) => s.attributes['messaging.message.id'] === event.id,
    );
    expect(producer?.kind).toBe(SpanKind.PRODUCER);
    expect(parentOf(producer)).toBe(idOf(request));
    expect(producer?.attributes).toMatchObject({
      'messaging.system': system,
      'messaging.destination.name': 'tracing.ParcelShipped',
      'messaging.operation.type': 'send',
      'messaging.operation.name': 'publish',
    });
    const consumer = named('process tracing.ParcelShipped').find(
      (s) => s.attributes['messaging.message.id'] === event.id,
    );
    expect(consumer?.kind).toBe(SpanKind.CONSUMER);
    expect(traceOf(consumer)).toBe(traceOf(request));
    expect(parentOf(consumer)).toBe(idOf(producer));
    expect(consumer?.attributes).toMatchObject({
      'messaging.system': system,
      'messaging.destination.name': 'tracing.ParcelShipped',
      'messaging.operation.type': 'process',
      'messaging.consumer.group.name': 'depot',
      'messaging.outcome': 'success',
    });
    const [seen] = inHandler.items.filter((h) => h.parcelId === parcel);
    expect(seen?.spanId).toBe(idOf(consumer));
    const work = named('depot.work').filter((s) => traceOf(s) === traceOf(request));
    expect(work.map(parentOf)).toEqual([idOf(consumer)]);
  });

  it('a failing handler: ERROR consumer spans with the exception, outcome retry then dead_letter', async () => {
    const parcel = randomUUID();
    const request = await publishInRequest(ref.get(EventBus), new ParcelShipped(parcel, 2));
    await handled.until(2, ofParcel(parcel));
    const consumers = named('process tracing.ParcelShipped').filter(
      (s) => traceOf(s) === traceOf(request),
    );
    expect(consumers.map((s) => s.attributes['messaging.outcome'])).toEqual([
      'retry',
      'dead_letter',
    ]);
    for (const span of consumers) {
      expect(span.status.code).toBe(SpanStatusCode.ERROR);
      expect(span.events.find((e) => e.name === 'exception')?.attributes).toMatchObject({
        'exception.message': expect.stringMatching(/^depot closed/),
      });
    }
    // Both deliveries continue the publisher's span.
    const producer = named('publish tracing.ParcelShipped').find(
      (s) => traceOf(s) === traceOf(request),
    );
    expect(consumers.map(parentOf)).toEqual([idOf(producer), idOf(producer)]);
  });
});

/** A memory transport that records every publish call. */
class RecordingTransport extends MemoryTransport {
  readonly calls: OutgoingMessage[][] = [];
  override async publish(messages: readonly OutgoingMessage[]): Promise<void> {
    this.calls.push([...messages]);
    await super.publish(messages);
  }
}

describe('traces through the outbox (SQLite, memory transport)', () => {
  let db: TestDatabase;
  let ref: TestingModule;
  let handled: Recorder<MessagingObservation>;
  let transport: RecordingTransport;

  beforeAll(async () => {
    db = await TestDatabase.create({ url: 'sqlite:', entities: [] });
    transport = new RecordingTransport();
    ({ ref, handled } = await app({ transport, outbox: { pollIntervalMs: 60_000 } }, db));
  }, 30_000);
  afterAll(async () => {
    await ref?.close();
    await db?.destroy();
  });

  it("the stored message carries the publish span; the relay's send span continues it; the consumer's parent is the publish span", async () => {
    const parcel = randomUUID();
    const uow = ref.get(UnitOfWork);
    const bus = ref.get(EventBus);
    const event = new ParcelShipped(parcel);
    let request: ReadableSpan | undefined;
    await tracer().startActiveSpan('request', async (span) => {
      await uow.run(() => bus.publish(event));
      span.end();
      request = span as unknown as ReadableSpan;
    });
    await handled.until(1, ofParcel(parcel));
    const producer = named('publish tracing.ParcelShipped').find(
      (s) => s.attributes['messaging.message.id'] === event.id,
    );
    expect(parentOf(producer)).toBe(idOf(request));
    expect(producer?.attributes['messaging.operation.type']).toBe('create');
    const send = named('send tracing.ParcelShipped').find((s) => traceOf(s) === traceOf(request));
    expect(send?.kind).toBe(SpanKind.PRODUCER);
    expect(parentOf(send)).toBe(idOf(producer));
    expect(send?.attributes).toMatchObject({
      'messaging.system': 'memory',
      'messaging.operation.type': 'send',
      'messaging.message.id': event.id,
    });
    const consumer = named('process tracing.ParcelShipped').find(
      (s) => s.attributes['messaging.message.id'] === event.id,
    );
    expect(parentOf(consumer)).toBe(idOf(producer));
  });

  it("one relay batch with two requests' messages: each goes out under a send span of its own trace", async () => {
    const relay = ref.get(MessagingRuntime).outboxRelay!;
    await relay.stop(); // no drain until the second stop: both rows go out in one batch
    const uow = ref.get(UnitOfWork);
    const bus = ref.get(EventBus);
    const parcels = [randomUUID(), randomUUID()];
    const requests: ReadableSpan[] = [];
    for (const parcel of parcels) {
      await tracer().startActiveSpan('request', async (span) => {
        await uow.run(() => bus.publish(new ParcelShipped(parcel)));
        span.end();
        requests.push(span as unknown as ReadableSpan);
      });
    }
    transport.calls.length = 0;
    await relay.stop();
    await Promise.all(parcels.map((p) => handled.until(1, ofParcel(p))));
    expect(transport.calls.map((c) => c.length)).toEqual([1, 1]);
    for (const request of requests) {
      const producer = named('publish tracing.ParcelShipped').find(
        (s) => traceOf(s) === traceOf(request),
      );
      const send = named('send tracing.ParcelShipped').filter(
        (s) => traceOf(s) === traceOf(request),
      );
      expect(send.map(parentOf)).toEqual([idOf(producer)]);
      const consumer = named('process tracing.ParcelShipped').find(
        (s) => traceOf(s) === traceOf(request),
      );
      expect(parentOf(consumer)).toBe(idOf(producer));
    }
  });
});
