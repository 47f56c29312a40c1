import { randomBytes } from 'node:crypto';
import { Test } from '@nestjs/testing';
import { getDataSourceToken } from '@nestjs/typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataSource, type MigrationInterface, type QueryRunner } from 'typeorm';
import { PersistenceConfigError, PersistenceModule } from '@infrastructure/persistence';
import { Account } from './fixtures.js';

const BASE = 'postgres://postgres@127.0.0.1:5432/test';

class CreateGadgets1700000000002 implements MigrationInterface {
  name = 'CreateGadgets1700000000002';
  async up(q: QueryRunner): Promise<void> {
    await q.query('CREATE TABLE gadgets (id integer PRIMARY KEY)');
  }
  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE gadgets');
  }
}

const boot = (url: string, migrationsRun: boolean) =>
  Test.createTestingModule({
    imports: [
      PersistenceModule.forRoot({
        url,
        migrations: [CreateGadgets1700000000002],
        migrationsRun,
        connectRetry: { attempts: 1 },
        health: { enabled: false },
      }),
    ],
  }).compile();

const schemaExists = async (admin: DataSource, name: string): Promise<boolean> =>
  ((await admin.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [name])) as unknown[])
    .length === 1;

describe('a PostgreSQL ?schema= that does not exist yet', () => {
  // Unique per run; both are dropped in afterAll whatever the tests did.
  const created = `does_not_exist_${randomBytes(4).toString('hex')}`;
  const missing = `does_not_exist_${randomBytes(4).toString('hex')}`;
  const synced = `does_not_exist_${randomBytes(4).toString('hex')}`;
  const admin = new DataSource({ type: 'postgres', url: BASE });

  beforeAll(async () => {
    await admin.initialize();
  });
  afterAll(async () => {
    for (const name of [created, missing, synced])
      await admin.query(`DROP SCHEMA IF EXISTS "${name}" CASCADE`);
    await admin.destroy();
  });

  it('is created at boot (CREATE SCHEMA IF NOT EXISTS) before the migrations run into it', async () => {
    expect(await schemaExists(admin, created)).toBe(false);
    const ref = await boot(`${BASE}?schema=${created}`, true);
    try {
      const ds = ref.get<DataSource>(getDataSourceToken());
      expect(await schemaExists(admin, created)).toBe(true);
      const tables = (await admin.query(
        'SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1',
        [created],
      )) as Array<{ table_name: string }>;
      expect(tables.map((t) => t.table_name)).toEqual(['gadgets', 'migrations']);
      // The connection's search_path is the schema: unqualified names land there.
      await ds.query('INSERT INTO gadgets (id) VALUES (1)');
      expect(await admin.query(`SELECT id FROM "${created}".gadgets`)).toEqual([{ id: 1 }]);
    } finally {
      await ref.close();
    }
  });

  it('is created at boot before synchronize creates the entity tables in it', async () => {
    const ref = await Test.createTestingModule({
      imports: [
        PersistenceModule.forRoot({
          url: `${BASE}?schema=${synced}`,
          entities: [Account],
          synchronize: true,
          connectRetry: { attempts: 1 },
          health: { enabled: false },
        }),
      ],
    }).compile();
    try {
      const tables = (await admin.query(
        'SELECT table_name FROM information_schema.tables WHERE table_schema = $1',
        [synced],
      )) as Array<{ table_name: string }>;
      expect(tables.map((t) => t.table_name)).toEqual(['accounts']);
    } finally {
      await ref.close();
    }
  });

  it('without migrationsRun the boot fails with a PersistenceConfigError naming DATABASE_URL, not a QueryFailedError', async () => {
    const error: unknown = await boot(`${BASE}?schema=${missing}`, false).then(
      async (ref) => {
        await ref.close();
        return undefined;
      },
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(PersistenceConfigError);
    expect((error as Error).message).toBe(
      `DATABASE_URL names schema "${missing}" (?schema=), which does not exist in database "test" at 127.0.0.1:5432; create it (CREATE SCHEMA "${missing}") or let the app create it by running migrations at boot (migrationsRun)`,
    );
    expect(await schemaExists(admin, missing)).toBe(false);
  });
});

describe('a PostgreSQL ?schema= that is not a lower-case identifier', () => {
  // Unique per run; dropped in afterAll whatever the tests did. The second has the characters
  // the startup options and search_path syntax treat specially: space, backslash, comma, quote.
  const suffix = randomBytes(4).toString('hex');
  const names = [`MixedCase_x${suffix}`, `Odd name-${suffix}'\\,x`];
  const admin = new DataSource({ type: 'postgres', url: BASE });

  beforeAll(async () => {
    await admin.initialize();
  });
  afterAll(async () => {
    for (const name of names)
      await admin.query(`DROP SCHEMA IF EXISTS "${name.replace(/"/g, '""')}" CASCADE`);
    await admin.destroy();
  });

  it.each(names)(
    'keeps the name as written: %s is created, migrated into and on the search_path',
    async (name) => {
      const ref = await boot(`${BASE}?schema=${encodeURIComponent(name)}`, true);
      try {
        const ds = ref.get<DataSource>(getDataSourceToken());
        expect(await schemaExists(admin, name)).toBe(true);
        const tables = (await admin.query(
          'SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1',
          [name],
        )) as Array<{ table_name: string }>;
        expect(tables.map((t) => t.table_name)).toEqual(['gadgets', 'migrations']);
        // Unqualified names resolve in that schema: the search_path kept its case and characters.
        await ds.query('INSERT INTO gadgets (id) VALUES (7)');
        expect(await admin.query(`SELECT id FROM "${name.replace(/"/g, '""')}".gadgets`)).toEqual([
          { id: 7 },
        ]);
        expect(await ds.query('SELECT current_schema() AS s')).toEqual([{ s: name }]);
      } finally {
        await ref.close();
      }
    },
  );
});
