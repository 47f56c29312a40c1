import { Test, type TestingModule } from '@nestjs/testing';
import { getDataSourceToken } from '@nestjs/typeorm';
import { Registry } from 'prom-client';
import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MetricsService, MonitoringModule, RequestContext } from '@infrastructure/monitoring';
import {
  connectDataSource,
  PersistenceModule,
  resolvePersistenceOptions,
  UnitOfWork,
} from '@infrastructure/persistence';
import { LogCapture, TestDatabase, testMonitoringOptions } from '@infrastructure/testing';
import {
  AUDIT_LOG_TABLE,
  AuditActions,
  AuditLogger,
  auditMigrations,
  AuditWriteError,
} from '../src/audit/index.js';
import { Secret } from '../src/secrets/index.js';

const servers = [
  ['SQLite', 'sqlite:'],
  ['PostgreSQL', 'postgres://postgres@127.0.0.1:5432/test'],
  ['MariaDB', 'mysql://root@127.0.0.1:3306/test'],
] as const;

const logs = new LogCapture();
const records = () => logs.records;

async function app(db: TestDatabase): Promise<TestingModule> {
  const ref = await Test.createTestingModule({
    imports: [
      MonitoringModule.forRoot(
        testMonitoringOptions({
          logging: { level: 'info', destination: logs },
        }),
      ),
      PersistenceModule.forRoot(db.moduleOptions()),
    ],
  }).compile();
  await ref.init();
  return ref;
}

describe.each(servers)('AuditLogger on %s', (_label, server) => {
  let db: TestDatabase;
  let ref: TestingModule;
  let audit: AuditLogger;
  let dataSource: DataSource;
  let metrics: MetricsService;

  const p = (i: number) => (dataSource.options.type === 'postgres' ? `$${i}` : '?');

  beforeAll(async () => {
    db = await TestDatabase.create({ url: server, migrations: auditMigrations });
    ref = await app(db);
    dataSource = ref.get<DataSource>(getDataSourceToken());
    metrics = new MetricsService(new Registry());
    audit = new AuditLogger({
      dataSource,
      unitOfWork: ref.get(UnitOfWork),
      metrics,
      createTables: false,
    });
  }, 60_000);
  afterAll(async () => {
    await ref?.close();
    await db?.destroy();
  });

  it('writes a row and one log line with the correlation id, secrets redacted', async () => {
    logs.clear();
    const result = await ref
      .get(RequestContext)
      .run({ correlationId: 'corr-audit-1', userId: 'user-7' }, () =>
        audit.record({
          action: AuditActions.login,
          outcome: 'failure',
          target: 'realm:main',
          metadata: {
            ip: '10.0.0.1',
            password: 'hunter2-canary',
            key: Secret.of('canary-2'),
            n: 1,
          },
        }),
      );
    expect(result).toMatchObject({ stored: true, id: expect.any(Number) });
    expect(result.hash).toMatch(/^[0-9a-f]{64}$/);
    const [row] = await audit.read({ afterId: result.id! - 1, limit: 1 });
    expect(row).toMatchObject({
      id: result.id,
      action: 'auth.login',
      outcome: 'failure',
      actor: 'user-7',
      target: 'realm:main',
      correlationId: 'corr-audit-1',
      metadata: { ip: '10.0.0.1', password: '[REDACTED]', key: '***', n: 1 },
      hash: result.hash,
    });
    expect(row!.occurredAt).toBeInstanceOf(Date);
    const logged = records().filter((r) => r.context === 'Audit');
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({
      level: 'info',
      msg: 'audit auth.login failure',
      correlationId: 'corr-audit-1',
      audit: {
        id: result.id,
        action: 'auth.login',
        outcome: 'failure',
        actor: 'user-7',
        hash: result.hash,
      },
    });
    expect(logs.text).not.toMatch(/canary/);
  });

  it('chains rows: each prev_hash is the previous hash, and the chain verifies', async () => {
    const ids: number[] = [];
    for (const outcome of ['success', 'denied', 'failure'] as const) {
      ids.push((await audit.record({ action: 'orders.delete', outcome, actor: 'user:1' })).id!);
    }
    expect(ids[1]).toBe(ids[0]! + 1);
    const rows = await audit.read({ afterId: ids[0]! - 1, limit: 3 });
    expect(rows[1]!.prevHash).toBe(rows[0]!.hash);
    expect(rows[2]!.prevHash).toBe(rows[1]!.hash);
    expect(await audit.verifyChain({ batchSize: 2 })).toEqual({ valid: true, checked: ids[2] });
  });

  it('does not fork the chain under concurrent writers', async () => {
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        audit.record({ action: 'load.test', outcome: 'success', target: `item:${i}` }),
      ),
    );
    const ids = results.map((r) => r.id!).sort((a, b) => a - b);
    expect(new Set(ids).size).toBe(30);
    expect(ids.at(-1)! - ids[0]!).toBe(29);
    expect((await audit.verifyChain()).valid).toBe(true);
  });

  it('writes inside a unit of work without waiting for it (and verifies after)', async () => {
    const uow = ref.get(UnitOfWork);
    const inside = await uow.run(async () => {
      await dataSource.query('SELECT 1');
      return audit.record({ action: 'orders.approve', outcome: 'success' });
    });
    expect(inside.stored).toBe(true);
    expect((await audit.verifyChain()).valid).toBe(true);
  });

  it('detects an UPDATE-d row at that row', async () => {
    const { id } = await audit.record({
      action: 'auth.token.issued',
      outcome: 'success',
      actor: 'client:a',
    });
    await audit.record({ action: 'auth.token.issued', outcome: 'success', actor: 'client:b' });
    await dataSource.query(`UPDATE ${AUDIT_LOG_TABLE} SET actor = ${p(1)} WHERE id = ${p(2)}`, [
      'client:evil',
      id,
    ]);
    expect(await audit.verifyChain()).toMatchObject({
      valid: false,
      firstBrokenId: id,
      checked: id! - 1,
      reason: "hash does not match the row's content",
    });
    await dataSource.query(`UPDATE ${AUDIT_LOG_TABLE} SET actor = ${p(1)} WHERE id = ${p(2)}`, [
      'client:a',
      id,
    ]);
    expect((await audit.verifyChain()).valid).toBe(true);
  });

  it('detects a DELETE-d row at the next row, and a deleted last row at the head', async () => {
    const { id } = await audit.record({ action: 'auth.permission.denied', outcome: 'denied' });
    const last = await audit.record({ action: 'auth.permission.denied', outcome: 'denied' });
    const backup = (await dataSource.query(
      `SELECT * FROM ${AUDIT_LOG_TABLE} WHERE id >= ${p(1)} ORDER BY id`,
      [id],
    )) as Array<Record<string, unknown>>;
    await dataSource.query(`DELETE FROM ${AUDIT_LOG_TABLE} WHERE id = ${p(1)}`, [id]);
    expect(await audit.verifyChain()).toMatchObject({
      valid: false,
      firstBrokenId: last.id,
      reason: `row ${id} is missing`,
    });
    await dataSource.query(`DELETE FROM ${AUDIT_LOG_TABLE} WHERE id = ${p(1)}`, [last.id]);
    expect(await audit.verifyChain()).toMatchObject({
      valid: false,
      firstBrokenId: id,
      reason: `rows ${id} to ${last.id} (the last) are missing`,
    });
    for (const row of backup) {
      const cols = Object.keys(row);
      await dataSource.query(
        `INSERT INTO ${AUDIT_LOG_TABLE} (${cols.join(', ')}) VALUES (${cols.map((_, i) => p(i + 1)).join(', ')})`,
        cols.map((c) => row[c]),
      );
    }
    expect((await audit.verifyChain()).valid).toBe(true);
  });

  it('counts audit_records_total by action and outcome', async () => {
    await audit.record({ action: 'metrics.check', outcome: 'denied' });
    await audit.record({ action: 'metrics.check', outcome: 'denied' });
    const { body } = await metrics.render();
    expect(body).toContain('audit_records_total{action="metrics.check",outcome="denied"} 2');
  });
});

