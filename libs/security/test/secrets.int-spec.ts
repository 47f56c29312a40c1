import { Test, type TestingModule } from '@nestjs/testing';
import { mkdtempSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getLogger, MonitoringModule } from '@infrastructure/monitoring';
import { kubeletWrite, LogCapture, testMonitoringOptions } from '@infrastructure/testing';
import {
  createSecretsProvider,
  DirectorySecretsProvider,
  EnvSecretsProvider,
  Secret,
  SecretsProvider,
} from '../src/secrets/index.js';

const root = mkdtempSync(join(tmpdir(), 'secrets-int-'));
const logs = new LogCapture();
let ref: TestingModule;
/** Writes one file by write-then-rename (atomic replace). */
function atomicWrite(dir: string, name: string, value: string): void {
  const tmp = join(dir, `.${name}.tmp`);
  writeFileSync(tmp, value);
  renameSync(tmp, join(dir, name));
}

/** The next change event of `name`. */
function nextChange(provider: SecretsProvider, name: string): Promise<Secret<string> | undefined> {
  return new Promise((resolve) => {
    const off = provider.onChange(name, (secret) => {
      off();
      resolve(secret);
    });
  });
}

function freshDir(): string {
  return mkdtempSync(join(root, 'mount-'));
}

beforeAll(async () => {
  ref = await Test.createTestingModule({
    imports: [
      MonitoringModule.forRoot(
        testMonitoringOptions({
          logging: { level: 'debug', destination: logs },
        }),
      ),
    ],
  }).compile();
  await ref.init();
});
afterAll(async () => {
  await ref?.close();
  rmSync(root, { recursive: true, force: true });
});

describe('DirectorySecretsProvider', () => {
  it('reloads a secret rotated by a Kubernetes-style ..data symlink swap and emits the new value', async () => {
    const dir = freshDir();
    kubeletWrite(dir, { DB_PASSWORD: 'old-db-pass-1', JWT_KEY: 'jwt-key-1' });
    const secrets = new DirectorySecretsProvider({ directory: dir, pollIntervalMs: 0 });
    try {
      expect(secrets.get('DB_PASSWORD')!.reveal()).toBe('old-db-pass-1');
      expect(secrets.names().sort()).toEqual(['DB_PASSWORD', 'JWT_KEY']);
      const changed = nextChange(secrets, 'DB_PASSWORD');
      kubeletWrite(dir, { DB_PASSWORD: 'new-db-pass-2', JWT_KEY: 'jwt-key-1' });
      expect((await changed)!.reveal()).toBe('new-db-pass-2');
      expect(secrets.get('DB_PASSWORD')!.reveal()).toBe('new-db-pass-2');
      expect(secrets.get('JWT_KEY')!.reveal()).toBe('jwt-key-1');
    } finally {
      secrets.close();
    }
  });

  it('reloads a file replaced by write-and-rename', async () => {
    const dir = freshDir();
    atomicWrite(dir, 'API_TOKEN', 'token-a\n');
    const secrets = new DirectorySecretsProvider({ directory: dir, pollIntervalMs: 0 });
    try {
      expect(secrets.require('API_TOKEN').reveal()).toBe('token-a');
      const changed = nextChange(secrets, 'API_TOKEN');
      atomicWrite(dir, 'API_TOKEN', 'token-b\n');
      expect((await changed)!.reveal()).toBe('token-b');
      expect(secrets.require('API_TOKEN').reveal()).toBe('token-b');
    } finally {
      secrets.close();
    }
  });

  it('picks changes up by polling alone when no watch events come', async () => {
    const dir = freshDir();
    atomicWrite(dir, 'SMTP_PASSWORD', 'p1');
    const secrets = new DirectorySecretsProvider({
      directory: dir,
      watch: false,
      pollIntervalMs: 25,
    });
    try {
      const changed = nextChange(secrets, 'SMTP_PASSWORD');
      atomicWrite(dir, 'SMTP_PASSWORD', 'p2');
      expect((await changed)!.reveal()).toBe('p2');
    } finally {
      secrets.close();
    }
  });

  it('emits added and removed secrets, and a burst of rotations ends on the last value', async () => {
    const dir = freshDir();
    const secrets = new DirectorySecretsProvider({
      directory: dir,
      watch: false,
      pollIntervalMs: 0,
    });
    try {
      const added = nextChange(secrets, 'NEW_ONE');
      atomicWrite(dir, 'NEW_ONE', 'v1');
      await secrets.reload();
      expect((await added)!.reveal()).toBe('v1');
      const seen: string[] = [];
      secrets.onChange('NEW_ONE', (s) => void seen.push(s?.reveal() ?? '<removed>'));
      const burst: Array<Promise<string[]>> = [];
      for (const v of ['v2', 'v3', 'v4']) {
        atomicWrite(dir, 'NEW_ONE', v);
        burst.push(secrets.reload());
      }
      await Promise.all(burst);
      expect(seen.at(-1)).toBe('v4');
      expect(secrets.get('NEW_ONE')!.reveal()).toBe('v4');
      unlinkSync(join(dir, 'NEW_ONE'));
      const removed = nextChange(secrets, 'NEW_ONE');
      expect(await secrets.reload()).toEqual(['NEW_ONE']);
      expect(await removed).toBeUndefined();
      expect(secrets.get('NEW_ONE')).toBeUndefined();
    } finally {
      secrets.close();
    }
  });

  it('fails at construction naming a missing directory', () => {
    expect(() => new DirectorySecretsProvider({ directory: join(root, 'nope') })).toThrow(
      /secrets directory .*nope cannot be read \(ENOENT\)/,
    );
  });
});

