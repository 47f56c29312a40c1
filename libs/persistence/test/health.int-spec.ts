import { once, type EventEmitter } from 'node:events';
import { HttpAdapterHost } from '@nestjs/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataSource } from 'typeorm';
import { MonitoringModule, ProblemDetailsFilter } from '@infrastructure/monitoring';
import { PersistenceModule, runStatementBatch } from '@infrastructure/persistence';
import { createTestApp, TestDatabase, type TestApp } from '@infrastructure/testing';
import { Account } from './fixtures.js';

describe('persistence readiness and recovery on PostgreSQL', () => {
  let db: TestDatabase;
  let t: TestApp;
  const lines: string[] = [];

  beforeAll(async () => {
    db = await TestDatabase.create({
      url: 'postgres://postgres@127.0.0.1:5432/test',
      entities: [Account],
    });
    t = await createTestApp(
      {
        imports: [
          MonitoringModule.forRoot({
            environment: 'test',
            logging: {
              level: 'warn',
              pretty: false,
              destination: { write: (line: string) => void lines.push(line) },
            },
            shutdown: { handleSignals: false, exitProcess: false },
          }),
          PersistenceModule.forRoot(
            db.moduleOptions({ health: { timeoutMs: 500 }, slowQueryMs: 20 }),
          ),
        ],
      },
      {
        configure: (app) =>
          app.useGlobalFilters(new ProblemDetailsFilter(app.get(HttpAdapterHost))),
      },
    );
  });
  afterAll(async () => {
    await t?.close();
    await db?.destroy();
  });

  it('reports the database on /health/ready', async () => {
    const res = await t.request.get('/health/ready').expect(200);
    expect(res.body.details.database).toMatchObject({ status: 'up', type: 'postgres' });
  });

  it('recovers without a restart after its connections are killed (pg_terminate_backend)', async () => {
    const ds = t.app.get(DataSource);
    await ds.query('SELECT 1');
    const pool = (ds.driver as unknown as { master: EventEmitter }).master;
    const noticed = once(pool, 'error'); // the pool sees its idle connection die and drops it
    const killed = await db.dataSource.query(
      `SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()`,
      [process.env.SERVICE_NAME ?? 'nest-app'],
    );
    expect(killed.length).toBeGreaterThan(0);
    await noticed;
    // The pool dropped the dead connection and opens a new one: queries succeed again.
    await expect(ds.query('SELECT 1 AS one')).resolves.toEqual([{ one: 1 }]);
    await t.request.get('/health/ready').expect(200);
  });

  it('exports query durations by operation and pool gauges', async () => {
    await t.app.get(DataSource).query('SELECT 1');
    const text = (await t.request.get('/metrics').expect(200)).text;
    expect(text).toMatch(
      /db_query_duration_seconds_count\{connection="default",operation="select",outcome="ok"\} \d+/,
    );
    expect(text).toMatch(/db_pool_connections\{connection="default"\} [1-9]/);
    expect(text).toMatch(/db_pool_connections_in_use\{connection="default"\} \d+/);
    expect(text).toMatch(/db_pool_waiting\{connection="default"\} 0/);
  });

  it('runs a statement batch in one round trip, in the transaction, with escaped literals, counted as `batch`', async () => {
    const ds = t.app.get(DataSource);
    const tricky = `it's \\ a "test"; DROP TABLE accounts; --`;
    const rows = await ds.transaction((m) =>
      runStatementBatch(
        m,
        (literal) =>
          `SELECT ${literal(tricky)} AS v; SELECT pg_current_xact_id()::text AS a;
           SELECT pg_current_xact_id()::text AS b, txid_current_if_assigned()::text AS c`,
      ),
    );
    expect(rows[0]).toEqual([{ v: tricky }]);
    const [a] = rows[1] as Array<{ a: string }>;
    expect(rows[2]).toEqual([{ b: a!.a, c: a!.a }]); // one transaction across the batch
    await expect(runStatementBatch(ds.manager, () => 'SELECT 1 AS one')).resolves.toEqual([
      [{ one: 1 }],
    ]);
    await expect(runStatementBatch(ds.manager, () => 'SELECT nope FROM missing')).rejects.toThrow(
      /missing/,
    );
    const text = (await t.request.get('/metrics').expect(200)).text;
    expect(text).toMatch(
      /db_query_duration_seconds_count\{connection="default",operation="batch",outcome="ok"\} [2-9]/,
    );
    expect(text).toMatch(
      /db_query_duration_seconds_count\{connection="default",operation="batch",outcome="error"\} 1/,
    );
  });

  it('logs slow queries with their SQL but never their parameter values', async () => {
    await t.app
      .get(DataSource)
      .query('SELECT pg_sleep(0.05), $1::text AS card', ['4111-1111-secret']);
    const slow = lines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((r) => r.msg?.toString().startsWith('Slow query'));
    expect(slow).toMatchObject({
      context: 'SlowQuery',
      sql: 'SELECT pg_sleep(0.05), $1::text AS card',
      parameterCount: 1,
    });
    expect(lines.join('')).not.toContain('4111-1111-secret');
  });
});

describe('query instrumentation on SQLite (one query runner, reused)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({
      imports: [
        MonitoringModule.forRoot({
          environment: 'test',
          logging: { level: 'warn', pretty: false },
          shutdown: { handleSignals: false, exitProcess: false },
        }),
        PersistenceModule.forRoot({ url: 'sqlite::memory:', entities: [Account] }),
      ],
    });
  });
  afterAll(() => t?.close());

  const selects = async (): Promise<number> => {
    const text = (await t.request.get('/metrics').expect(200)).text;
    const m =
      /db_query_duration_seconds_count\{connection="default",operation="select",outcome="ok"\} (\d+)/.exec(
        text,
      );
    return Number(m?.[1] ?? 0);
  };

  it('counts each query once, however often the runner was handed out', async () => {
    const ds = t.app.get(DataSource);
    for (let i = 0; i < 3; i++) await ds.createQueryRunner().release();
    const before = await selects();
    await ds.query('SELECT 1');
    expect((await selects()) - before).toBe(1);
  });

  it('still answers after 20,000 query runners (the wrapper does not nest)', async () => {
    const ds = t.app.get(DataSource);
    for (let i = 0; i < 20_000; i++) ds.createQueryRunner();
    await expect(ds.query('SELECT 1 AS one')).resolves.toEqual([{ one: 1 }]);
  });
});