describe('AuditLogger across two instances', () => {
  it.each(servers.slice(1))(
    'keeps one chain when two instances (pools) write at once on %s',
    async (_label, server) => {
      const db = await TestDatabase.create({ url: server, migrations: auditMigrations });
      const other = await connectDataSource(
        resolvePersistenceOptions({ url: db.url, pool: { max: 4 }, connectRetry: { attempts: 1 } }),
      );
      try {
        const a = new AuditLogger({ dataSource: db.dataSource, createTables: false });
        const b = new AuditLogger({ dataSource: other, createTables: false });
        const writes = Array.from({ length: 40 }, (_, i) =>
          (i % 2 ? a : b).record({ action: 'multi.write', outcome: 'success', target: `n:${i}` }),
        );
        const results = await Promise.all(writes);
        expect(results.every((r) => r.stored)).toBe(true);
        expect(await a.verifyChain()).toEqual({ valid: true, checked: 40 });
      } finally {
        await other.destroy();
        await db.destroy();
      }
    },
    60_000,
  );
});

describe('AuditLogger when the database is down', () => {
  let db: TestDatabase;
  let down: DataSource;
  let ref: TestingModule;
  const metrics = new MetricsService(new Registry());

  beforeAll(async () => {
    db = await TestDatabase.create({ url: servers[1][1], migrations: auditMigrations });
    down = await connectDataSource(
      resolvePersistenceOptions({ url: db.url, connectRetry: { attempts: 1 } }),
    );
    await down.destroy(); // the pool is gone: every query fails
    ref = await Test.createTestingModule({
      imports: [
        MonitoringModule.forRoot(
          testMonitoringOptions({
            logging: { level: 'info', destination: logs },
          }),
        ),
      ],
    }).compile();
    await ref.init();
  }, 60_000);
  afterAll(async () => {
    await ref?.close();
    await db?.destroy();
  });

  it('by default logs the record at error, counts the failure, and lets the caller go on', async () => {
    logs.clear();
    const audit = new AuditLogger({ dataSource: down, metrics, createTables: false });
    const result = await audit.record({
      action: 'auth.login',
      outcome: 'success',
      actor: 'user:9',
    });
    expect(result).toEqual({ stored: false });
    expect(records()).toContainEqual(
      expect.objectContaining({
        level: 'error',
        msg: 'audit record not stored: auth.login success',
        audit: expect.objectContaining({ action: 'auth.login', actor: 'user:9' }),
      }),
    );
    expect((await metrics.render()).body).toContain('audit_write_failures_total 1');
  });

  it('with strict: true refuses with AuditWriteError (503)', async () => {
    const audit = new AuditLogger({ dataSource: down, strict: true, createTables: false });
    const error = await audit
      .record({ action: 'auth.login', outcome: 'success' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuditWriteError);
    expect(error).toMatchObject({ httpStatus: 503 });
  });

  it('refuses malformed records whatever the mode', async () => {
    const audit = new AuditLogger({});
    await expect(audit.record({ action: '', outcome: 'success' })).rejects.toThrow(/audit action/);
    await expect(audit.record({ action: 'x', outcome: 'maybe' as 'success' })).rejects.toThrow(
      /audit outcome/,
    );
    expect(await audit.record({ action: 'log.only', outcome: 'success' })).toEqual({
      stored: false,
    });
  });
});
