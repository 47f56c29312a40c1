// Event store on PostgreSQL, one run:
//  1. append 100k events in streams of 10 (one append of 10 events per stream, 8 in parallel) vs
//     raw `pg` inserting the same rows in the same batches (no version check, no global order);
//  2. load 1,000 aggregates of 100 events: full replay vs latest snapshot (+ tail).
// Ratios against the baselines of the same run are what count.
import 'reflect-metadata';
import { randomBytes, randomUUID } from 'node:crypto';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Pool } from 'pg';
import { buildSampleApi } from '../lib.mjs';

const PG = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const EVENTS = Number(process.env.BENCH_EVENTS ?? 100_000);
const STREAM_LENGTH = 10;
const AGGREGATES = Number(process.env.BENCH_AGGREGATES ?? 1_000);
const AGGREGATE_EVENTS = 100;
const PARALLEL = Number(process.env.BENCH_PARALLEL ?? 8);

buildSampleApi();
const { DomainEvent, DomainEventType, MessagingModule } = await import('@infrastructure/messaging');
const { MonitoringModule } = await import('@infrastructure/monitoring');
const { PersistenceModule } = await import('@infrastructure/persistence');
const es = await import('@infrastructure/event-sourcing');

class Ticked extends DomainEvent {
  constructor(counterId, by) {
    super({ aggregateId: counterId, aggregateType: 'Counter' });
    this.counterId = counterId;
    this.by = by;
  }
}
DomainEventType('bench.Ticked')(Ticked);

class Counter extends es.AggregateRoot {
  total = 0;
  constructor(id) {
    super();
    this.id = id;
  }
  tick(by) {
    this.apply(new Ticked(this.id, by));
  }
  whenTicked(e) {
    this.total += e.by;
  }
  toSnapshot() {
    return { total: this.total };
  }
  restoreSnapshot(state) {
    this.total = state.total;
  }
}

const rate = (n, ms) => Math.round((n / ms) * 1000);
const fmt = (n) => n.toLocaleString('en-US');

async function pool(items, parallel, fn) {
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < items.length) await fn(items[next++]);
    }),
  );
}

const schema = `bench_${randomBytes(4).toString('hex')}`;
const admin = new Pool({ connectionString: PG, max: PARALLEL });
await admin.query(`CREATE SCHEMA ${schema}`);
try {
  class BenchModule {}
  Module({
    imports: [
      MonitoringModule.forRoot({
        serviceName: 'bench',
        logging: { level: 'warn', pretty: false },
        shutdown: { handleSignals: false, exitProcess: false },
      }),
      PersistenceModule.forRoot({ url: `${PG}?schema=${schema}`, pool: { max: PARALLEL } }),
      MessagingModule.forRoot({ outbox: false, inbox: false }),
      es.EventSourcingModule.forRoot(),
    ],
  })(BenchModule);
  const app = await NestFactory.createApplicationContext(BenchModule, { logger: false });
  const store = app.get(es.EventStore);

  // 1. Appends.
  const streams = Array.from({ length: EVENTS / STREAM_LENGTH }, () => randomUUID());
  const batch = (id) => Array.from({ length: STREAM_LENGTH }, (_, i) => new Ticked(id, i));
  await admin.query(
    `CREATE TABLE ${schema}.raw_events (position bigserial PRIMARY KEY, stream_id varchar(200), version int, event_id varchar(64), type varchar(200), data text, recorded_at bigint)`,
  );
  let t = performance.now();
  await pool(streams, PARALLEL, async (id) => {
    const events = batch(id);
    const params = [];
    const rows = events.map((e, i) => {
      params.push(`counter-${id}`, i + 1, e.id, 'bench.Ticked', JSON.stringify(e), Date.now());
      const b = i * 6;
      return `($${b + 1}, $${b + 2}, $${b + 3}, $${b + 4}, $${b + 5}, $${b + 6})`;
    });
    await admin.query(
      `INSERT INTO ${schema}.raw_events (stream_id, version, event_id, type, data, recorded_at) VALUES ${rows.join(', ')}`,
      params,
    );
  });
  const rawRate = rate(EVENTS, performance.now() - t);
  t = performance.now();
  await pool(streams, PARALLEL, (id) =>
    store.append(`counter-${id}`, batch(id), { expectedVersion: 'no-stream' }),
  );
  const oursRate = rate(EVENTS, performance.now() - t);
  console.log(
    `\nappend ${fmt(EVENTS)} events in streams of ${STREAM_LENGTH}, ${PARALLEL} in parallel:`,
  );
  console.log(`  raw pg multi-row INSERT (no checks)    ${fmt(rawRate)} events/s`);
  console.log(
    `  EventStore.append (expected version, no skipped positions) ${fmt(oursRate)} events/s  (${(oursRate / rawRate).toFixed(2)}x raw; goal >= 5,000/s)`,
  );

  // 2. Loads.
  const repo = new es.EventSourcedRepository(app.get(es.EventSourcing), {
    streamPrefix: 'counter100',
    create: (id) => new Counter(id),
    snapshotEvery: 50,
    publish: false,
  });
  const ids = Array.from({ length: AGGREGATES }, () => randomUUID());
  await pool(ids, PARALLEL, async (id) => {
    const c = new Counter(id);
    for (let i = 0; i < AGGREGATE_EVENTS; i++) c.tick(1);
    await repo.save(c);
  });
  t = performance.now();
  await pool(ids, PARALLEL, (id) => repo.load(id, { useSnapshot: false }));
  const replayMs = performance.now() - t;
  t = performance.now();
  await pool(ids, PARALLEL, (id) => repo.load(id));
  const snapshotMs = performance.now() - t;
  console.log(`\nload ${fmt(AGGREGATES)} aggregates of ${AGGREGATE_EVENTS} events:`);
  console.log(
    `  full replay        ${Math.round(replayMs)} ms (${fmt(rate(AGGREGATES, replayMs))} aggregates/s)`,
  );
  console.log(
    `  latest snapshot    ${Math.round(snapshotMs)} ms (${fmt(rate(AGGREGATES, snapshotMs))} aggregates/s)  (${(replayMs / snapshotMs).toFixed(1)}x faster; goal >= 5x)`,
  );
  await app.close();
} finally {
  await admin.query(`DROP SCHEMA ${schema} CASCADE`);
  await admin.end();
}
process.exit(0);
