// Messaging, one run:
//  1. in-process bus: EventBus.publish -> @EventHandler-equivalent consumer through the full
//     pipeline (envelope, headers, context restore, per-key order, metrics) vs the bare
//     MemoryTransport (publish -> handler, no pipeline) and a Node EventEmitter with JSON round trip;
//  2. outbox relay draining N pending rows (PostgreSQL) to RabbitMQ with confirms vs raw amqplib
//     publishing the same bodies on a ConfirmChannel, batched like the relay;
//  3. the same against Redis Streams vs raw ioredis pipelined XADD.
//  4. steady state (BENCH_ONLY=steady): @nestjs/cqrs EventBus -> @EventsHandler vs our EventBus ->
//     @EventHandler on the memory transport, one event per publish, yielding (setImmediate) every
//     1,000; BENCH_STEADY_EVENTS per round, BENCH_STEADY_ROUNDS alternating rounds after a warm-up.
//  5. per-guarantee costs (BENCH_ONLY=costs): ns per event of each step the pipeline adds, alone.
// Ratios against the baselines of the same run are what count; absolute numbers vary on this box.
// Only the in-process parts: BENCH_ONLY=memory,steady.
import 'reflect-metadata';
import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { buildSampleApi } from '../lib.mjs';

const MEMORY_EVENTS = Number(process.env.BENCH_MEMORY_EVENTS ?? 200_000);
const RELAY_EVENTS = Number(process.env.BENCH_RELAY_EVENTS ?? 50_000);
const PG = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const AMQP = process.env.BENCH_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const REDIS = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const STEADY_EVENTS = Number(process.env.BENCH_STEADY_EVENTS ?? 100_000);
const STEADY_ROUNDS = Number(process.env.BENCH_STEADY_ROUNDS ?? 5);
const only = (process.env.BENCH_ONLY ?? 'memory,steady,rabbitmq,redis').split(',');

buildSampleApi();
const messaging = await import('@infrastructure/messaging');
const { MonitoringModule } = await import('@infrastructure/monitoring');
const { PersistenceModule } = await import('@infrastructure/persistence');
const {
  DomainEvent,
  DomainEventType,
  EventBus,
  MemoryTransport,
  MessagingModule,
  MessagingRuntime,
} = messaging;

class Tick extends DomainEvent {
  constructor(n, key) {
    super({ aggregateId: key, aggregateType: 'Bench' });
    this.n = n;
  }
}
DomainEventType('bench.Tick')(Tick);

const rate = (n, ms) => Math.round((n / ms) * 1000);
const fmt = (n) => n.toLocaleString('en-US');
const monitoring = () =>
  MonitoringModule.forRoot({
    serviceName: 'bench',
    logging: { level: 'warn', pretty: false },
    shutdown: { handleSignals: false, exitProcess: false },
  });

/** Resolves when `count` deliveries were seen. */
function counter(count) {
  let seen = 0;
  let done;
  const finished = new Promise((r) => (done = r));
  return {
    hit() {
      if (++seen === count) done();
    },
    finished,
  };
}

async function appWith(imports) {
  class BenchModule {}
  Module({ imports })(BenchModule);
  const app = await NestFactory.createApplicationContext(BenchModule, { logger: false });
  return app;
}

