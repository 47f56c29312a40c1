import { describe, expect, it } from 'vitest';
import { isSecretReference, isSecretSource, type SecretSource } from './secret-source.js';

const source: SecretSource = { get: () => ({ reveal: () => 'x' }), onChange: () => () => {} };

describe('isSecretReference', () => {
  it('accepts { secrets, name } and nothing else', () => {
    expect(isSecretSource(source)).toBe(true);
    expect(isSecretReference({ secrets: source, name: 'REDIS_PASSWORD' })).toBe(true);
    expect(isSecretReference({ name: 'REDIS_PASSWORD' })).toBe(false);
    expect(isSecretReference({ secrets: {}, name: 'REDIS_PASSWORD' })).toBe(false);
    expect(isSecretReference({ secrets: source, name: '' })).toBe(false);
    expect(isSecretReference({ secrets: source, name: 'A', extra: 1 })).toBe(false);
    expect(isSecretReference('REDIS_PASSWORD')).toBe(false);
    expect(isSecretReference(null)).toBe(false);
  });
});
