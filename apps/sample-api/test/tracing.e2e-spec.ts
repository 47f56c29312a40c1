import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestDatabase } from '@infrastructure/testing';
import {
  attr,
  freePort,
  listeningWithin,
  otlpReceiver,
  runTraced,
  type OtlpSpan,
} from './spawn.js';

// One trace from the HTTP request through the database, Redis and the broker to the consumer:
// the built app as `npm start` runs it (tracing entry), spans received over OTLP/HTTP.

const SERVER = 2;
const PRODUCER = 4;
const CONSUMER = 5;
const CLIENT = 3;

/** The span ids the test's POST and GET send in their `traceparent` (the server spans' parents). */
const POST_CALLER = 'b7ad6b7169203331';
const GET_CALLER = 'b7ad6b7169203332';

/** Our consumer span of OrderPlaced (the amqplib instrumentation's is `<queue> process`). */
const ours = (x: OtlpSpan) => x.kind === CONSUMER && x.name === 'process orders.OrderPlaced';
const notifications = (x: OtlpSpan) =>
  ours(x) && attr(x, 'messaging.consumer.group.name') === 'sample-api.order-notifications';

/** `db.system.name` (stable semantic conventions), `db.system` before them. */
const dbSystem = (s: OtlpSpan) => attr(s, 'db.system.name') ?? attr(s, 'db.system');

/** The server span of the request made with `caller` in its traceparent. */
const serverOf = (caller: string) => (s: OtlpSpan) => s.parentSpanId === caller;

/** Parent links of one trace's spans. */
function tree(spans: OtlpSpan[]) {
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  /** The span and its ancestors (as far as received), nearest first. */
  const lineage = (s: OtlpSpan): OtlpSpan[] => {
    const parent = s.parentSpanId ? byId.get(s.parentSpanId) : undefined;
    return [s, ...(parent ? lineage(parent) : [])];
  };
  const root = (s: OtlpSpan) => lineage(s).at(-1)!;
  return { byId, lineage, root };
}

/**
 * Whether the trace has arrived whole: the notifications consumer span with its chain up to the
 * POST server span, a query under a consumer span, and a Redis span under the GET server span.
 */
function complete(spans: OtlpSpan[]): boolean {
  const { lineage, root } = tree(spans);
  const reaches = (s: OtlpSpan, top: (x: OtlpSpan) => boolean) => lineage(s).some(top);
  return (
    spans.some((s) => notifications(s) && reaches(s, serverOf(POST_CALLER))) &&
    spans.some((s) => s.kind === CLIENT && dbSystem(s) === 'postgresql' && reaches(s, ours)) &&
    spans.some((s) => s.kind === CLIENT && dbSystem(s) === 'redis' && serverOf(GET_CALLER)(root(s)))
  );
}

