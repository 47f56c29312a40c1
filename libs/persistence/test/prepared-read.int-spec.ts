import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  Column,
  CreateDateColumn,
  DataSource,
  Entity,
  PrimaryColumn,
  QueryFailedError,
  VersionColumn,
  type ValueTransformer,
} from 'typeorm';
import { MonitoringModule } from '@infrastructure/monitoring';
import {
  DatabaseUnavailableError,
  PersistenceModule,
  TypeOrmRepository,
  UnitOfWork,
} from '@infrastructure/persistence';
import {
  createTestApp,
  TestDatabase,
  testMonitoringOptions,
  type TestApp,
} from '@infrastructure/testing';

/** A value object the `amount` column's transformer builds from its integer cents. */
class Money {
  constructor(readonly cents: number) {}
}

const cents: ValueTransformer = {
  to: (value: Money | undefined) => value?.cents,
  from: (value: number | null) => (value === null ? null : new Money(value)),
};

@Entity('pr_readings')
class Reading {
  @PrimaryColumn({ type: 'uuid' }) id!: string;
  @Column({ name: 'label_text', type: 'varchar', length: 50 }) label!: string;
  @Column({ type: 'int', transformer: cents }) amount!: Money;
  @Column({ name: 'taken_at', type: 'timestamptz' }) takenAt!: Date;
  @Column({ type: 'jsonb', nullable: true }) tags!: string[] | null;
  @Column({ type: 'bigint' }) counter!: string;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @VersionColumn() version!: number;
}

@Injectable()
class Readings extends TypeOrmRepository<Reading, string> {
  constructor(uow: UnitOfWork) {
    super(Reading, uow);
  }
}

function reading(id = randomUUID()): Reading {
  return Object.assign(new Reading(), {
    id,
    label: 'boiler',
    amount: new Money(1234),
    takenAt: new Date('2026-12-03T06:30:00.123Z'),
    tags: ['a', 'b'],
    counter: '9007199254740993', // above 2^53: a string, as TypeORM returns bigint
  });
}

/** The count of `db_query_duration_seconds` for select with `outcome`. */
async function selects(t: TestApp, outcome: 'ok' | 'error'): Promise<number> {
  const text = (await t.request.get('/metrics').expect(200)).text;
  const line = new RegExp(
    `db_query_duration_seconds_count\\{connection="default",operation="select",outcome="${outcome}"\\} (\\d+)`,
  ).exec(text);
  return Number(line?.[1] ?? 0);
}

/**
 * Holds an ACCESS EXCLUSIVE lock on the table (from the test's own connection) until the app's
 * read waits for it, then terminates that read's backend: a connection lost mid-query.
 */
async function terminateWhileWaiting<T>(
  db: TestDatabase,
  read: () => Promise<T>,
): Promise<unknown> {
  const locker = db.dataSource.createQueryRunner();
  await locker.startTransaction();
  try {
    await locker.query('LOCK TABLE pr_readings IN ACCESS EXCLUSIVE MODE');
    const outcome = read().then(
      () => undefined,
      (error: unknown) => error,
    );
    let terminated = 0;
    for (let attempt = 0; attempt < 500 && terminated === 0; attempt++) {
      const rows = (await db.dataSource.query(
        `SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity
          WHERE wait_event_type = 'Lock' AND query LIKE '%pr_readings%' AND pid <> pg_backend_pid()`,
      )) as unknown[];
      terminated = rows.length;
    }
    expect(terminated).toBe(1);
    return await outcome;
  } finally {
    await locker.rollbackTransaction();
    await locker.release();
  }
}

