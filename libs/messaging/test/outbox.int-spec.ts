import { Injectable, Module } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { randomUUID } from 'node:crypto';
import { getDataSourceToken } from '@nestjs/typeorm';
import { Client as PgClient } from 'pg';
import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  DomainEvent,
  DomainEventType,
  EventBus,
  EventHandler,
  MemoryTransport,
  MessagingModule,
  MessagingRuntime,
  type DomainEventInit,
  type OutgoingMessage,
} from '@infrastructure/messaging';
import { MetricsService, MonitoringModule } from '@infrastructure/monitoring';
import { PersistenceModule, UnitOfWork } from '@infrastructure/persistence';
import { TestDatabase, testMonitoringOptions } from '@infrastructure/testing';
import { OutboxStore } from '../src/outbox/outbox.store.js';
import { Recorder } from './contract/transport-contract.js';

@DomainEventType('outbox.TicketSold')
class TicketSold extends DomainEvent {
  constructor(
    readonly showId: string,
    readonly seat: number,
    init?: DomainEventInit,
  ) {
    super({ aggregateId: showId, aggregateType: 'Show', ...init });
  }
}

/** A memory transport that records every published message and can be switched off. */
class RecordingTransport extends MemoryTransport {
  readonly sent = new Recorder<OutgoingMessage>();
  down = false;
  override async publish(messages: readonly OutgoingMessage[]): Promise<void> {
    if (this.down) throw new Error('broker unreachable');
    for (const m of messages) this.sent.push(m);
    await super.publish(messages);
  }
}

const handled = new Recorder<TicketSold>();

@Injectable()
class Box {
  @EventHandler(TicketSold, { group: 'box-office' })
  on(event: TicketSold): void {
    handled.push(event);
  }
}

@Module({ providers: [Box] })
class BoxModule {}

async function app(
  url: string,
  transport: RecordingTransport,
  outbox: { relay?: boolean; batchSize?: number } = {},
): Promise<TestingModule> {
  const ref = await Test.createTestingModule({
    imports: [
      MonitoringModule.forRoot(testMonitoringOptions()),
      PersistenceModule.forRoot({ url, pool: { max: 4 }, connectRetry: { attempts: 1 } }),
      MessagingModule.forRoot({
        transport,
        serviceName: 'outbox-test',
        outbox: { pollIntervalMs: 50, ...outbox },
      }),
      BoxModule,
    ],
  }).compile();
  await ref.init();
  return ref;
}

const seats = (list: readonly OutgoingMessage[], show: string) =>
  list
    .filter((m) => m.key === show)
    .map((m) => (JSON.parse(m.body) as { payload: { seat: number } }).payload.seat);

const databases = [
  ['SQLite', 'sqlite:'],
  ['PostgreSQL', 'postgres://postgres@127.0.0.1:5432/test'],
  ['MariaDB', 'mysql://root@127.0.0.1:3306/test'],
] as const;