describe('a trace crosses the message hop (PostgreSQL + Redis + RabbitMQ, built app)', () => {
  let db: TestDatabase;
  let receiver: Awaited<ReturnType<typeof otlpReceiver>>;
  let app: ReturnType<typeof runTraced>;
  let base: string;

  beforeAll(async () => {
    db = await TestDatabase.create({
      url: 'postgres://postgres@127.0.0.1:5432/test',
      migrations: [],
      synchronize: false,
    });
    receiver = await otlpReceiver();
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    app = runTraced(receiver.endpoint, {
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL: db.url,
      REDIS_URL: 'redis://127.0.0.1:6379',
      CACHE_KEY_PREFIX: `trace-e2e-${randomUUID().slice(0, 8)}:`,
      MESSAGING_TRANSPORT: 'rabbitmq',
      MESSAGING_URL: 'amqp://guest:guest@127.0.0.1:5672',
      MESSAGING_NAMESPACE: `trace-e2e-${randomUUID().slice(0, 8)}`,
      OTEL_SERVICE_NAME: 'sample-api-trace',
    });
    await listeningWithin(app, 110_000);
  }, 120_000);

  afterAll(async () => {
    app?.child.kill('SIGTERM');
    await app?.exited;
    receiver?.close();
    await db?.destroy();
  });

  it('POST /v1/orders: pg and Redis client spans under the request, a producer span on publish and the consumer span continuing it', async () => {
    const token = await fetch(`${base}/v1/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        grant_type: 'client_credentials',
        client_id: 'demo',
        client_secret: 'demo-secret',
      }),
    });
    expect(token.status).toBe(200);
    const { access_token: accessToken } = (await token.json()) as { access_token: string };
    const traceId = randomUUID().replaceAll('-', '');
    const placed = await fetch(`${base}/v1/orders`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${accessToken}`,
        traceparent: `00-${traceId}-${POST_CALLER}-01`,
      },
      body: JSON.stringify({ customerId: 'tracer', sku: 'TR-1', quantity: 1, unitPriceCents: 5 }),
    });
    expect(placed.status).toBe(201);
    const { id } = (await placed.json()) as { id: string };
    const read = await fetch(`${base}/v1/orders/${id}`, {
      headers: {
        authorization: `Bearer ${accessToken}`,
        traceparent: `00-${traceId}-${GET_CALLER}-01`,
      },
    });
    expect(read.status).toBe(200);

    const inTrace = (s: OtlpSpan[]) => s.filter((x) => x.traceId.toLowerCase() === traceId);
    // Wait for the spans the assertions walk, not just for the consumer span: spans are exported
    // in batches as they end, and the GET request's spans can end after the consumer's (the
    // consumer runs while the GET is served), so they may still be on their way.
    let deadline: NodeJS.Timeout | undefined;
    const spans = inTrace(
      await Promise.race([
        receiver.until((all) => complete(inTrace(all))),
        new Promise<never>((_, reject) => {
          deadline = setTimeout(() => {
            const got = inTrace(receiver.spans).map((x) => `${x.kind} ${x.name}`);
            reject(new Error(`trace incomplete after 60 s; received:\n${got.join('\n')}`));
          }, 60_000);
        }),
      ]).finally(() => clearTimeout(deadline)),
    );
    const { byId, lineage, root } = tree(spans);
    const post = spans.find(serverOf(POST_CALLER));
    expect(post?.name).toBe('POST /v1/orders');
    expect(post?.kind).toBe(SERVER);
    const get = spans.find(serverOf(GET_CALLER));
    expect(get?.name).toBe('GET /v1/orders/:id');
    expect(get?.kind).toBe(SERVER);
    // Database and cache client spans hang off the request that made them.
    const pg = spans.filter((s) => s.kind === CLIENT && dbSystem(s) === 'postgresql');
    expect(pg.some((s) => root(s).spanId === post!.spanId)).toBe(true);
    const redis = spans.filter((s) => s.kind === CLIENT && dbSystem(s) === 'redis');
    expect(redis.some((s) => root(s).spanId === get!.spanId)).toBe(true);
    // publish (outbox write, in the request) -> relay send -> broker client publish -> process.
    const producer = spans.find(
      (s) => s.kind === PRODUCER && s.name === 'publish orders.OrderPlaced',
    );
    expect(root(producer!).spanId).toBe(post!.spanId);
    expect(attr(producer, 'messaging.operation.type')).toBe('create');
    expect(attr(producer, 'messaging.system')).toBe('rabbitmq');
    const send = spans.find((s) => s.kind === PRODUCER && s.name === 'send orders.OrderPlaced');
    expect(send?.parentSpanId).toBe(producer!.spanId);
    const consumers = spans.filter(ours);
    expect(consumers.filter(notifications)).toHaveLength(1);
    for (const consumer of consumers) {
      expect(attr(consumer, 'messaging.destination.name')).toBe('orders.OrderPlaced');
      expect(attr(consumer, 'messaging.message.id')).toBe(attr(producer, 'messaging.message.id'));
      expect(attr(consumer, 'messaging.outcome')).toBe('success');
      // Its parent is the message's context: the amqplib instrumentation's publish span (it
      // injects its own traceparent), a child of the relay's send span.
      const parent = byId.get(consumer.parentSpanId ?? '');
      expect(parent?.kind).toBe(PRODUCER);
      expect(lineage(consumer).map((s) => s.spanId)).toEqual(
        expect.arrayContaining([send!.spanId, producer!.spanId, post!.spanId]),
      );
    }
    // The handlers' queries nest under the consumer span.
    const consumerIds = new Set(consumers.map((c) => c.spanId));
    expect(pg.some((s) => lineage(s).some((a) => consumerIds.has(a.spanId)))).toBe(true);
  }, 120_000);
});
