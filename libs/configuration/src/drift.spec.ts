import { describe, expect, it } from 'vitest';
import { cfg, defineConfig } from './config-definition.js';
import { detectDrift, formatDrift } from './drift.js';
import { loadConfiguration } from './load-configuration.js';

const defs = [
  defineConfig('http', {
    port: { env: 'PORT', ...cfg.port(3000) },
    host: { env: 'HOST', ...cfg.string() },
  }),
  defineConfig('jwt', { secret: { env: 'JWT_SECRET', ...cfg.secret() } }),
] as const;

const load = (env: Record<string, string>) => loadConfiguration(defs, { env, envFiles: false });

describe('drift detection', () => {
  it('finds nothing when the configuration matches its own snapshot', () => {
    const c = load({ HOST: 'a', JWT_SECRET: 'k1' });
    expect(detectDrift(c, c.toFingerprint())).toEqual([]);
  });

  it('stores secrets as fingerprints, never as values', () => {
    const fp = load({ JWT_SECRET: 'k1' }).toFingerprint();
    expect(fp['jwt.secret']).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(JSON.stringify(fp)).not.toContain('k1');
  });

  it('reports missing, extra and changed keys, secrets by hash only', () => {
    const baseline = load({ JWT_SECRET: 'old-secret', HOST: 'web' }).toFingerprint();
    const now = load({ PORT: '8080', JWT_SECRET: 'new-secret' });
    const drift = detectDrift(now, { ...baseline, 'http.extraOld': true });
    expect(drift).toEqual([
      { key: 'http.extraOld', kind: 'missing', expected: true, secret: false },
      { key: 'http.host', kind: 'missing', expected: 'web', secret: false },
      { key: 'http.port', kind: 'changed', expected: 3000, actual: 8080, secret: false },
      { key: 'jwt.secret', kind: 'changed', secret: true },
    ]);
    const text = formatDrift(drift);
    expect(text).toContain('changed  http.port: expected 3000, got 8080');
    expect(text).toContain('changed  jwt.secret (secret: fingerprint differs)');
    expect(text).not.toMatch(/old-secret|new-secret/);
  });

  it('reports keys that are set now but absent from the baseline as extra', () => {
    const drift = detectDrift(load({ HOST: 'x' }), { 'http.port': 3000 });
    expect(drift).toEqual([{ key: 'http.host', kind: 'extra', actual: 'x', secret: false }]);
  });

  it('accepts a plain secret in a local baseline and compares it by hash', () => {
    expect(
      detectDrift(load({ JWT_SECRET: 'k1' }), { 'http.port': 3000, 'jwt.secret': 'k1' }),
    ).toEqual([]);
  });
});
