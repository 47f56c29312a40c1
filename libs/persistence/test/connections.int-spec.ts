import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Test } from '@nestjs/testing';
import { getDataSourceToken } from '@nestjs/typeorm';
import { afterAll, describe, expect, it } from 'vitest';
import type { DataSource } from 'typeorm';
import { HealthRegistry, MonitoringModule } from '@infrastructure/monitoring';
import { PersistenceModule } from '@infrastructure/persistence';
import { seed, TestDatabase, testMonitoringOptions } from '@infrastructure/testing';
import { Account } from './fixtures.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'persistence-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('named connections', () => {
  it('serves a default and a "reporting" connection side by side, each with its readiness check', async () => {
    const ref = await Test.createTestingModule({
      imports: [
        MonitoringModule.forRoot(testMonitoringOptions()),
        PersistenceModule.forRoot({
          url: `sqlite:${join(dir, 'main.db')}`,
          entities: [Account],
          synchronize: true,
        }),
        PersistenceModule.forRoot({
          name: 'reporting',
          url: `sqlite:${join(dir, 'reporting.db')}`,
          entities: [Account],
          synchronize: true,
        }),
      ],
    }).compile();
    await ref.init();
    try {
      const main = ref.get<DataSource>(getDataSourceToken());
      const reporting = ref.get<DataSource>(getDataSourceToken('reporting'));
      expect(main).not.toBe(reporting);
      await reporting
        .getRepository(Account)
        .insert({ id: 'r1', owner: 'x', balance: 1, version: 1 });
      expect(await reporting.getRepository(Account).count()).toBe(1);
      expect(await main.getRepository(Account).count()).toBe(0);
      expect(ref.get(HealthRegistry).names()).toEqual(
        expect.arrayContaining(['database', 'database:reporting']),
      );
    } finally {
      await ref.close();
    }
  });
});

describe('TestDatabase helpers', () => {
  it('seeds fixtures by entity name and truncates them', async () => {
    await using db = await TestDatabase.create({
      url: 'mariadb://root@127.0.0.1:3306/test',
      entities: [Account],
    });
    await seed(db, {
      Account: [
        { id: 's1', owner: 'a', balance: 1, version: 1 },
        { id: 's2', owner: 'b', balance: 2, version: 1 },
      ],
    });
    expect(await db.dataSource.getRepository(Account).count()).toBe(2);
    await db.truncateAll();
    expect(await db.dataSource.getRepository(Account).count()).toBe(0);
  });
});

const typeorm = (command: string, databaseUrl: string) =>
  spawnSync(
    'node_modules/.bin/typeorm',
    [command, '-d', 'dist/apps/sample-api/src/data-source.js'],
    {
      cwd: root,
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '', DATABASE_URL: databaseUrl },
    },
  );

describe('migration CLI (npm run migration:*)', () => {
  it('shows pending, runs, shows applied, reverts (the sample API data source)', () => {
    const url = `sqlite:${join(dir, 'cli.db')}`;
    const before = typeorm('migration:show', url);
    expect(before.stdout).toContain('[ ] CreateOrders1764000000000');
    expect(typeorm('migration:run', url).status).toBe(0);
    expect(typeorm('migration:show', url).stdout).toContain('[X] 1 CreateOrders1764000000000');
    expect(typeorm('migration:revert', url).status).toBe(0); // the last one only
    const after = typeorm('migration:show', url).stdout;
    expect(after).toContain('[ ] ConcurrentAppends1765300000000'); // the newest
    expect(after).toMatch(/\[X\] \d+ MoneyAsBigint1764950000000/);
    expect(after).toMatch(/\[X\] \d+ CreateAuditLog1764600000000/);
    expect(after).toContain('[X] 1 CreateOrders1764000000000');
  });
});

interface PgPool {
  connect(
    cb: (err: Error | undefined, client: PgClient, release: (e?: Error) => void) => void,
  ): void;
}
interface PgClient {
  emit(event: 'error', error: Error): boolean;
  listenerCount(event: 'error'): number;
}

describe('PostgreSQL connection errors', () => {
  it('an error on a client just handed out (before TypeORM listens) does not crash the process', async () => {
    await using db = await TestDatabase.create({
      url: 'postgres://postgres@127.0.0.1:5432/test',
      entities: [Account],
    });
    const ref = await Test.createTestingModule({
      imports: [
        MonitoringModule.forRoot(testMonitoringOptions()),
        PersistenceModule.forRoot({ url: db.url, entities: [Account] }),
      ],
    }).compile();
    await ref.init();
    try {
      const pool = (
        ref.get<DataSource>(getDataSourceToken()).driver as unknown as { master: PgPool }
      ).master;
      // pg-pool removes its idle listener as it hands a client out; TypeORM adds its own a
      // microtask later. A backend terminated right after it authenticated emits in between
      // (the drill saw it as uncaughtException: the process shut down).
      const emitted = await new Promise<{ threw: unknown; listeners: number }>((resolve) =>
        pool.connect((err, client, release) => {
          expect(err).toBeUndefined();
          const listeners = client.listenerCount('error');
          let threw: unknown;
          try {
            client.emit('error', new Error('terminating connection due to administrator command'));
          } catch (error) {
            threw = error;
          }
          release(new Error('terminated'));
          resolve({ threw, listeners });
        }),
      );
      expect(emitted.listeners).toBeGreaterThan(0);
      expect(emitted.threw).toBeUndefined();
      expect(await ref.get<DataSource>(getDataSourceToken()).query('SELECT 1 AS one')).toEqual([
        { one: 1 },
      ]);
    } finally {
      await ref.close();
    }
  });
});