describe('point reads on PostgreSQL outside a unit of work (prepared statements on the pool)', () => {
  let db: TestDatabase;
  let t: TestApp;
  let ds: DataSource;
  let repo: Readings;
  let uow: UnitOfWork;

  beforeAll(async () => {
    db = await TestDatabase.create({
      url: 'postgres://postgres@127.0.0.1:5432/test',
      entities: [Reading],
    });
    t = await createTestApp({
      imports: [
        MonitoringModule.forRoot(testMonitoringOptions()),
        // One connection: every query of the app meets the same session's prepared statements.
        PersistenceModule.forRoot(db.moduleOptions({ pool: { max: 1, acquireTimeoutMs: 2000 } })),
      ],
      providers: [Readings],
    });
    ds = t.app.get(DataSource);
    repo = t.app.get(Readings);
    uow = t.app.get(UnitOfWork);
  });
  afterAll(async () => {
    await t?.close();
    await db?.destroy();
  });
  beforeEach(async () => {
    await db.truncateAll();
    vi.restoreAllMocks();
  });

  it('returns the same entity as the query-builder path (column names, transformer, dates, jsonb, bigint)', async () => {
    const saved = await repo.save(reading());
    const fast = await repo.findById(saved.id);
    const builder = await ds
      .getRepository(Reading)
      .createQueryBuilder('e')
      .where('e.id = :id', { id: saved.id })
      .getOne();
    expect(fast).toBeInstanceOf(Reading);
    expect(fast).toEqual(builder);
    expect(fast!.amount).toBeInstanceOf(Money);
    expect(fast!.amount.cents).toBe(1234);
    expect(fast!.takenAt).toEqual(new Date('2026-12-03T06:30:00.123Z'));
    expect(fast!.createdAt).toBeInstanceOf(Date);
    expect(fast).toMatchObject({ label: 'boiler', tags: ['a', 'b'], counter: '9007199254740993' });
    expect(fast!.version).toBe(1);
    await expect(repo.findById(randomUUID())).resolves.toBeNull();
  });

  it('runs as a named prepared statement without creating a query runner', async () => {
    const saved = await repo.save(reading());
    const runners = vi.spyOn(ds, 'createQueryRunner');
    await repo.findById(saved.id);
    await repo.findById(saved.id);
    expect(runners).not.toHaveBeenCalled();
    runners.mockRestore();
    const prepared = (await ds.query(
      `SELECT name, statement FROM pg_prepared_statements WHERE statement LIKE '%pr_readings%'`,
    )) as Array<{ name: string; statement: string }>;
    expect(prepared).toHaveLength(1);
    expect(prepared[0]!.name).toMatch(/^infra_\d+$/);
    expect(prepared[0]!.statement).toMatch(/WHERE "e"."id" = \$1/);
  });

  it('with pool.preparedStatements false sends the read unnamed, still without a query runner', async () => {
    const saved = await repo.save(reading());
    const other = await createTestApp({
      imports: [
        PersistenceModule.forRoot(
          db.moduleOptions({ pool: { max: 1, preparedStatements: false } }),
        ),
      ],
      providers: [Readings],
    });
    try {
      const otherDs = other.app.get(DataSource);
      const runners = vi.spyOn(otherDs, 'createQueryRunner');
      await expect(other.app.get(Readings).findById(saved.id)).resolves.toEqual(
        await repo.findById(saved.id),
      );
      expect(runners).not.toHaveBeenCalled();
      runners.mockRestore();
      await expect(otherDs.query(`SELECT name FROM pg_prepared_statements`)).resolves.toEqual([]);
    } finally {
      await other.close();
    }
  });

  it('inside a unit of work reads through its transaction (sees its uncommitted write)', async () => {
    const id = randomUUID();
    const seen = await uow.run(async () => {
      await repo.save(reading(id));
      const runners = vi.spyOn(ds, 'createQueryRunner');
      const inside = await repo.findById(id);
      // Not yet committed: another connection does not see the row.
      const outside = (await db.dataSource.query('SELECT id FROM pr_readings WHERE id = $1', [
        id,
      ])) as unknown[];
      runners.mockRestore();
      return { inside, outside, runners: runners.mock.calls.length };
    });
    expect(seen.inside).toMatchObject({ id, label: 'boiler' });
    expect(seen.outside).toEqual([]);
    expect(seen.runners).toBe(0); // the transaction's own runner, no new one
    await expect(repo.findById(id)).resolves.toMatchObject({ id });
  });

  it('counts each read in db_query_duration_seconds as a select, errors as outcome="error"', async () => {
    const saved = await repo.save(reading());
    const ok = await selects(t, 'ok');
    const failed = await selects(t, 'error');
    await repo.findById(saved.id);
    await repo.findById(randomUUID());
    await repo.findById(saved.id);
    expect(await selects(t, 'ok')).toBe(ok + 3);
    // Not a UUID: PostgreSQL refuses the parameter. Same error type as the query-builder path.
    const fastError = await repo.findById('not-a-uuid').catch((e: unknown) => e);
    const builderError = await uow.run(() => repo.findById('not-a-uuid')).catch((e: unknown) => e);
    expect(fastError).toBeInstanceOf(QueryFailedError);
    expect(builderError).toBeInstanceOf(QueryFailedError);
    expect((fastError as { code?: string }).code).toBe('22P02');
    expect(await selects(t, 'error')).toBe(failed + 2);
    // A failed statement does not cost the connection: the next read works on it.
    await expect(repo.findById(saved.id)).resolves.toMatchObject({ id: saved.id });
  });

  it.each([
    { where: 'outside a unit of work (prepared statement on the pool)', inUow: false },
    { where: 'inside a unit of work (query runner)', inUow: true },
  ])(
    'a connection terminated mid-read is a DatabaseUnavailableError (503) $where',
    async ({ inUow }) => {
      const saved = await repo.save(reading());
      const read = () => (inUow ? uow.run(() => repo.findById(saved.id)) : repo.findById(saved.id));
      const error = await terminateWhileWaiting(db, read);
      expect(error).toBeInstanceOf(DatabaseUnavailableError);
      expect((error as DatabaseUnavailableError).httpStatus).toBe(503);
      // The pool drops the dead connection and opens a new one.
      await expect(repo.findById(saved.id)).resolves.toMatchObject({ id: saved.id });
    },
  );

  it('survives a column type change while its statement is prepared (stale plan → re-prepared)', async () => {
    const saved = await repo.save(reading());
    await expect(repo.findById(saved.id)).resolves.toMatchObject({ label: 'boiler' });
    // varchar → text changes the statement's result type ("cached plan must not change result type").
    await db.dataSource.query('ALTER TABLE pr_readings ALTER COLUMN label_text TYPE text');
    try {
      await expect(repo.findById(saved.id)).resolves.toMatchObject({ label: 'boiler' });
      await expect(repo.findById(saved.id)).resolves.toMatchObject({ label: 'boiler' });
    } finally {
      await db.dataSource.query('ALTER TABLE pr_readings ALTER COLUMN label_text TYPE varchar(50)');
    }
  });
});
