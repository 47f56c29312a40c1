import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { envTable, runConfigCli } from './cli.js';
import { cfg, defineConfig } from './config-definition.js';
import { decryptValue } from './encryption.js';

const KEY = Buffer.alloc(32, 3);
const defs = [
  defineConfig('http', { port: { env: 'PORT', ...cfg.port(3000), description: 'HTTP port.' } }),
  defineConfig('jwt', {
    secret: { env: 'JWT_SECRET', ...cfg.secret(), description: 'Signing key.' },
  }),
];

let dir: string;
let out: string[];
let err: string[];
const io = { out: (l: string) => out.push(l), err: (l: string) => err.push(l) };
const cli = (argv: string[], env: Record<string, string> = {}) =>
  runConfigCli(defs, argv, io, { env, envDir: dir });

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cfg-cli-'));
  out = [];
  err = [];
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('config CLI', () => {
  it('encrypt prints an enc:v1: value the loader can decrypt', () => {
    expect(cli(['encrypt', 'p@ss'], { CONFIG_ENCRYPTION_KEY: KEY.toString('base64') })).toBe(0);
    expect(out[0]).toMatch(/^enc:v1:/);
    expect(decryptValue(out[0]!, KEY)).toBe('p@ss');
  });

  it('encrypt without a key explains what to set', () => {
    expect(cli(['encrypt', 'x'])).toBe(2);
    expect(err.join()).toContain('set CONFIG_ENCRYPTION_KEY or CONFIG_ENCRYPTION_KEY_FILE');
  });

  it('snapshot then check reports no drift, then drift after a change (exit 1), secrets hidden', () => {
    const baseline = join(dir, 'expected.test.json');
    expect(cli(['snapshot', '--out', baseline], { JWT_SECRET: 'first-secret' })).toBe(0);
    expect(readFileSync(baseline, 'utf8')).not.toContain('first-secret');
    expect(cli(['check', '--expected', baseline], { JWT_SECRET: 'first-secret' })).toBe(0);
    expect(out.at(-1)).toContain('no drift');
    out = [];
    expect(
      cli(['check', '--expected', baseline], { JWT_SECRET: 'second-secret', PORT: '81' }),
    ).toBe(1);
    expect(out.join('\n')).toContain('changed  http.port: expected 3000, got 81');
    expect(out.join('\n')).toContain('changed  jwt.secret (secret: fingerprint differs)');
    expect(out.join('\n')).not.toMatch(/first-secret|second-secret/);
  });

  it('check without --expected uses config/expected.<NODE_ENV>.json (development when unset)', () => {
    mkdirSync(join(dir, 'config'));
    writeFileSync(join(dir, 'config', 'expected.development.json'), '{ "http.port": 3000 }');
    writeFileSync(join(dir, 'config', 'expected.staging.json'), '{ "http.port": 8080 }');
    expect(cli(['check'])).toBe(0);
    expect(out.at(-1)).toBe('no drift from config/expected.development.json');
    expect(cli(['check'], { NODE_ENV: 'staging' })).toBe(1);
    expect(out.join('\n')).toContain('changed  http.port: expected 8080, got 3000');
    expect(cli(['check'], { NODE_ENV: 'production' })).toBe(2);
    expect(err.join()).toContain(
      'config check: no baseline config/expected.production.json; write one with: config snapshot --out config/expected.production.json',
    );
  });

  it('check fails with the config problems when the configuration itself is invalid', () => {
    writeFileSync(join(dir, 'e.json'), '{}');
    expect(cli(['check', '--expected', join(dir, 'e.json')], { PORT: 'abc' })).toBe(1);
    expect(err.join()).toContain('PORT: expected an integer 1-65535, got "abc"');
  });

  it('print masks secrets', () => {
    expect(cli(['print'], { JWT_SECRET: 'visible?' })).toBe(0);
    expect(JSON.parse(out.join('\n'))).toEqual({ http: { port: 3000 }, jwt: { secret: '***' } });
  });

  it('print and check mask secret query parameters of URLs (WEBHOOK_URL=https://h/?sig=…)', () => {
    const withUrl = [
      ...defs,
      defineConfig('hooks', { url: { env: 'WEBHOOK_URL', ...cfg.string() } }),
    ];
    const run = (argv: string[], env: Record<string, string>) =>
      runConfigCli(withUrl, argv, io, { env, envDir: dir });
    expect(run(['print'], { WEBHOOK_URL: 'https://h/?sig=xyz' })).toBe(0);
    expect(JSON.parse(out.join('\n')).hooks).toEqual({ url: 'https://h/?sig=***' });
    const baseline = join(dir, 'expected.test.json');
    expect(run(['snapshot', '--out', baseline], { WEBHOOK_URL: 'https://h/?sig=xyz' })).toBe(0);
    expect(readFileSync(baseline, 'utf8')).not.toContain('xyz');
    out = [];
    expect(run(['check', '--expected', baseline], { WEBHOOK_URL: 'https://h/?sig=abc' })).toBe(1);
    expect(out.join('\n')).toContain('changed  hooks.url (secret: fingerprint differs)');
    expect(out.join('\n')).not.toMatch(/xyz|abc/);
  });

  it('docs prints the env var table; an unknown command prints usage', () => {
    expect(cli(['docs'])).toBe(0);
    expect(out[0]).toBe(envTable(defs));
    expect(out[0]).toContain('| `PORT` | `http.port` | `3000` | HTTP port. |');
    expect(out[0]).toContain('| `JWT_SECRET` | `jwt.secret` | — | Signing key. (secret) |');
    expect(cli(['frobnicate'])).toBe(2);
    expect(err.join()).toContain('usage:');
  });
});