async function memory() {
  const N = MEMORY_EVENTS;
  const bodies = Array.from({ length: N }, (_, i) => new Tick(i, `k${i % 64}`));

  // Baseline A: EventEmitter with the same JSON round trip (serialize, parse) per event.
  const ee = new EventEmitter();
  let c = counter(N);
  ee.on('tick', (json) => {
    JSON.parse(json);
    c.hit();
  });
  let t = performance.now();
  for (const e of bodies) ee.emit('tick', JSON.stringify(e));
  await c.finished;
  const emitter = rate(N, performance.now() - t);

  // Baseline B: the bare memory transport (async delivery, prefetch, no pipeline).
  const bare = new MemoryTransport();
  c = counter(N);
  await bare.subscribe(
    'bench.Tick',
    'g',
    async (m) => (JSON.parse(m.body), c.hit(), { outcome: 'success' }),
    {
      prefetch: 256,
    },
  );
  t = performance.now();
  for (let i = 0; i < N; i += 1000) {
    await bare.publish(
      bodies
        .slice(i, i + 1000)
        .map((e) => ({ type: 'bench.Tick', body: JSON.stringify(e), headers: {} })),
    );
  }
  await c.finished;
  const transportOnly = rate(N, performance.now() - t);
  await bare.close();

  // Ours: EventBus.publish -> full pipeline -> handler.
  const app = await appWith([
    monitoring(),
    MessagingModule.forRoot({ serviceName: 'bench', outbox: false, inbox: false, prefetch: 256 }),
  ]);
  const runtime = app.get(MessagingRuntime);
  c = counter(N);
  await runtime.consume(
    'bench.Tick',
    'bench.g',
    {},
    (b) => messaging.fromEnvelope(b),
    () => c.hit(),
  );
  const bus = app.get(EventBus);
  t = performance.now();
  for (let i = 0; i < N; i += 1000) await bus.publish(bodies.slice(i, i + 1000));
  await c.finished;
  const ours = rate(N, performance.now() - t);
  await app.close();

  console.log(`\nin-process bus, ${fmt(N)} events (publish -> handled):`);
  console.log(`  EventEmitter + JSON round trip   ${fmt(emitter)} events/s`);
  console.log(`  MemoryTransport (no pipeline)    ${fmt(transportOnly)} events/s`);
  console.log(
    `  EventBus full pipeline           ${fmt(ours)} events/s  (${(ours / transportOnly).toFixed(2)}x bare transport, ${(ours / emitter).toFixed(2)}x emitter; goal >= 500,000/s)`,
  );
}

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

/** Publishes `n` events one per call, yielding every 1,000, and resolves when all were handled. */
async function steadyRound(publish, seen, n, make) {
  const start = seen.count;
  const t = performance.now();
  for (let i = 0; i < n; i++) {
    await publish(make(i));
    if (i % 1000 === 999) await new Promise(setImmediate);
  }
  while (seen.count - start < n) await new Promise(setImmediate);
  return rate(n, performance.now() - t);
}

async function steady() {
  const cqrs = await import('@nestjs/cqrs');
  const { Injectable } = await import('@nestjs/common');
  const N = STEADY_EVENTS;

  // Baseline: @nestjs/cqrs 12, an IEvent class and an @EventsHandler that counts.
  class CqrsTick {
    constructor(n, key) {
      this.n = n;
      this.key = key;
    }
  }
  const cqrsSeen = { count: 0 };
  class CqrsCounter {
    handle() {
      cqrsSeen.count++;
    }
  }
  cqrs.EventsHandler(CqrsTick)(CqrsCounter);
  Injectable()(CqrsCounter);
  class CqrsBench {}
  Module({ imports: [cqrs.CqrsModule.forRoot()], providers: [CqrsCounter] })(CqrsBench);
  const cqrsApp = await NestFactory.createApplicationContext(CqrsBench, { logger: false });
  await cqrsApp.init();
  const cqrsBus = cqrsApp.get(cqrs.EventBus);

  // Ours: EventBus -> @EventHandler on the memory transport (the full pipeline and its guarantees).
  const oursSeen = { count: 0 };
  class OursCounter {
    onTick() {
      oursSeen.count++;
    }
  }
  Injectable()(OursCounter);
  messaging.EventHandler(Tick)(OursCounter.prototype, 'onTick');
  class OursBench {}
  Module({
    imports: [
      monitoring(),
      MessagingModule.forRoot({ serviceName: 'bench', outbox: false, inbox: false }),
    ],
    providers: [OursCounter],
  })(OursBench);
  const app = await NestFactory.createApplicationContext(OursBench, { logger: false });
  await app.init();
  const bus = app.get(EventBus);

  const variants = [
    ['@nestjs/cqrs', (e) => cqrsBus.publish(e), cqrsSeen, (i) => new CqrsTick(i, `k${i % 64}`)],
    ['ours (memory)', (e) => bus.publish(e), oursSeen, (i) => new Tick(i, `k${i % 64}`)],
  ];
  for (const [, publish, seen, make] of variants) await steadyRound(publish, seen, N, make); // warm-up
  const results = variants.map(() => []);
  for (let r = 0; r < STEADY_ROUNDS; r++) {
    for (const [i, [, publish, seen, make]] of variants.entries()) {
      results[i].push(await steadyRound(publish, seen, N, make));
    }
  }
  await cqrsApp.close();
  await app.close();
  const [base, ours] = results.map(median);
  console.log(
    `\nsteady state, ${STEADY_ROUNDS} alternating rounds of ${fmt(N)} events (one per publish, yield every 1,000), median:`,
  );
  console.log(
    `  @nestjs/cqrs EventBus -> @EventsHandler   ${fmt(base)} events/s  (${results[0].map(fmt).join(', ')})`,
  );
  console.log(
    `  EventBus (memory) -> @EventHandler        ${fmt(ours)} events/s  (${results[1].map(fmt).join(', ')}); ${(ours / base).toFixed(2)}x @nestjs/cqrs (goal >= 1.0x)`,
  );
}