describe('EnvSecretsProvider', () => {
  it('serves and emits a NAME_FILE secret rotated by a ..data swap; watchFiles: false reads once', async () => {
    const dir = freshDir();
    kubeletWrite(dir, { password: 'file-pass-1\n' });
    const env = { DB_PASSWORD_FILE: join(dir, 'password') };
    const secrets = new EnvSecretsProvider({ env, pollIntervalMs: 0 });
    const frozen = new EnvSecretsProvider({ env, watchFiles: false });
    try {
      expect(secrets.require('DB_PASSWORD').reveal()).toBe('file-pass-1');
      expect(frozen.require('DB_PASSWORD').reveal()).toBe('file-pass-1');
      const changed = nextChange(secrets, 'DB_PASSWORD');
      kubeletWrite(dir, { password: 'file-pass-2\n' });
      expect((await changed)!.reveal()).toBe('file-pass-2');
      expect(secrets.require('DB_PASSWORD').reveal()).toBe('file-pass-2');
      expect(await frozen.reload()).toEqual([]);
      expect(frozen.require('DB_PASSWORD').reveal()).toBe('file-pass-1');
    } finally {
      secrets.close();
      frozen.close();
    }
  });
});

describe('createSecretsProvider', () => {
  it('watches the named files first', async () => {
    const dir = freshDir();
    kubeletWrite(dir, { 'key.pem': 'pem-1' });
    const secrets = createSecretsProvider({
      files: { JWT_PRIVATE_KEY: join(dir, 'key.pem') },
      env: { JWT_PRIVATE_KEY: 'from-env' },
    });
    try {
      expect(secrets.require('JWT_PRIVATE_KEY').reveal()).toBe('pem-1');
      const changed = nextChange(secrets, 'JWT_PRIVATE_KEY');
      kubeletWrite(dir, { 'key.pem': 'pem-2' });
      expect((await changed)!.reveal()).toBe('pem-2');
    } finally {
      (secrets as unknown as { close(): void }).close();
    }
  });

  it('forwards rotations of the mounted directory and falls back to the environment', async () => {
    const dir = freshDir();
    kubeletWrite(dir, { SIGNING_KEY: 'sign-1' });
    const secrets = createSecretsProvider({
      directory: { directory: dir, pollIntervalMs: 0 },
      env: { SIGNING_KEY: 'env-sign', OTHER: 'env-other' },
    });
    try {
      expect(secrets.get('SIGNING_KEY')!.reveal()).toBe('sign-1');
      expect(secrets.get('OTHER')!.reveal()).toBe('env-other');
      const changed = nextChange(secrets, 'SIGNING_KEY');
      kubeletWrite(dir, { SIGNING_KEY: 'sign-2' });
      expect((await changed)!.reveal()).toBe('sign-2');
      expect(secrets.get('SIGNING_KEY')!.reveal()).toBe('sign-2');
    } finally {
      (secrets as unknown as { close(): void }).close();
    }
  });
});

describe('secret values in logs', () => {
  it('never appear in captured log lines: logged secrets, reload lines, failing listeners', async () => {
    const dir = freshDir();
    kubeletWrite(dir, { DB_PASSWORD: 'leak-canary-one' });
    const secrets = new DirectorySecretsProvider({ directory: dir, pollIntervalMs: 0 });
    try {
      logs.clear();
      const password = secrets.require('DB_PASSWORD');
      const log = getLogger('App');
      log.info(
        { password, conn: { pass: password, plain: password } },
        `connecting with ${password}`,
      );
      log.info('as printf %s %o', password, password);
      log.info({ wrapped: [password] }, 'in an array');
      secrets.onChange('DB_PASSWORD', (s) => {
        throw new Error(`bad password ${s!.reveal()}`);
      });
      secrets.onChange('DB_PASSWORD', async (s) => {
        throw new Error(`async bad ${s!.reveal()}`);
      });
      const changed = nextChange(secrets, 'DB_PASSWORD');
      kubeletWrite(dir, { DB_PASSWORD: 'leak-canary-two' });
      await changed;
      await new Promise((r) => setImmediate(r)); // the async listener's rejection is logged
      const text = logs.text;
      expect(text).not.toContain('leak-canary');
      const records = logs.records;
      expect(records).toContainEqual(
        // `password` is caught by the logger's key redaction; under an innocent key, `***`.
        expect.objectContaining({
          msg: 'connecting with ***',
          password: '[REDACTED]',
          conn: { pass: '[REDACTED]', plain: '***' },
        }),
      );
      expect(records).toContainEqual(
        expect.objectContaining({ msg: 'secret reloaded', name: 'DB_PASSWORD', change: 'updated' }),
      );
      expect(
        records.filter((r) => r.msg === 'secret change listener failed').map((r) => r.reason),
      ).toEqual(['bad password ***', 'async bad ***']);
    } finally {
      secrets.close();
    }
  });
});
