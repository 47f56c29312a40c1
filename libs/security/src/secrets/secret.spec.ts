import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { format, inspect } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { CompositeSecretsProvider, createSecretsProvider } from './composite-secrets.provider.js';
import { EnvSecretsProvider } from './env-secrets.provider.js';
import { SecretNotFoundError, SecretsSourceError } from './errors.js';
import { Secret } from './secret.js';

const dir = mkdtempSync(join(tmpdir(), 'secret-spec-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('Secret', () => {
  const s = Secret.of('hunter2');

  it('prints *** everywhere and reveals the value on request', () => {
    expect(String(s)).toBe('***');
    expect(`${s}`).toBe('***');
    expect(`pw=${s}`).toBe('pw=***');
    expect('' + (s as unknown as string)).toBe('***');
    expect(JSON.stringify({ s })).toBe('{"s":"***"}');
    expect(inspect(s)).toBe('***');
    expect(inspect({ nested: { s } }, { depth: 5 })).not.toContain('hunter2');
    expect(format('%s %o %O %j', s, s, s, s)).not.toContain('hunter2');
    expect(Object.keys(s)).toEqual([]);
    expect({ ...s }).toEqual({});
    expect(s.reveal()).toBe('hunter2');
    expect(Secret.isSecret(s)).toBe(true);
  });

  it('maps and compares in constant time', () => {
    expect(s.map((v) => v.length).reveal()).toBe(7);
    expect(s.equals('hunter2')).toBe(true);
    expect(s.equals(Secret.of('hunter2'))).toBe(true);
    expect(s.equals('hunter')).toBe(false);
    expect(Secret.of(1).equals('1')).toBe(false);
  });
});

describe('EnvSecretsProvider', () => {
  it('reads NAME_FILE before NAME, trims one trailing newline, and caches', () => {
    const file = join(dir, 'db');
    writeFileSync(file, 'from-file\n');
    const env: Record<string, string> = {
      DB_PASSWORD: 'from-env',
      DB_PASSWORD_FILE: file,
      API_KEY: 'k',
    };
    const p = new EnvSecretsProvider({ env });
    expect(p.get('DB_PASSWORD')!.reveal()).toBe('from-file');
    expect(p.require('API_KEY').reveal()).toBe('k');
    expect(p.get('MISSING')).toBeUndefined();
    env.API_KEY = 'changed';
    expect(p.get('API_KEY')!.reveal()).toBe('k');
  });

  it('names every place it looked when a required secret is missing', () => {
    const p = new EnvSecretsProvider({ env: {} });
    expect(() => p.require('JWT_KEY')).toThrow(SecretNotFoundError);
    expect(() => p.require('JWT_KEY')).toThrow(
      'secret JWT_KEY not found (looked in env JWT_KEY_FILE, env JWT_KEY)',
    );
  });

  it('names the variable and path of an unreadable NAME_FILE', () => {
    const p = new EnvSecretsProvider({ env: { X_FILE: join(dir, 'nope') } });
    expect(() => p.get('X')).toThrow(SecretsSourceError);
    expect(() => p.get('X')).toThrow(/X_FILE: cannot read .*nope \(ENOENT\)/);
  });
});

describe('createSecretsProvider', () => {
  it('looks in the directory first, then the environment', () => {
    const secretsDir = mkdtempSync(join(dir, 'mounted-'));
    writeFileSync(join(secretsDir, 'A'), 'dir-a');
    const p = createSecretsProvider({
      directory: { directory: secretsDir, watch: false, pollIntervalMs: 0 },
      env: { A: 'env-a', B: 'env-b' },
    }) as CompositeSecretsProvider;
    expect(p).toBeInstanceOf(CompositeSecretsProvider);
    expect(p.get('A')!.reveal()).toBe('dir-a');
    expect(p.get('B')!.reveal()).toBe('env-b');
    expect(p.describe('C')).toEqual([join(secretsDir, 'C'), 'env C_FILE', 'env C']);
    p.close();
    expect(createSecretsProvider({ env: {} })).toBeInstanceOf(EnvSecretsProvider);
  });
});
