import { createHash, createHmac, pbkdf2Sync, timingSafeEqual } from 'node:crypto';
import { EventEmitter, once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import {
  createConnection,
  createServer,
  type AddressInfo,
  type Server,
  type Socket,
} from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestingModule } from '@nestjs/testing';
import { getDataSourceToken } from '@nestjs/typeorm';
import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MonitoringModule } from '@infrastructure/monitoring';
import { DirectorySecretsProvider } from '@infrastructure/security';
import {
  bootTestingModule,
  kubeletWrite,
  LogCapture,
  testMonitoringOptions,
} from '@infrastructure/testing';
import { PersistenceModule } from '../src/persistence.module.js';

/*
 * The PostgreSQL server of this machine trusts every connection from 127.0.0.1 (pg_hba: `host
 * all all 127.0.0.1/32 trust`): it never asks for a password, so a wrong one would pass. The
 * gateway below puts password authentication in front of it: it asks the client for its password
 * (cleartext, over loopback), checks it against the role's real SCRAM verifier in pg_authid (what
 * `ALTER ROLE … PASSWORD` set), and only then forwards the connection to the server.
 */
const ROLE = `rot_test_${process.pid}`;
const ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/test';

class PasswordGateway extends EventEmitter<{ attempt: [{ password: string; ok: boolean }] }> {
  readonly attempts: Array<{ password: string; ok: boolean }> = [];
  private readonly sockets = new Map<Socket, string>();
  private server!: Server;

  constructor(private readonly admin: Client) {
    super();
  }

  async start(): Promise<number> {
    this.server = createServer((socket) => this.serve(socket));
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    return (this.server.address() as AddressInfo).port;
  }

  /** Connections authenticated with `password`, forwarded to the server and not closed yet. */
  openWith(password: string): number {
    return [...this.sockets].filter(([s, p]) => p === password && !s.destroyed).length;
  }

  async close(): Promise<void> {
    for (const s of this.sockets.keys()) s.destroy();
    await new Promise((r) => this.server.close(r));
  }

  private serve(client: Socket): void {
    let buffered = Buffer.alloc(0);
    let startup: Buffer | undefined;
    const onData = (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      if (!startup) {
        if (buffered.length < 8) return;
        const length = buffered.readInt32BE(0);
        if (buffered.length < length) return;
        const message = buffered.subarray(0, length);
        buffered = buffered.subarray(length);
        if (length === 8 && message.readInt32BE(4) >= 80877103) {
          client.write('N'); // no SSL / GSS encryption
          return;
        }
        startup = message;
        // AuthenticationCleartextPassword
        client.write(Buffer.from([0x52, 0, 0, 0, 8, 0, 0, 0, 3]));
      }
      if (buffered.length < 5 || buffered[0] !== 0x70) return;
      const length = buffered.readInt32BE(1);
      if (buffered.length < length + 1) return;
      const password = buffered.subarray(5, length).toString('utf8').replace(/\0$/, '');
      const rest = buffered.subarray(length + 1);
      client.off('data', onData);
      void this.check(password).then((ok) => {
        const attempt = { password, ok };
        this.attempts.push(attempt);
        this.emit('attempt', attempt);
        if (!ok)
          return client.end(errorResponse(`password authentication failed for user "${ROLE}"`));
        const upstream = createConnection(5432, '127.0.0.1');
        this.sockets.set(upstream, password);
        upstream.write(startup!);
        if (rest.length) upstream.write(rest);
        client.pipe(upstream).pipe(client);
        const close = () => (client.destroy(), upstream.destroy());
        client.on('close', close).on('error', close);
        upstream.on('close', close).on('error', close);
      });
    };
    client.on('data', onData);
    client.on('error', () => client.destroy());
  }

  /** SCRAM-SHA-256 check against pg_authid (RFC 5802: StoredKey = H(HMAC(SaltedPassword, "Client Key"))). */
  private async check(password: string): Promise<boolean> {
    const { rows } = await this.admin.query<{ rolpassword: string | null }>(
      'SELECT rolpassword FROM pg_authid WHERE rolname = $1',
      [ROLE],
    );
    const match = /^SCRAM-SHA-256\$(\d+):([^$]+)\$([^:]+):/.exec(rows[0]?.rolpassword ?? '');
    if (!match) return false;
    const salted = pbkdf2Sync(
      password,
      Buffer.from(match[2]!, 'base64'),
      Number(match[1]),
      32,
      'sha256',
    );
    const storedKey = createHash('sha256')
      .update(createHmac('sha256', salted).update('Client Key').digest())
      .digest();
    return timingSafeEqual(storedKey, Buffer.from(match[3]!, 'base64'));
  }
}

