import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { QueryRunner } from 'typeorm';
import { eventStoreMigrations, SqlCheckpointStore } from '@infrastructure/event-sourcing';
import { TestDatabase } from '@infrastructure/testing';

// Several instances run each projection and take turns on its checkpoint row (`lock` inside the
// batch's transaction). Two of them locking it at the same moment must queue, never deadlock:
// an `INSERT IGNORE` of the existing row took a shared lock on MariaDB, and two shared locks that
// both asked `FOR UPDATE` next deadlocked (seen in the scale-out e2e: a rolled-back batch and an
// error line every few seconds with two instances under load).

const servers = [
  { name: 'PostgreSQL', url: 'postgres://postgres@127.0.0.1:5432/test' },
  { name: 'MariaDB', url: 'mysql://root@127.0.0.1:3306/test' },
];

const ROUNDS = 20;

describe.each(servers)('SqlCheckpointStore.lock on $name', ({ url }) => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await TestDatabase.create({ url, migrations: eventStoreMigrations });
  });
  afterAll(() => db?.destroy());

  /** One instance's batch: lock the checkpoint in a transaction, move it on, commit. */
  async function batch(runner: QueryRunner, name = 'contended'): Promise<void> {
    const store = new SqlCheckpointStore(db.dataSource, () => runner.manager);
    await runner.startTransaction();
    try {
      const from = await store.lock(name);
      await store.save(name, from + 1);
      await runner.commitTransaction();
    } catch (error) {
      await runner.rollbackTransaction();
      throw error;
    }
  }

  it("two instances' first batches of a new projection at once: no deadlock (the row is ensured first)", async () => {
    const failures: string[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const name = `fresh-${i}-${Date.now()}`;
      const runners = [db.dataSource.createQueryRunner(), db.dataSource.createQueryRunner()];
      const store = new SqlCheckpointStore(db.dataSource, () => db.dataSource.manager);
      try {
        // What each instance's projection loop does before its first batch, then the batch.
        const results = await Promise.allSettled(
          runners.map(async (runner) => {
            await store.ensure(name);
            await batch(runner, name);
          }),
        );
        for (const r of results) if (r.status === 'rejected') failures.push(String(r.reason));
        expect(await store.peek(name)).toBe(results.filter((r) => r.status === 'fulfilled').length);
      } finally {
        await Promise.all(runners.map((r) => r.release()));
      }
    }
    expect(failures).toEqual([]);
  });

  it('two instances locking the same checkpoint at once take turns, without a deadlock', async () => {
    const [one, two] = [db.dataSource.createQueryRunner(), db.dataSource.createQueryRunner()];
    try {
      await batch(one); // the row exists from here on, as it does after a projection's first batch
      const failures: string[] = [];
      for (let i = 0; i < ROUNDS; i++) {
        const results = await Promise.allSettled([batch(one), batch(two)]);
        for (const r of results) if (r.status === 'rejected') failures.push(String(r.reason));
      }
      expect(failures).toEqual([]);
      const store = new SqlCheckpointStore(db.dataSource, () => db.dataSource.manager);
      expect(await store.peek('contended')).toBe(1 + 2 * ROUNDS);
    } finally {
      await one.release();
      await two.release();
    }
  });
});
