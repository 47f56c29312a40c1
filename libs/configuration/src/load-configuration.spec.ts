import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cfg, defineConfig } from './config-definition.js';
import { encryptValue } from './encryption.js';
import { ConfigValidationError } from './errors.js';
import { loadConfiguration } from './load-configuration.js';

const KEY = Buffer.alloc(32, 7);
const KEY_B64 = KEY.toString('base64');

const http = defineConfig('http', {
  port: { env: 'PORT', ...cfg.port(3000) },
  host: { env: 'HOST', ...cfg.string({ default: '0.0.0.0' }) },
  adapter: { env: 'HTTP_ADAPTER', ...cfg.oneOf(['express', 'fastify'] as const, 'express') },
});
const db = defineConfig('database', {
  url: {
    env: 'DATABASE_URL',
    ...cfg.url({
      schemes: ['sqlite', 'postgres', 'postgresql', 'mysql', 'mariadb'],
      default: 'sqlite:./data/sample.db',
    }),
  },
  password: { env: 'DB_PASSWORD', ...cfg.secret() },
});

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cfg-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function load(env: Record<string, string>, defs = [http, db] as const) {
  return loadConfiguration(defs, { env, envDir: dir });
}

function errorOf(fn: () => unknown): ConfigValidationError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigValidationError) return e;
    throw e;
  }
  throw new Error('expected a ConfigValidationError');
}

function problemsOf(fn: () => unknown): string[] {
  return errorOf(fn).problems.map((p) => `${p.env}: ${p.message}`);
}

describe('precedence', () => {
  it('uses defaults when no source sets a value', () => {
    const c = load({});
    expect(c.values.http).toEqual({ port: 3000, host: '0.0.0.0', adapter: 'express' });
    expect(c.values.database.url).toBe('sqlite:./data/sample.db');
    expect(c.values.database.password).toBeUndefined();
  });

  it('applies defaults < .env < .env.<NODE_ENV> < process env < _FILE', () => {
    writeFileSync(
      join(dir, '.env'),
      'PORT=4000\nHOST=127.0.0.1\nHTTP_ADAPTER=fastify\nDB_PASSWORD=from-dotenv\n',
    );
    writeFileSync(
      join(dir, '.env.staging'),
      'PORT=5000\nHOST=10.0.0.1\nDB_PASSWORD=from-staging\n',
    );
    const secret = join(dir, 'db_password');
    writeFileSync(secret, 'from-file\n');
    const c = load({
      NODE_ENV: 'staging',
      PORT: '6000',
      DB_PASSWORD: 'from-env',
      DB_PASSWORD_FILE: secret,
    });
    expect(c.values.http.adapter).toBe('fastify'); // .env only
    expect(c.values.http.host).toBe('10.0.0.1'); // .env.staging over .env
    expect(c.values.http.port).toBe(6000); // process env over files
    expect(c.values.database.password).toBe('from-file'); // _FILE over everything, newline trimmed
    expect(c.filesRead).toEqual(['.env', '.env.staging']);
    const sources = Object.fromEntries(c.describe().map((e) => [e.key, e.source.kind]));
    expect(sources).toMatchObject({
      'http.port': 'env',
      'http.host': 'env-file',
      'database.password': 'secret-file',
      'database.url': 'default',
    });
  });

  it('takes NODE_ENV from .env when the process does not set it', () => {
    writeFileSync(join(dir, '.env'), 'NODE_ENV=production\n');
    writeFileSync(join(dir, '.env.production'), 'PORT=8080\n');
    expect(load({}).values.http.port).toBe(8080);
  });

  it('skips env files when envFiles is false', () => {
    writeFileSync(join(dir, '.env'), 'PORT=4000\n');
    expect(
      loadConfiguration([http], { env: {}, envDir: dir, envFiles: false }).values.http.port,
    ).toBe(3000);
  });

  it('treats an empty value as unset', () => {
    expect(load({ PORT: '' }).values.http.port).toBe(3000);
  });
});

describe('_FILE secrets', () => {
  it('marks values read from a file as secret', () => {
    const f = join(dir, 'p');
    writeFileSync(f, 'hunter2');
    const c = load({ HOST_FILE: f });
    expect(c.values.http.host).toBe('hunter2');
    expect(c.toSafeJSON().http!.host).toBe('***');
  });

  it('reports an unreadable file naming the _FILE variable', () => {
    expect(problemsOf(() => load({ DB_PASSWORD_FILE: join(dir, 'missing') }))).toEqual([
      expect.stringMatching(/^DB_PASSWORD_FILE: cannot read ".*missing" \(ENOENT\)$/),
    ]);
  });
});

