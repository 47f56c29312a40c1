import type { LoadedConfiguration } from './load-configuration.js';
import { fingerprintSecret } from './load-configuration.js';

/** One difference between the effective configuration and an expected baseline. */
export interface ConfigDrift {
  readonly key: string;
  readonly kind: 'missing' | 'extra' | 'changed';
  /** Printable expected value; absent for secrets. */
  readonly expected?: unknown;
  /** Printable actual value; absent for secrets. */
  readonly actual?: unknown;
  readonly secret: boolean;
}

/**
 * Compares the effective configuration with a baseline (`key → value`, as written by
 * {@link LoadedConfiguration.toFingerprint}). Secrets are compared by `sha256:` fingerprint; a
 * baseline may hold either the fingerprint or, for local use, the plain value. Secret values are
 * never part of the result.
 */
export function detectDrift(
  loaded: LoadedConfiguration<unknown>,
  expected: Readonly<Record<string, unknown>>,
): ConfigDrift[] {
  const actual = loaded.toFingerprint();
  const secrets = new Set(
    loaded
      .describe()
      .filter((e) => e.secret)
      .map((e) => e.key),
  );
  const drift: ConfigDrift[] = [];
  const keys = [...new Set([...Object.keys(expected), ...Object.keys(actual)])].sort();
  for (const key of keys) {
    const secret = secrets.has(key);
    const inExpected = Object.hasOwn(expected, key);
    const inActual = Object.hasOwn(actual, key);
    if (inExpected && !inActual) {
      drift.push(
        secret
          ? { key, kind: 'missing', secret }
          : { key, kind: 'missing', expected: expected[key], secret },
      );
    } else if (!inExpected && inActual) {
      drift.push(
        secret
          ? { key, kind: 'extra', secret }
          : { key, kind: 'extra', actual: actual[key], secret },
      );
    } else if (secret) {
      const want = expected[key];
      const wantFingerprint =
        typeof want === 'string' && want.startsWith('sha256:') ? want : fingerprintSecret(want);
      if (wantFingerprint !== actual[key]) drift.push({ key, kind: 'changed', secret });
    } else if (!sameValue(expected[key], actual[key])) {
      drift.push({ key, kind: 'changed', expected: expected[key], actual: actual[key], secret });
    }
  }
  return drift;
}

function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

const show = (v: unknown): string => JSON.stringify(v);

/** One line per drift, secrets never printed: `changed  http.port: expected 3000, got 8080`. */
export function formatDrift(drift: readonly ConfigDrift[]): string {
  return drift
    .map((d) => {
      switch (d.kind) {
        case 'missing':
          return `missing  ${d.key}${d.secret ? ' (secret)' : `: expected ${show(d.expected)}, not set`}`;
        case 'extra':
          return `extra    ${d.key}${d.secret ? ' (secret)' : `: ${show(d.actual)} (not in baseline)`}`;
        case 'changed':
          return d.secret
            ? `changed  ${d.key} (secret: fingerprint differs)`
            : `changed  ${d.key}: expected ${show(d.expected)}, got ${show(d.actual)}`;
      }
    })
    .join('\n');
}