/** ns per call of `fn` over `n` calls (after a warm-up of the same length). */
async function nsPer(fn, n = 200_000) {
  for (let i = 0; i < n; i++) await fn(i);
  const t = performance.now();
  for (let i = 0; i < n; i++) await fn(i);
  return Math.round(((performance.now() - t) * 1e6) / n);
}

async function costs() {
  const mon = await import('@infrastructure/monitoring');
  const promClient = await import('prom-client');
  const registry = new promClient.Registry();
  const promCounter = new promClient.Counter({
    name: 'c',
    help: 'c',
    labelNames: ['type'],
    registers: [registry],
  });
  const histogram = new promClient.Histogram({
    name: 'h',
    help: 'h',
    labelNames: ['type'],
    registers: [registry],
  });
  const cSeries = mon.counterSeries(promCounter, { type: 'bench.Tick' });
  const hSeries = mon.histogramSeries(histogram, { type: 'bench.Tick' });
  const { copyJsonData, toJsonData } = await import('@infrastructure/core');
  const event = new Tick(1, 'k1');
  const envelope = messaging.toEnvelope(event);
  const app = await appWith([monitoring()]);
  const store = app.get(mon.RequestContext);
  const headers = { 'x-message-id': 'id', 'x-message-type': 'bench.Tick', 'x-message-key': 'k1' };
  const lanes = new Map();
  const steps = [
    ['nothing (await of a sync call)', () => undefined],
    ['new DomainEvent (id, occurredAt)', (i) => new Tick(i, 'k1')],
    ['toEnvelope (payload and metadata through toJsonData)', () => messaging.toEnvelope(event)],
    ['  of it, the copy: toJsonData of the payload', () => toJsonData({ n: 1 })],
    ['copy per delivery: copyJsonData of the envelope', () => copyJsonData(envelope)],
    [
      '(replaced) JSON text: stringify at publish + parse',
      () => JSON.parse(JSON.stringify(envelope)),
    ],
    ['(not used) structuredClone of the envelope', () => structuredClone(envelope)],
    ['context: injectContext (none active)', () => mon.injectContext({})],
    ['context: extractRequestContext', () => mon.extractRequestContext(headers)],
    ['context: RequestContext.run', () => store.run({ causationId: 'id' }, () => undefined)],
    [
      'metrics: series inc + observe (two performance.now)',
      () => {
        const t = performance.now();
        cSeries.inc();
        hSeries.observe((performance.now() - t) / 1000);
      },
    ],
    [
      "per-key order: the key's lane (a sync handler)",
      (i) => {
        const key = `k${i % 64}`;
        let lane = lanes.get(key);
        if (!lane) lanes.set(key, (lane = { tail: undefined, pending: 0 }));
        lane.pending++;
        if (--lane.pending === 0) lane.tail = undefined;
      },
    ],
  ];
  console.log('\nper-event cost of each step alone (ns/event):');
  for (const [label, fn] of steps) console.log(`  ${label.padEnd(52)} ${fmt(await nsPer(fn))}`);
  await app.close();
}