describe('encrypted values', () => {
  it('decrypts enc:v1: values with CONFIG_ENCRYPTION_KEY and masks them', () => {
    const c = load({
      CONFIG_ENCRYPTION_KEY: KEY_B64,
      DB_PASSWORD: encryptValue('s3cret', KEY),
      PORT: encryptValue('7000', KEY),
    });
    expect(c.values.database.password).toBe('s3cret');
    expect(c.values.http.port).toBe(7000);
    expect(c.toSafeJSON().http!.port).toBe('***');
    expect(c.describe().find((e) => e.key === 'http.port')?.encrypted).toBe(true);
  });

  it('reads the key from CONFIG_ENCRYPTION_KEY_FILE', () => {
    const f = join(dir, 'key');
    writeFileSync(f, `${KEY.toString('hex')}\n`);
    expect(
      load({ CONFIG_ENCRYPTION_KEY_FILE: f, DB_PASSWORD: encryptValue('x', KEY) }).values.database
        .password,
    ).toBe('x');
  });

  it('fails when the key is missing', () => {
    expect(problemsOf(() => load({ DB_PASSWORD: encryptValue('x', KEY) }))).toEqual([
      'DB_PASSWORD: value is encrypted (enc:v1:) but CONFIG_ENCRYPTION_KEY (or CONFIG_ENCRYPTION_KEY_FILE) is not set',
    ]);
  });

  it('fails on a wrong key or a tampered value without showing the value', () => {
    const other = Buffer.alloc(32, 9).toString('base64');
    const enc = encryptValue('topsecret', KEY);
    const tampered = enc.slice(0, -6) + (enc.at(-6) === 'A' ? 'B' : 'A') + enc.slice(-5);
    for (const [key, value] of [
      [other, enc],
      [KEY_B64, tampered],
    ] as const) {
      const problems = problemsOf(() => load({ CONFIG_ENCRYPTION_KEY: key, DB_PASSWORD: value }));
      expect(problems).toEqual([
        expect.stringContaining('DB_PASSWORD: cannot decrypt enc:v1: value'),
      ]);
      expect(problems.join()).not.toContain('topsecret');
    }
  });

  it('rejects a key of the wrong size', () => {
    expect(
      problemsOf(() => load({ CONFIG_ENCRYPTION_KEY: 'c2hvcnQ=', DB_PASSWORD: 'enc:v1:AAAA' })),
    ).toEqual([expect.stringContaining('CONFIG_ENCRYPTION_KEY must be 32 bytes')]);
  });
});

describe('validation errors', () => {
  it('names the variable, what was expected and what was received', () => {
    expect(problemsOf(() => load({ PORT: 'abc' }))).toEqual([
      'PORT: expected an integer 1-65535, got "abc"',
    ]);
    expect(problemsOf(() => load({ PORT: '70000' }))).toEqual([
      'PORT: expected an integer 1-65535, got "70000"',
    ]);
    expect(problemsOf(() => load({ HTTP_ADAPTER: 'koa' }))).toEqual([
      'HTTP_ADAPTER: expected one of express, fastify, got "koa"',
    ]);
    expect(problemsOf(() => load({ DATABASE_URL: 'localhost' }))).toEqual([
      'DATABASE_URL: expected a URL starting with sqlite:, postgres:, postgresql:, mysql:, mariadb:, got "localhost"',
    ]);
  });

  it('lists every problem at once', () => {
    const problems = problemsOf(() =>
      load({ PORT: 'abc', HTTP_ADAPTER: 'koa', DATABASE_URL: 'redis://x' }),
    );
    expect(problems).toHaveLength(3);
    expect(errorOf(() => load({ PORT: 'abc', HTTP_ADAPTER: 'koa' })).message).toBe(
      'Configuration is invalid (2 problems):\n  - PORT: expected an integer 1-65535, got "abc"\n  - HTTP_ADAPTER: expected one of express, fastify, got "koa"',
    );
  });

  it('masks secret values in errors', () => {
    const strict = defineConfig('jwt', {
      secret: { env: 'JWT_SECRET', ...cfg.secret({ minLength: 32 }) },
    });
    const problems = problemsOf(() =>
      loadConfiguration([strict], { env: { JWT_SECRET: 'short-secret' }, envDir: dir }),
    );
    expect(problems).toEqual([
      'JWT_SECRET: expected a string of at least 32 characters, got "***"',
    ]);
  });

  it('reports a required value that is missing', () => {
    const req = defineConfig('oidc', {
      issuer: { env: 'OIDC_ISSUER_URL', ...cfg.url({ schemes: ['https'], required: true }) },
    });
    expect(problemsOf(() => loadConfiguration([req], { env: {}, envDir: dir }))).toEqual([
      'OIDC_ISSUER_URL: required: expected a URL starting with https:, not set',
    ]);
  });

  it('parses booleans, integers with bounds and lists', () => {
    const misc = defineConfig('misc', {
      flag: { env: 'FLAG', ...cfg.bool(false) },
      n: { env: 'N', ...cfg.int({ min: 0 }) },
      tags: { env: 'TAGS', ...cfg.list([]) },
    });
    const c = loadConfiguration([misc], {
      env: { FLAG: 'YES', N: '12', TAGS: 'a, b,,c' },
      envDir: dir,
    });
    expect(c.values.misc).toEqual({ flag: true, n: 12, tags: ['a', 'b', 'c'] });
    expect(
      problemsOf(() => loadConfiguration([misc], { env: { FLAG: 'maybe', N: '-1' }, envDir: dir })),
    ).toEqual([
      'FLAG: expected true or false, got "maybe"',
      'N: expected an integer >= 0, got "-1"',
    ]);
  });

  it('rejects two namespaces reading the same variable', () => {
    const clash = defineConfig('other', { port: { env: 'PORT', ...cfg.port(1) } });
    expect(() => loadConfiguration([http, clash], { env: {}, envDir: dir })).toThrow(
      'PORT is used by both http.port and other.port',
    );
  });
});