describe.each(databases)('transactional outbox on %s', (_label, server) => {
  let db: TestDatabase;
  let ref: TestingModule;
  let transport: RecordingTransport;

  beforeAll(async () => {
    db = await TestDatabase.create({ url: server, entities: [] });
    transport = new RecordingTransport();
    ref = await app(db.url, transport);
  }, 30_000);
  afterAll(async () => {
    await ref?.close();
    await db?.destroy();
  });

  it('publishes an event written in a committed unit of work, and nothing for a rolled-back one', async () => {
    const show = `show-${randomUUID()}`;
    const uow = ref.get(UnitOfWork);
    const bus = ref.get(EventBus);
    await expect(
      uow.run(async () => {
        await bus.publish(new TicketSold(show, 1));
        throw new Error('payment declined');
      }),
    ).rejects.toThrow('payment declined');
    await uow.run(async () => {
      await bus.publish([new TicketSold(show, 2), new TicketSold(show, 3)]);
      const [row] = (await uow.manager.query(
        'SELECT COUNT(*) AS n FROM outbox_messages WHERE message_key = ' +
          (db.url.startsWith('postgres') ? '$1' : '?'),
        [show],
      )) as Array<{ n: number | string }>;
      expect(Number(row!.n)).toBe(2); // in the outbox, in this transaction
    });
    const got = await handled.until(2, (e) => e.showId === show);
    expect(got.map((e) => e.seat)).toEqual([2, 3]);
    await ref.get(MessagingRuntime).outboxRelay!.idle();
    const [pending] = (await db.dataSource.query(
      'SELECT COUNT(*) AS n FROM outbox_messages WHERE sent_at IS NULL',
    )) as Array<{ n: number | string }>;
    expect(Number(pending!.n)).toBe(0);
    expect(seats(transport.sent.items, show)).toEqual([2, 3]);
  });

  it('keeps events while the broker is down and publishes them when it is back', async () => {
    const show = `outage-${randomUUID()}`;
    transport.down = true;
    await ref.get(UnitOfWork).run(() => ref.get(EventBus).publish(new TicketSold(show, 7)));
    const relay = ref.get(MessagingRuntime).outboxRelay!;
    await relay.idle();
    const body = (await ref.get(MetricsService).render()).body;
    expect(body).toMatch(/outbox_publish_failures_total \d+/);
    expect(body).toMatch(/outbox_pending [1-9]/);
    transport.down = false;
    const [event] = await handled.until(1, (e) => e.showId === show);
    expect(event!.seat).toBe(7);
    await relay.idle();
    // Read when scraped: drained now, whatever the last poll saw.
    expect((await ref.get(MetricsService).render()).body).toMatch(/outbox_pending 0\b/);
  });
});

/** A throwaway PostgreSQL database per describe; apps pushed to `refs` are closed after it. */
function freshPostgres(): { readonly db: TestDatabase; refs: TestingModule[] } {
  const state = { db: undefined as unknown as TestDatabase, refs: [] as TestingModule[] };
  beforeAll(async () => {
    state.db = await TestDatabase.create({
      url: 'postgres://postgres@127.0.0.1:5432/test',
      entities: [],
    });
  }, 30_000);
  afterAll(async () => {
    for (const r of state.refs) await r.close();
    await state.db?.destroy();
  });
  return state;
}

describe('two outbox relays on one PostgreSQL database', () => {
  const pg = freshPostgres();

  it('publish each message exactly once and keep each key in order', async () => {
    // A writer without a relay fills the outbox; then two relay instances drain it concurrently.
    const writerTransport = new RecordingTransport();
    const writer = await app(pg.db.url, writerTransport, { relay: false });
    pg.refs.push(writer);
    const shows = Array.from({ length: 500 }, (_, i) => `show-${i}`);
    const total = 3000;
    const uow = writer.get(UnitOfWork);
    const bus = writer.get(EventBus);
    for (let batch = 0; batch < total / 300; batch++) {
      await uow.run(() =>
        bus.publish(
          Array.from({ length: 300 }, (_, i) => {
            const n = batch * 300 + i;
            return new TicketSold(shows[n % shows.length]!, n);
          }),
        ),
      );
    }
    expect(writerTransport.sent.items).toHaveLength(0);

    const a = new RecordingTransport();
    const b = new RecordingTransport();
    // Small batches: many claims, so both relays are at work at the same time.
    pg.refs.push(
      ...(await Promise.all([
        app(pg.db.url, a, { batchSize: 10 }),
        app(pg.db.url, b, { batchSize: 10 }),
      ])),
    );
    const all = new Recorder<OutgoingMessage>();
    for (const t of [a, b]) {
      const push = t.sent.push.bind(t.sent);
      t.sent.push = (m) => {
        push(m);
        all.push(m);
      };
    }
    for (const m of [...a.sent.items, ...b.sent.items]) all.push(m);
    await all.until(total);
    await Promise.all(pg.refs.slice(1).map((r) => r.get(MessagingRuntime).outboxRelay!.idle()));

    const ids = all.items.map((m) => m.headers['x-message-id']);
    expect(new Set(ids).size).toBe(total);
    expect(ids).toHaveLength(total);
    expect(a.sent.items.length).toBeGreaterThan(0);
    expect(b.sent.items.length).toBeGreaterThan(0);
    for (const show of shows) {
      const order = seats(all.items, show);
      expect(order).toEqual([...order].sort((x, y) => x - y));
    }
  }, 60_000);
});