/** Fills a fresh outbox (relay off), then times a relay instance draining it to `transport`. */
async function relayDrain(transport, url, label, raw) {
  const N = RELAY_EVENTS;
  const schema = `bench_${randomBytes(4).toString('hex')}`;
  const pg = (await import('pg')).default;
  const admin = new pg.Pool({ connectionString: PG, max: 1 });
  await admin.query(`CREATE SCHEMA ${schema}`);
  const dbUrl = `${PG}?schema=${schema}`;
  const namespace = `bench-${randomBytes(3).toString('hex')}`;
  try {
    const writer = await appWith([
      monitoring(),
      PersistenceModule.forRoot({ url: dbUrl }),
      MessagingModule.forRoot({ transport: 'memory', outbox: { relay: false, mode: 'always' } }),
    ]);
    const uow = writer.get(messaging.MessagingRuntime);
    const events = Array.from({ length: N }, (_, i) => new Tick(i, `k${i % 512}`));
    const { UnitOfWork } = await import('@infrastructure/persistence');
    const unit = writer.get(UnitOfWork);
    for (let i = 0; i < N; i += 5000) {
      await unit.run(() => uow.publish(events.slice(i, i + 5000)));
    }
    const bodies = uow.toMessages(events.slice(0, N));
    await writer.close();

    // Baseline: the raw driver publishing the same messages, batched like the relay.
    const rawMs = await raw(bodies, namespace);

    const relayApp = await appWith([
      monitoring(),
      PersistenceModule.forRoot({ url: dbUrl, pool: { max: 4 } }),
      MessagingModule.forRoot({
        transport,
        url,
        namespace,
        serviceName: 'bench',
        outbox: { relay: true, batchSize: 1000, pollIntervalMs: 60_000 },
      }),
    ]);
    const runtime = relayApp.get(MessagingRuntime);
    const t = performance.now();
    await runtime.outboxRelay.idle(); // start() drained what was there
    for (;;) {
      const [row] = await admin
        .query(`SELECT count(*)::int AS n FROM ${schema}.outbox_messages WHERE sent_at IS NULL`)
        .then((r) => r.rows);
      if (row.n === 0) break;
      runtime.outboxRelay.wake();
      await runtime.outboxRelay.idle();
    }
    const relayMs = performance.now() - t;
    await relayApp.close();
    const relayRate = rate(N, relayMs);
    const rawRate = rate(N, rawMs);
    console.log(`\noutbox relay -> ${label}, ${fmt(N)} pending events:`);
    console.log(`  raw driver, batched confirms     ${fmt(rawRate)} events/s`);
    console.log(
      `  outbox relay (claim, publish, mark sent) ${fmt(relayRate)} events/s  (${(relayRate / rawRate).toFixed(2)}x raw)`,
    );
    return namespace;
  } finally {
    await admin.query(`DROP SCHEMA ${schema} CASCADE`);
    await admin.end();
  }
}

async function rabbit() {
  const { connect } = await import('amqplib');
  await relayDrain('rabbitmq', AMQP, 'RabbitMQ (confirms)', async (messages, namespace) => {
    const conn = await connect(AMQP);
    const ch = await conn.createConfirmChannel();
    const exchange = `${namespace}-raw`;
    await ch.assertExchange(exchange, 'topic', { durable: true });
    const q = await ch.assertQueue(`${exchange}.q`, { durable: true });
    await ch.bindQueue(q.queue, exchange, '#');
    const t = performance.now();
    for (let i = 0; i < messages.length; i += 1000) {
      for (const m of messages.slice(i, i + 1000)) {
        ch.publish(exchange, m.type, Buffer.from(m.body), {
          persistent: true,
          headers: m.headers,
          contentType: 'application/json',
        });
      }
      await ch.waitForConfirms();
    }
    const ms = performance.now() - t;
    await ch.deleteQueue(q.queue);
    await ch.deleteExchange(exchange);
    await conn.close();
    return ms;
  });
}

async function redis() {
  const { Redis } = await import('ioredis');
  await relayDrain('redis', REDIS, 'Redis Streams', async (messages, namespace) => {
    const client = new Redis(REDIS);
    const key = `${namespace}:raw`;
    const t = performance.now();
    for (let i = 0; i < messages.length; i += 1000) {
      const p = client.pipeline();
      for (const m of messages.slice(i, i + 1000)) {
        p.xadd(key, '*', 'body', m.body, 'headers', JSON.stringify(m.headers));
      }
      await p.exec();
    }
    const ms = performance.now() - t;
    await client.del(key);
    client.disconnect();
    return ms;
  });
}

if (only.includes('memory')) await memory();
if (only.includes('steady')) await steady();
if (only.includes('costs')) await costs();
if (only.includes('rabbitmq')) await rabbit();
if (only.includes('redis')) await redis();
process.exit(0);