describe('masking', () => {
  it('shows secrets as *** and masks URL passwords in toSafeJSON', () => {
    const c = load({ DB_PASSWORD: 'pw', DATABASE_URL: 'postgres://app:hunter2@db:5432/app' });
    expect(c.toSafeJSON()).toEqual({
      http: { port: 3000, host: '0.0.0.0', adapter: 'express' },
      database: { url: 'postgres://app:***@db:5432/app', password: '***' },
    });
    expect(JSON.stringify(c.toSafeJSON())).not.toContain('hunter2');
  });

  it('masks secret query parameters of any URL-valued string (print, dump)', () => {
    const hooks = defineConfig('hooks', {
      url: { env: 'WEBHOOK_URL', ...cfg.string() },
      targets: { env: 'WEBHOOK_TARGETS', ...cfg.list() },
      db: { env: 'HOOKS_DB', ...cfg.url({ schemes: ['postgres'] }) },
    });
    const c = loadConfiguration([hooks], {
      env: {
        WEBHOOK_URL: 'https://h/?sig=xyz&v=1',
        WEBHOOK_TARGETS: 'https://a.test/x?token=t0k,https://b.test/y',
        HOOKS_DB: 'postgres://app@db/app?password=pw1',
      },
      envDir: dir,
    });
    expect(c.toSafeJSON().hooks).toEqual({
      url: 'https://h/?sig=***&v=1',
      targets: ['https://a.test/x?token=***', 'https://b.test/y'],
      db: 'postgres://app@db/app?password=***',
    });
    expect(JSON.stringify(c.toSafeJSON())).not.toMatch(/xyz|t0k|pw1/);
  });

  it('fingerprints URLs carrying credentials in the drift baseline, like secrets', () => {
    const hooks = defineConfig('hooks', { url: { env: 'WEBHOOK_URL', ...cfg.string() } });
    const c = loadConfiguration([hooks], {
      env: { WEBHOOK_URL: 'https://h/?sig=xyz' },
      envDir: dir,
    });
    expect(c.toFingerprint()['hooks.url']).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(c.describe()[0]).toMatchObject({ key: 'hooks.url', secret: true });
    expect(c.toSafeJSON().hooks!.url).toBe('https://h/?sig=***');
  });

  it('validates an extra namespace on demand (forFeature)', () => {
    const c = load({ EXTRA_N: '5' });
    const extra = defineConfig('extra', { n: { env: 'EXTRA_N', ...cfg.int() } });
    expect(c.get(extra).n).toBe(5);
    expect(c.toSafeJSON().extra).toEqual({ n: 5 });
  });
});

describe('credentials in rejected values', () => {
  it('masks the password of a malformed URL in the error', () => {
    const [problem] = problemsOf(() =>
      load({ DATABASE_URL: 'ftp://admin:hunter2@db.example:5432/app' }),
    );
    expect(problem).toContain('ftp://admin:***@db.example');
    expect(problem).not.toContain('hunter2');
  });

  it('masks secret query parameters of a rejected URL in the error', () => {
    const [problem] = problemsOf(() => load({ DATABASE_URL: 'ftp://db.example/app?password=pw9' }));
    expect(problem).toContain('ftp://db.example/app?password=***');
    expect(problem).not.toContain('pw9');
  });
});
