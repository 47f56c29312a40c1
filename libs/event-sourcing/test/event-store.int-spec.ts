import { Module } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DataSource } from 'typeorm';
import {
  AddParkedEvents1764900000000,
  ConcurrentAppends1765300000000,
  CreateEventStore1764400000000,
  EventSourcing,
  EventSourcingModule,
  EventStore,
  MemoryEventStore,
  ParkedEvents,
  ProjectionRunner,
  StreamConcurrencyError,
  type RecordedEvent,
} from '@infrastructure/event-sourcing';
import { MessagingModule, MessagingRuntime, type OutgoingMessage } from '@infrastructure/messaging';
import { HealthRegistry, MetricsService, MonitoringModule } from '@infrastructure/monitoring';
import { PersistenceModule, UnitOfWork } from '@infrastructure/persistence';
import { TestDatabase, testMonitoringOptions } from '@infrastructure/testing';
import {
  Account,
  AccountOpened,
  Accounts,
  BalancesProjection,
  DepositLogProjection,
  MoneyDeposited,
  MoneyWithdrawn,
} from './fixtures.js';

@Module({ providers: [Accounts, BalancesProjection, DepositLogProjection] })
class BankModule {}

const servers = [
  ['SQLite', 'sqlite:'],
  ['PostgreSQL', 'postgres://postgres@127.0.0.1:5432/test'],
  ['MariaDB', 'mysql://root@127.0.0.1:3306/test'],
] as const;

async function bank(url: string): Promise<TestingModule> {
  const ref = await Test.createTestingModule({
    imports: [
      MonitoringModule.forRoot(testMonitoringOptions()),
      PersistenceModule.forRoot({ url, pool: { max: 8 }, connectRetry: { attempts: 1 } }),
      MessagingModule.forRoot({ serviceName: 'bank' }),
      EventSourcingModule.forRoot({ projections: { pollIntervalMs: 50, stalledAfterMs: 200 } }),
      BankModule,
    ],
  }).compile();
  await ref.init();
  return ref;
}

describe('MemoryEventStore', () => {
  it('appends with expected versions, reads forward/backward, keeps a global order', async () => {
    const store = new MemoryEventStore();
    await store.append('account-m', [new AccountOpened('m', 'ann')], {
      expectedVersion: 'no-stream',
    });
    const r = await store.append(
      'account-m',
      [new MoneyDeposited('m', 5), new MoneyDeposited('m', 7)],
      {
        expectedVersion: 1,
      },
    );
    expect(r).toEqual({ nextExpectedVersion: 3, lastPosition: 3 });
    await expect(
      store.append('account-m', [new MoneyDeposited('m', 1)], { expectedVersion: 1 }),
    ).rejects.toMatchObject({ name: 'StreamConcurrencyError', expected: 1, actual: 3 });
    const back = await store.read('account-m', { direction: 'backward', limit: 2 });
    expect(back.map((e) => e.version)).toEqual([3, 2]);
    expect((await store.readAll({ fromPosition: 1 })).map((e) => e.position)).toEqual([2, 3]);
  });
});

