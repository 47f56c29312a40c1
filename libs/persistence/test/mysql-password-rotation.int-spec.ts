import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestingModule } from '@nestjs/testing';
import { getDataSourceToken } from '@nestjs/typeorm';
import { createConnection, type Connection } from 'mysql2/promise';
import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { MonitoringModule } from '@infrastructure/monitoring';
import { DirectorySecretsProvider } from '@infrastructure/security';
import {
  bootTestingModule,
  kubeletWrite,
  LogCapture,
  testMonitoringOptions,
} from '@infrastructure/testing';
import { PersistenceModule } from '../src/persistence.module.js';

// MariaDB checks the password of a user that has one (root here has none): a temporary user.
const USER = `rot_${process.pid}`;
const dir = mkdtempSync(join(tmpdir(), 'mysql-password-'));
const logs = new LogCapture();
let admin: Connection;
let secrets: DirectorySecretsProvider;
let ref: TestingModule | undefined;

const connectAs = (password: string) =>
  createConnection({ host: '127.0.0.1', port: 3306, user: USER, password, database: 'test' });

beforeAll(async () => {
  admin = await createConnection({ host: '127.0.0.1', port: 3306, user: 'root', database: 'test' });
  await admin.query(`DROP USER IF EXISTS '${USER}'@'%'`);
  await admin.query(`CREATE USER '${USER}'@'%' IDENTIFIED BY 'pw-a'`);
  await admin.query(`GRANT ALL ON test.* TO '${USER}'@'%'`);
  kubeletWrite(dir, { DB_PASSWORD: 'pw-a' });
  secrets = new DirectorySecretsProvider({ directory: dir, pollIntervalMs: 0 });
});

afterAll(async () => {
  await ref?.close();
  secrets?.close();
  await admin?.query(`DROP USER IF EXISTS '${USER}'@'%'`).catch(() => undefined);
  await admin?.end();
  rmSync(dir, { recursive: true, force: true });
});

describe('MariaDB password from a rotating secret', () => {
  it('MariaDB refuses a wrong password for the user (the check is real)', async () => {
    await expect(connectAs('nope')).rejects.toThrow(/Access denied/);
    const ok = await connectAs('pw-a');
    await ok.end();
  });

  it('new connections use the rotated password; the transaction on the old pool commits, then its connections close', async () => {
    ref = await bootTestingModule({
      imports: [
        MonitoringModule.forRoot(
          testMonitoringOptions({ logging: { level: 'info', destination: logs } }),
        ),
        PersistenceModule.forRoot({
          url: `mariadb://${USER}@127.0.0.1:3306/test`,
          password: { secrets, name: 'DB_PASSWORD' },
          pool: { max: 2 },
          connectRetry: { attempts: 1 },
          health: { enabled: false },
        }),
      ],
    });
    const ds = ref.get<DataSource>(getDataSourceToken());
    const [{ who }] = (await ds.query('SELECT CURRENT_USER() AS who')) as Array<{ who: string }>;
    expect(who).toBe(`${USER}@%`);

    // A transaction in flight on the old pool when the password rotates.
    const runner = ds.createQueryRunner();
    await runner.startTransaction();
    const [{ id: oldId }] = (await runner.query('SELECT CONNECTION_ID() AS id')) as Array<{
      id: number;
    }>;

    await admin.query(`ALTER USER '${USER}'@'%' IDENTIFIED BY 'pw-b'`);
    await expect(connectAs('pw-a')).rejects.toThrow(/Access denied/);
    const replaced = logs.next(
      (r) => r.msg === 'database password rotated; connection pool replaced',
    );
    kubeletWrite(dir, { DB_PASSWORD: 'pw-b' });
    await replaced;

    // New queries run on the new pool: new connections, authenticated with pw-b.
    const [{ id: newId }] = (await ds.query('SELECT CONNECTION_ID() AS id')) as Array<{
      id: number;
    }>;
    expect(newId).not.toBe(oldId);

    // The old pool waited for the transaction: it still works, then its connections close.
    await runner.query('SELECT 2');
    await runner.commitTransaction();
    const drained = logs.next((r) => r.msg === 'old connection pool drained');
    await runner.release();
    await drained;
    const open = async (id: number) => {
      const [rows] = await admin.query(
        'SELECT ID FROM information_schema.PROCESSLIST WHERE ID = ?',
        [id],
      );
      return (rows as unknown[]).length;
    };
    // The server notices the closed socket on its own schedule.
    await vi.waitFor(async () => expect(await open(oldId)).toBe(0), { timeout: 5000 });
    expect(await open(newId)).toBe(1);
    const rows = (await ds.query('SELECT 3 AS n')) as Array<{ n: number | string }>;
    expect(Number(rows[0]!.n)).toBe(3);
  });
});