function errorResponse(message: string): Buffer {
  const fields = Buffer.from(`SFATAL\0VFATAL\0C28P01\0M${message}\0\0`);
  const head = Buffer.alloc(5);
  head.write('E');
  head.writeInt32BE(fields.length + 4, 1);
  return Buffer.concat([head, fields]);
}

const dir = mkdtempSync(join(tmpdir(), 'db-password-'));
const logs = new LogCapture();
let admin: Client;
let gateway: PasswordGateway;
let port: number;
let secrets: DirectorySecretsProvider;
let ref: TestingModule | undefined;

beforeAll(async () => {
  admin = new Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`DROP ROLE IF EXISTS ${ROLE}`);
  await admin.query(`CREATE ROLE ${ROLE} LOGIN PASSWORD 'pw-a'`);
  gateway = new PasswordGateway(admin);
  port = await gateway.start();
  kubeletWrite(dir, { DB_PASSWORD: 'pw-a' });
  secrets = new DirectorySecretsProvider({ directory: dir, pollIntervalMs: 0 });
});

afterAll(async () => {
  await ref?.close();
  secrets?.close();
  await gateway?.close();
  await admin?.query(`DROP ROLE IF EXISTS ${ROLE}`).catch(() => undefined);
  await admin?.end();
  rmSync(dir, { recursive: true, force: true });
});

describe('PostgreSQL password from a rotating secret (behind a password-checking gateway)', () => {
  it('the gateway refuses a wrong password (the check is real)', async () => {
    const wrong = new Client({
      connectionString: `postgres://${ROLE}:nope@127.0.0.1:${port}/test`,
    });
    await expect(wrong.connect()).rejects.toThrow('password authentication failed');
    expect(gateway.attempts.at(-1)).toEqual({ password: 'nope', ok: false });
  });

  it('new connections use the rotated password; the old pool drains after its transaction', async () => {
    ref = await bootTestingModule({
      imports: [
        MonitoringModule.forRoot(
          testMonitoringOptions({ logging: { level: 'info', destination: logs } }),
        ),
        PersistenceModule.forRoot({
          url: `postgres://${ROLE}@127.0.0.1:${port}/test`,
          password: { secrets, name: 'DB_PASSWORD' },
          pool: { max: 2 },
          connectRetry: { attempts: 1 },
          health: { enabled: false },
        }),
      ],
    });
    const ds = ref.get<DataSource>(getDataSourceToken());
    await ds.query('SELECT 1');
    expect(gateway.attempts.filter((a) => a.ok).map((a) => a.password)).toEqual(['pw-a']);

    // A transaction in flight on the old pool when the password rotates.
    const runner = ds.createQueryRunner();
    await runner.startTransaction();
    await runner.query('SELECT 1');
    expect(gateway.openWith('pw-a')).toBeGreaterThan(0);

    await admin.query(`ALTER ROLE ${ROLE} PASSWORD 'pw-b'`);
    const replaced = logs.next(
      (r) => r.msg === 'database password rotated; connection pool replaced',
    );
    kubeletWrite(dir, { DB_PASSWORD: 'pw-b' });
    await replaced;

    // New connections carry the new password and are accepted.
    const [{ who }] = (await ds.query('SELECT current_user AS who')) as Array<{ who: string }>;
    expect(who).toBe(ROLE);
    expect(gateway.attempts.filter((a) => a.ok).map((a) => a.password)).toEqual(['pw-a', 'pw-b']);
    expect(gateway.attempts.some((a) => a.password === 'pw-a' && !a.ok)).toBe(false);

    // The old pool waited for the transaction: it still works, then its connection closes.
    await runner.query('SELECT 2');
    await runner.commitTransaction();
    const drained = logs.next((r) => r.msg === 'old connection pool drained');
    await runner.release();
    await drained;
    await new Promise((r) => setImmediate(r)); // the gateway's side of the close
    expect(gateway.openWith('pw-a')).toBe(0);
    expect(gateway.openWith('pw-b')).toBeGreaterThan(0);
    const rows = (await ds.query('SELECT 3 AS n')) as Array<{ n: number }>;
    expect(rows[0]!.n).toBe(3);
  });
});