describe.each(servers)('event store on %s', (_label, server) => {
  let db: TestDatabase;
  let ref: TestingModule;
  let store: EventStore;

  beforeAll(async () => {
    db = await TestDatabase.create({ url: server, entities: [] });
    await db.dataSource.query(
      'CREATE TABLE es_balances (account_id varchar(64) PRIMARY KEY, balance int NOT NULL)',
    );
    ref = await bank(db.url);
    store = ref.get(EventStore);
  }, 60_000);
  afterAll(async () => {
    await ref?.close();
    await db?.destroy();
  });

  it('appends and reads a stream: versions, positions, instances of the event classes', async () => {
    const id = randomUUID();
    const first = await store.append(`account-${id}`, [new AccountOpened(id, 'bo')], {
      expectedVersion: 'no-stream',
    });
    expect(first.nextExpectedVersion).toBe(1);
    const second = await store.append(
      `account-${id}`,
      [new MoneyDeposited(id, 100), new MoneyWithdrawn(id, 30)],
      { expectedVersion: 1 },
    );
    expect(second).toEqual({ nextExpectedVersion: 3, lastPosition: first.lastPosition + 2 });
    const events = await store.read(`account-${id}`);
    expect(events.map((e) => [e.version, e.event.constructor.name])).toEqual([
      [1, 'AccountOpened'],
      [2, 'MoneyDeposited'],
      [3, 'MoneyWithdrawn'],
    ]);
    expect(events[1]!.event).toBeInstanceOf(MoneyDeposited);
    expect(events[1]!.event).toMatchObject({ cents: 100, version: 2, aggregateType: 'Account' });
    expect(events.map((e) => e.position)).toEqual([
      first.lastPosition,
      first.lastPosition + 1,
      first.lastPosition + 2,
    ]);
    expect((await store.read(`account-${id}`, { fromVersion: 2, limit: 1 }))[0]!.version).toBe(2);
    expect(
      (await store.read(`account-${id}`, { direction: 'backward' })).map((e) => e.version),
    ).toEqual([3, 2, 1]);
    expect(await store.version(`account-${id}`)).toBe(3);
    expect(await store.version('account-never')).toBe(0);
  });

  it('refuses a wrong expected version with the expected and actual versions', async () => {
    const id = randomUUID();
    await store.append(`account-${id}`, [new AccountOpened(id, 'cy')]);
    const error = await store
      .append(`account-${id}`, [new AccountOpened(id, 'cy')], { expectedVersion: 'no-stream' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StreamConcurrencyError);
    expect(error).toMatchObject({ expected: 'no-stream', actual: 1, httpStatus: 409 });
    await expect(
      store.append(`account-${id}`, [new MoneyDeposited(id, 1)], { expectedVersion: 5 }),
    ).rejects.toThrow(/expected version 5, but it is at 1/);
    expect(await store.version(`account-${id}`)).toBe(1);
  });

  it('upcasts events stored with an old schema version when reading', async () => {
    const id = randomUUID();
    const { lastPosition } = await store.append(`account-${id}`, [new AccountOpened(id, 'di')]);
    const p = db.url.startsWith('postgres') ? ['$1', '$2', '$3'] : ['?', '?', '?'];
    const old = {
      id: randomUUID(),
      type: 'es-test.MoneyDeposited',
      schemaVersion: 1,
      occurredAt: new Date().toISOString(),
      aggregateId: id,
      payload: { accountId: id, amount: 42 },
      metadata: {},
    };
    // Written by an older release: version-1 payload with `amount`.
    const pg = db.url.startsWith('postgres');
    let position = lastPosition + 1;
    if (pg) {
      const [row] = (await db.dataSource.query(
        `SELECT nextval('event_store_position_seq') AS position`,
      )) as Array<{ position: string }>;
      position = Number(row!.position);
    } else {
      await db.dataSource.query(
        `UPDATE event_store_sequence SET position = position + 1 WHERE id = 1`,
      );
    }
    await db.dataSource.query(
      `INSERT INTO event_store_events (position, stream_id, version, event_id, type, data, recorded_at)
       VALUES (${p[0]}, ${p[1]}, 2, ${p[2]}, 'es-test.MoneyDeposited', '${JSON.stringify(old)}', ${Date.now()})`,
      [position, `account-${id}`, old.id],
    );
    const [, deposited] = await store.read(`account-${id}`);
    expect(deposited!.event).toBeInstanceOf(MoneyDeposited);
    expect((deposited!.event as MoneyDeposited).cents).toBe(42);
  });

  it('hides events before truncateBefore and older than maxAgeMs', async () => {
    const id = randomUUID();
    await store.append(`account-${id}`, [
      new AccountOpened(id, 'ed'),
      new MoneyDeposited(id, 1),
      new MoneyDeposited(id, 2),
    ]);
    await store.setStreamMetadata(`account-${id}`, { truncateBefore: 3 });
    expect((await store.read(`account-${id}`)).map((e) => e.version)).toEqual([3]);
    expect(await store.streamMetadata(`account-${id}`)).toEqual({ truncateBefore: 3 });
    await store.setStreamMetadata(`account-${id}`, { maxAgeMs: 0 });
    await store.append(`account-${id}`, [new MoneyDeposited(id, 3)]);
    await store.setStreamMetadata(`account-${id}`, { maxAgeMs: 60_000 });
    expect((await store.read(`account-${id}`)).map((e) => e.version)).toEqual([1, 2, 3, 4]);
  });

  it('subscribes: catches up from a position, then receives live appends in order', async () => {
    const head = await store.headPosition();
    const id = randomUUID();
    await store.append(`account-${id}`, [new AccountOpened(id, 'fa')]);
    const seen: RecordedEvent[] = [];
    let done!: () => void;
    const three = new Promise<void>((r) => (done = r));
    const sub = store.subscribe(head, (e) => {
      if (e.streamId !== `account-${id}`) return;
      seen.push(e);
      if (seen.length === 3) done();
    });
    await store.append(`account-${id}`, [new MoneyDeposited(id, 1), new MoneyDeposited(id, 2)]);
    await three;
    await sub.close();
    expect(seen.map((e) => e.version)).toEqual([1, 2, 3]);
  });

  it('rebuilds aggregates from events, with and without a snapshot, to the same state', async () => {
    const accounts = ref.get(Accounts);
    const id = randomUUID();
    const account = new Account(id);
    account.open('gus');
    for (let i = 1; i <= 24; i++) {
      if (i % 4 === 0) account.withdraw(1);
      else account.deposit(i);
    }
    await accounts.save(account);
    expect(account.uncommittedEvents).toHaveLength(0);
    const withSnapshot = await accounts.load(id);
    const fromEvents = await accounts.load(id, { useSnapshot: false });
    expect(withSnapshot).toMatchObject({ owner: 'gus', balance: account.balance, version: 25 });
    expect(fromEvents!.toSnapshot()).toEqual(withSnapshot!.toSnapshot());
    expect(fromEvents!.version).toBe(withSnapshot!.version);
    const snapshot = await ref.get(EventSourcing).snapshots.load(`account-${id}`);
    expect(snapshot).toMatchObject({ version: 25, schemaVersion: 1 });
    expect(await accounts.load('missing')).toBeUndefined();
  });

  it('ignores a snapshot of another schema version', async () => {
    const id = randomUUID();
    const account = new Account(id);
    account.open('hal');
    for (let i = 0; i < 11; i++) account.deposit(10);
    await ref.get(Accounts).save(account);
    const es = ref.get(EventSourcing);
    await es.snapshots.save({
      streamId: `account-${id}`,
      version: 12,
      schemaVersion: 99,
      state: { owner: 'stale', balance: -1, movements: 0 },
    });
    const loaded = await ref.get(Accounts).load(id);
    expect(loaded).toMatchObject({ owner: 'hal', balance: 110, version: 12 });
  });

  it('saves and publishes through the outbox in one transaction; a concurrent save conflicts', async () => {
    const accounts = ref.get(Accounts);
    const id = randomUUID();
    const account = new Account(id);
    account.open('ivy');
    const published: OutgoingMessage[] = [];
    const stop = ref.get(MessagingRuntime).observe((o) => {
      if (o.kind === 'published' && o.event.aggregateId === id)
        published.push({} as OutgoingMessage);
    });
    await expect(
      ref.get(UnitOfWork).run(async () => {
        await accounts.save(account);
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    expect(await ref.get(EventStore).version(`account-${id}`)).toBe(0);
    expect(published).toHaveLength(0);
    const fresh = new Account(id);
    fresh.open('ivy');
    await accounts.save(fresh);
    expect(published).toHaveLength(1);
    stop();
    const a = (await accounts.load(id))!;
    const b = (await accounts.load(id))!;
    a.deposit(5);
    b.deposit(6);
    await accounts.save(a);
    await expect(accounts.save(b)).rejects.toBeInstanceOf(StreamConcurrencyError);
  });

  const balances = async () =>
    (await db.dataSource.query(
      'SELECT account_id, balance FROM es_balances ORDER BY account_id',
    )) as Array<{ account_id: string; balance: number | string }>;

  const balanceOf = async (id: string) => {
    const [row] = (await db.dataSource.query(
      `SELECT balance FROM es_balances WHERE account_id = '${id}'`,
    )) as Array<{ balance: number | string }>;
    return Number(row!.balance);
  };

  it('projects live, and a rebuild gives the same read model', async () => {
    const runner = ref.get(ProjectionRunner);
    const accounts = ref.get(Accounts);
    const ids: string[] = [randomUUID(), randomUUID()];
    for (const id of ids) {
      const account = new Account(id);
      account.open('jo');
      account.deposit(50);
      account.withdraw(20);
      await accounts.save(account);
    }
    await runner.caughtUp('balances');
    const live = await balances();
    expect(live.filter((r) => ids.includes(r.account_id)).map((r) => Number(r.balance))).toEqual([
      30, 30,
    ]);
    await runner.rebuild('balances');
    await runner.caughtUp('balances');
    expect(await balances()).toEqual(live);
    const metrics = (await ref.get(MetricsService).render()).body;
    expect(metrics).toMatch(/projection_lag_events\{projection="balances"\} 0/);
  });

  it('policy stop: while a projection is stuck, the lag gauge and the health check say so; it resumes once the handler is fixed', async () => {
    const runner = ref.get(ProjectionRunner);
    await runner.caughtUp('deposit-log');
    expect(ref.get(HealthRegistry).names()).toContain('projections');
    const id = randomUUID();
    const account = new Account(id);
    account.open('lee');
    account.deposit(10);
    account.deposit(20);
    const head = await ref.get(EventStore).headPosition();
    DepositLogProjection.failAlwaysAt = head + 2; // the first deposit
    try {
      await ref.get(Accounts).save(account);
      await vi.waitFor(
        () =>
          expect(runner.stalled()).toMatchObject([
            {
              name: 'deposit-log',
              position: head + 1, // the events before the failing one were applied
              error: `deposit log keeps failing at position ${head + 2}`,
            },
          ]),
        { timeout: 10_000, interval: 50 },
      );
      const metrics = (await ref.get(MetricsService).render()).body;
      expect(metrics).toMatch(/projection_lag_events\{projection="deposit-log"\} [1-9]/);
      expect(await ref.get(ParkedEvents).list('deposit-log')).toEqual([]); // never skipped
    } finally {
      DepositLogProjection.failAlwaysAt = undefined;
    }
    await runner.caughtUp('deposit-log');
    expect(runner.stalled()).toEqual([]);
    const log = ref.get(DepositLogProjection).positions;
    expect([log.has(head + 2), log.has(head + 3)]).toEqual([true, true]);
  });

  it('policy park: an event the handler keeps failing on is parked after maxAttempts, the other streams keep projecting, and a replay applies it', async () => {
    const runner = ref.get(ProjectionRunner);
    const parked = ref.get(ParkedEvents);
    await runner.caughtUp('balances');
    const [poisoned, healthy] = [randomUUID(), randomUUID()];
    const bad = new Account(poisoned);
    bad.open('max');
    bad.deposit(7);
    bad.deposit(8);
    const head = await ref.get(EventStore).headPosition();
    BalancesProjection.failAlwaysAt = head + 2; // the first deposit of the poisoned account
    const started = Date.now();
    try {
      await ref.get(Accounts).save(bad);
      const good = new Account(healthy);
      good.open('ned');
      good.deposit(40);
      await ref.get(Accounts).save(good);
      await runner.caughtUp('balances'); // resolves only once the projection passed the event
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(await balanceOf(poisoned)).toBe(8);
      expect(await balanceOf(healthy)).toBe(40);
      const [entry, ...others] = await parked.list('balances');
      expect(others).toEqual([]);
      expect(entry).toMatchObject({
        projection: 'balances',
        position: head + 2,
        streamId: `account-${poisoned}`,
        type: 'es-test.MoneyDeposited',
        error: `projection keeps failing at position ${head + 2}`,
        attempts: 5,
      });
      expect(runner.stalled()).toEqual([]);
      const metrics = (await ref.get(MetricsService).render()).body;
      expect(metrics).toMatch(/projection_parked_events_total\{projection="balances"\} [1-9]/);
      await expect(parked.replay('balances', head + 2)).rejects.toThrow(/keeps failing/);
      expect((await parked.list('balances'))[0]).toMatchObject({ attempts: 6 });
    } finally {
      BalancesProjection.failAlwaysAt = undefined;
    }
    await parked.replay('balances', head + 2);
    expect(await balanceOf(poisoned)).toBe(15);
    expect(await parked.list('balances')).toEqual([]);
    await expect(parked.replay('balances', head + 2)).rejects.toThrow(/no parked event/);
  });

  it('resumes from its checkpoint after a handler fails mid-batch, applying nothing twice', async () => {
    const runner = ref.get(ProjectionRunner);
    await runner.caughtUp('balances');
    const id = randomUUID();
    const account = new Account(id);
    account.open('kim');
    for (let i = 0; i < 5; i++) account.deposit(10);
    const head = await ref.get(EventStore).headPosition();
    BalancesProjection.failAt = head + 4; // the 3rd deposit, mid-batch
    await ref.get(Accounts).save(account);
    await runner.caughtUp('balances');
    expect(BalancesProjection.failAt).toBeUndefined(); // it did fail once
    const [row] = (await db.dataSource.query(
      `SELECT balance FROM es_balances WHERE account_id = '${id}'`,
    )) as Array<{ balance: number | string }>;
    expect(Number(row!.balance)).toBe(50);
    expect(await ref.get(MetricsService).render()).toMatchObject({
      body: expect.stringMatching(/projection_errors_total\{projection="balances"\} [1-9]/),
    });
  });
});

describe('event store on PostgreSQL under contention', () => {
  let db: TestDatabase;
  let ref: TestingModule;

  beforeAll(async () => {
    db = await TestDatabase.create({
      url: 'postgres://postgres@127.0.0.1:5432/test',
      entities: [],
    });
    await db.dataSource.query(
      'CREATE TABLE es_balances (account_id varchar(64) PRIMARY KEY, balance int NOT NULL)',
    );
    ref = await bank(db.url);
  }, 60_000);
  afterAll(async () => {
    await ref?.close();
    await db?.destroy();
  });

  it('loads outside a unit of work as prepared statements on the pool (no query runner); inside one through its transaction', async () => {
    const accounts = ref.get(Accounts);
    const store = ref.get(EventStore);
    const ds = ref.get(DataSource);
    const id = randomUUID();
    const account = new Account(id);
    account.open('ivy');
    for (let i = 0; i < 24; i++) account.deposit(5);
    await accounts.save(account);
    // Query runners the loads create (the store's reads run in SqlEventStore.select); the
    // projection runner's own batches, woken by the append, make theirs meanwhile.
    const create = ds.createQueryRunner.bind(ds);
    const fromReads: string[] = [];
    const runners = vi.spyOn(ds, 'createQueryRunner').mockImplementation((...args) => {
      const stack = new Error('createQueryRunner').stack ?? '';
      if (stack.includes('SqlEventStore.select')) fromReads.push(stack);
      return create(...args);
    });
    const loaded = await accounts.load(id); // snapshot + tail
    const replayed = await accounts.load(id, { useSnapshot: false });
    const events = await store.read(`account-${id}`);
    runners.mockRestore();
    expect(fromReads).toEqual([]);
    expect(loaded).toMatchObject({ owner: 'ivy', balance: 120, version: 25 });
    expect(replayed!.toSnapshot()).toEqual(loaded!.toSnapshot());
    expect(events).toHaveLength(25);
    // In a unit of work the reads go through its transaction: an append not yet committed shows.
    const inside = await ref.get(UnitOfWork).run(async () => {
      await store.append(`account-${id}`, [new MoneyDeposited(id, 7)], { expectedVersion: 25 });
      const uncommitted = (await db.dataSource.query(
        `SELECT count(*)::int AS n FROM event_store_events WHERE stream_id = $1`,
        [`account-${id}`],
      )) as Array<{ n: number }>;
      return { balance: (await accounts.load(id))!.balance, seenOutside: uncommitted[0]!.n };
    });
    expect(inside).toEqual({ balance: 127, seenOutside: 25 });
    expect((await accounts.load(id))!.balance).toBe(127);
  });

  it('appends to other streams do not wait for one in flight; readers stop before its position until it commits', async () => {
    const store = ref.get(EventStore);
    const uow = ref.get(UnitOfWork);
    const before = await store.headPosition();
    const slowId = randomUUID();
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let drawn!: (position: number) => void;
    const slowPosition = new Promise<number>((resolve) => (drawn = resolve));
    const slow = uow.run(async () => {
      const r = await store.append(`account-${slowId}`, [new AccountOpened(slowId, 'in flight')]);
      drawn(r.lastPosition);
      await held;
    });
    const p1 = await slowPosition;
    // Under the old sequence-row lock these waited for `slow` to commit (and this test timed out).
    const fast = await Promise.all(
      Array.from({ length: 10 }, () => {
        const id = randomUUID();
        return store.append(`account-${id}`, [new AccountOpened(id, 'committed')]);
      }),
    );
    const fastPositions = fast.map((r) => r.lastPosition).sort((a, b) => a - b);
    expect(fastPositions[0]).toBeGreaterThan(p1);
    expect(await store.headPosition()).toBe(fastPositions[9]);
    // The ten are committed, but a projection reading now would pass p1 before it commits.
    expect(await store.readAll({ fromPosition: before })).toEqual([]);
    release();
    await slow;
    await vi.waitFor(
      async () => {
        const all = await store.readAll({ fromPosition: before });
        expect(all.map((e) => e.position)).toEqual([p1, ...fastPositions]);
      },
      { timeout: 10_000, interval: 20 },
    );
    await ref.get(ProjectionRunner).caughtUp('balances');
    const [row] = (await db.dataSource.query(
      'SELECT balance FROM es_balances WHERE account_id = $1',
      [slowId],
    )) as Array<{ balance: number }>;
    expect(row).toEqual({ balance: 0 });
  });

  it('a rolled-back append leaves a hole that readers pass once its transaction has ended', async () => {
    const store = ref.get(EventStore);
    const uow = ref.get(UnitOfWork);
    const before = await store.headPosition();
    const gone = randomUUID();
    await expect(
      uow.run(async () => {
        await store.append(`account-${gone}`, [new AccountOpened(gone, 'rolled back')]);
        throw new Error('rolled back on purpose');
      }),
    ).rejects.toThrow('rolled back on purpose');
    const kept = randomUUID();
    const r = await store.append(`account-${kept}`, [new AccountOpened(kept, 'kept')]);
    expect(r.lastPosition).toBe(before + 2);
    // Other test files' transactions on this server can hold xmin back for a moment.
    await vi.waitFor(
      async () => {
        const all = await store.readAll({ fromPosition: before });
        expect(all.map((e) => [e.position, e.streamId])).toEqual([[before + 2, `account-${kept}`]]);
      },
      { timeout: 10_000, interval: 20 },
    );
    expect(await store.version(`account-${gone}`)).toBe(0);
  });

  it('appends inside a REPEATABLE READ unit of work too (the horizon does not come from a snapshot)', async () => {
    const store = ref.get(EventStore);
    const id = randomUUID();
    const before = await store.headPosition();
    await ref
      .get(UnitOfWork)
      .run(() => store.append(`account-${id}`, [new AccountOpened(id, 'rr')]), {
        isolationLevel: 'REPEATABLE READ',
      });
    const [row] = (await db.dataSource.query(
      'SELECT horizon::text AS horizon FROM event_store_events WHERE stream_id = $1',
      [`account-${id}`],
    )) as Array<{ horizon: string }>;
    expect(BigInt(row!.horizon)).toBeGreaterThan(0n);
    const all = await store.readAll({ fromPosition: before });
    expect(all.map((e) => e.streamId)).toEqual([`account-${id}`]);
  });

  it('a stream id with quotes and backslashes is stored as given (the batch escapes it), and a conflict draws no position', async () => {
    const store = ref.get(EventStore);
    const id = `o'brien\\'; DROP TABLE event_store_events; --${randomUUID()}`;
    const first = await store.append(id, [new AccountOpened('ob', 'ob')], {
      expectedVersion: 'no-stream',
    });
    await expect(
      store.append(id, [new MoneyDeposited('ob', 1)], { expectedVersion: 'no-stream' }),
    ).rejects.toMatchObject({ name: 'StreamConcurrencyError', actual: 1 });
    const second = await store.append(id, [new MoneyDeposited('ob', 2)], { expectedVersion: 1 });
    expect(second).toEqual({ nextExpectedVersion: 2, lastPosition: first.lastPosition + 1 });
    expect((await store.read(id)).map((e) => [e.streamId, e.version])).toEqual([
      [id, 1],
      [id, 2],
    ]);
  });

  it('the migration from the sequence row: positions continue after the highest stored one, old rows read as settled', async () => {
    const old = await TestDatabase.create({
      url: 'postgres://postgres@127.0.0.1:5432/test',
      migrations: [CreateEventStore1764400000000, AddParkedEvents1764900000000],
    });
    try {
      for (const position of [1, 2, 4]) {
        await old.dataSource.query(
          `INSERT INTO event_store_events (position, stream_id, version, event_id, type, data, recorded_at)
           VALUES ($1, 'legacy', $2, $3, 'es-test.AccountOpened', '{}', 0)`,
          [position, position, randomUUID()],
        );
      }
      await old.dataSource.query('UPDATE event_store_sequence SET position = 4 WHERE id = 1');
      const q = old.dataSource.createQueryRunner();
      try {
        await new ConcurrentAppends1765300000000().up(q);
        await new ConcurrentAppends1765300000000().up(q); // idempotent
      } finally {
        await q.release();
      }
      const [next] = (await old.dataSource.query(
        `SELECT nextval('event_store_position_seq') AS position`,
      )) as Array<{ position: string }>;
      expect(Number(next!.position)).toBe(5);
      const [legacy] = (await old.dataSource.query(
        'SELECT COUNT(*)::int AS n FROM event_store_events WHERE horizon IS NULL',
      )) as Array<{ n: number }>;
      expect(legacy!.n).toBe(3);
    } finally {
      await old.destroy();
    }
  });

  it('20 parallel appends with the same expected version: exactly 1 wins, 19 conflict', async () => {
    const store = ref.get(EventStore);
    const id = randomUUID();
    await store.append(`account-${id}`, [new AccountOpened(id, 'lu')], {
      expectedVersion: 'no-stream',
    });
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) =>
        store.append(`account-${id}`, [new MoneyDeposited(id, i), new MoneyDeposited(id, i)], {
          expectedVersion: 1,
        }),
      ),
    );
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r) => r.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(19);
    for (const r of lost) {
      expect((r as PromiseRejectedResult).reason).toMatchObject({
        name: 'StreamConcurrencyError',
        expected: 1,
        actual: 3,
      });
    }
    const events = await store.read(`account-${id}`);
    expect(events.map((e) => e.version)).toEqual([1, 2, 3]);
    const positions = events.map((e) => e.position);
    expect(positions[2]! - positions[1]!).toBe(1); // one append, contiguous positions
  });

  it('keeps global positions gap-free under concurrent appends to many streams (none rolled back)', async () => {
    const store = ref.get(EventStore);
    const before = await store.headPosition();
    await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        store.append(`account-par-${i}-${randomUUID()}`, [
          new AccountOpened(`p${i}`, 'x'),
          new MoneyDeposited(`p${i}`, i),
        ]),
      ),
    );
    const all = await store.readAll({ fromPosition: before, limit: 100 });
    expect(all.map((e) => e.position)).toEqual(
      Array.from({ length: 60 }, (_, i) => before + i + 1),
    );
  });
});
