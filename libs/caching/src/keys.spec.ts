import { describe, expect, it } from 'vitest';
import { normalizeKey } from './keys.js';

describe('normalizeKey', () => {
  it('keeps short keys and hashes long ones to a bounded, distinct, readable key', () => {
    expect(normalizeKey('order:1', 200)).toBe('order:1');
    const a = normalizeKey(`q:${'a'.repeat(500)}`, 200);
    const b = normalizeKey(`q:${'a'.repeat(499)}b`, 200);
    expect(a).not.toBe(b);
    expect(a.length).toBe(64 + 1 + 43);
    expect(a.startsWith('q:aaa')).toBe(true);
  });
});
