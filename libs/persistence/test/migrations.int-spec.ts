import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MigrationInterface, QueryRunner } from 'typeorm';
import {
  connectDataSource,
  resolvePersistenceOptions,
  runMigrationsLocked,
} from '@infrastructure/persistence';
import { TestDatabase } from '@infrastructure/testing';

/** Creates a table slowly, so two unlocked runs would overlap. */
class CreateWidgets1700000000001 implements MigrationInterface {
  name = 'CreateWidgets1700000000001';
  async up(q: QueryRunner): Promise<void> {
    await q.query('CREATE TABLE widgets (id integer PRIMARY KEY)');
    await q.query(
      q.connection.options.type === 'postgres' ? 'SELECT pg_sleep(0.3)' : 'SELECT SLEEP(0.3)',
    );
    await q.query('INSERT INTO widgets (id) VALUES (1)');
  }
  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE widgets');
  }
}

describe.each([
  ['postgres', 'postgres://postgres@127.0.0.1:5432/test'],
  ['mariadb', 'mariadb://root@127.0.0.1:3306/test'],
])('migrations on %s', (_kind, url) => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await TestDatabase.create({ url, entities: [], synchronize: false, migrations: [] });
  });
  afterAll(() => db?.destroy());

  it('two instances migrating at once: one applies, the other waits and finds nothing pending', async () => {
    const options = resolvePersistenceOptions({
      url: db.url,
      migrations: [CreateWidgets1700000000001],
      connectRetry: { attempts: 1 },
    });
    const [a, b] = await Promise.all([connectDataSource(options), connectDataSource(options)]);
    try {
      const [ranA, ranB] = await Promise.all([runMigrationsLocked(a), runMigrationsLocked(b)]);
      expect(ranA.length + ranB.length).toBe(1);
      const [{ n }] = (await a.query('SELECT COUNT(*) AS n FROM widgets')) as Array<{
        n: string | number;
      }>;
      expect(Number(n)).toBe(1);
      expect(await a.showMigrations()).toBe(false); // nothing pending
      const executed = (await a.query('SELECT name FROM migrations')) as Array<{ name: string }>;
      expect(executed.map((m) => m.name)).toEqual(['CreateWidgets1700000000001']);
    } finally {
      await a.destroy();
      await b.destroy();
    }
  });
});