describe('outbox lease takeover on PostgreSQL', () => {
  const pg = freshPostgres();

  it('takes over the rows of a relay that died once its lease expires', async () => {
    const writer = await app(pg.db.url, new RecordingTransport(), { relay: false });
    pg.refs.push(writer);
    await writer
      .get(UnitOfWork)
      .run(() =>
        writer.get(EventBus).publish([new TicketSold('orphan', 1), new TicketSold('orphan', 2)]),
      );
    // A relay claimed them and died: the lease runs 300 ms more.
    await pg.db.dataSource.query(
      `UPDATE outbox_messages SET claimed_by = 'dead-relay', claimed_until = $1 WHERE message_key = 'orphan'`,
      [Date.now() + 300],
    );
    const heir = new RecordingTransport();
    const started = Date.now();
    pg.refs.push(await app(pg.db.url, heir));
    const sent = await heir.sent.until(2, (m) => m.key === 'orphan');
    expect(seats(sent, 'orphan')).toEqual([1, 2]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250); // not before the lease ran out
  });
});

describe('outbox claims on PostgreSQL', () => {
  const pg = freshPostgres();

  it('claim in one round trip, oldest first, and never take a key another relay holds', async () => {
    const writer = await app(pg.db.url, new RecordingTransport(), { relay: false });
    pg.refs.push(writer);
    // Keys: a, a, b, c, a, d (positions in that order).
    const keys = ['a', 'a', 'b', 'c', 'a', 'd'];
    await writer
      .get(UnitOfWork)
      .run(() =>
        writer.get(EventBus).publish(keys.map((k, seat) => new TicketSold(`claim-${k}`, seat))),
      );
    const dataSource = writer.get<DataSource>(getDataSourceToken());
    const store = new OutboxStore(dataSource);
    await dataSource.query('SELECT 1'); // a connection in the pool, so the claim opens none

    const queries = vi.spyOn(PgClient.prototype, 'query');
    let first: Awaited<ReturnType<OutboxStore['claim']>>;
    try {
      first = await store.claim('relay-a', 2, 60_000);
      // The lock, the key fence, the pick and the lease: one statement batch (it was six).
      expect(queries).toHaveBeenCalledTimes(1);
    } finally {
      queries.mockRestore();
    }
    expect(first.map((r) => r.key)).toEqual(['claim-a', 'claim-a']);
    expect(first[0]!.position).toBeLessThan(first[1]!.position);
    expect(first.map((r) => r.headers['content-type'])).toEqual([
      'application/json',
      'application/json',
    ]);

    // relay-a holds key a: relay-b gets b, c, d (and not the third a, behind a's lease).
    const second = await store.claim('relay-b', 10, 60_000);
    expect(second.map((r) => r.key)).toEqual(['claim-b', 'claim-c', 'claim-d']);
    // Leased rows are not handed out again, to anyone.
    expect(await store.claim('relay-c', 10, 60_000)).toEqual([]);
    // Once relay-a is done with its two, the last a is relay-a's to take (or anyone's).
    await store.markSent(
      'relay-a',
      first.map((r) => r.position),
    );
    const third = await store.claim('relay-c', 10, 60_000);
    expect(third.map((r) => r.key)).toEqual(['claim-a']);
  });
});
