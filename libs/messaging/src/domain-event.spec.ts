import { afterEach, describe, expect, it, vi } from 'vitest';
import { uuidv7 } from './domain-event.js';

describe('uuidv7', () => {
  it('is an RFC 9562 version-7 UUID whose first 48 bits are the current Unix ms', () => {
    const before = Date.now();
    const id = uuidv7();
    const after = Date.now();
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const ms = Number.parseInt(id.replaceAll('-', '').slice(0, 12), 16);
    expect(ms).toBeGreaterThanOrEqual(before);
    expect(ms).toBeLessThanOrEqual(after);
  });

  afterEach(() => vi.restoreAllMocks());

  it('writes each millisecond as 12 hex digits, so ids of later milliseconds sort after', () => {
    const times = [0, 1, 0xf, 0x10, 1_700_000_000_000, 1_700_000_000_001, 2 ** 48 - 1];
    const now = vi.spyOn(Date, 'now');
    const ids = times.map((ms) => {
      now.mockReturnValue(ms);
      const id = uuidv7();
      expect(id.replaceAll('-', '').slice(0, 12)).toBe(ms.toString(16).padStart(12, '0'));
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      return id;
    });
    expect([...ids].sort()).toEqual(ids);
  });

  it('is unique over several pool refills', () => {
    const ids = new Set(Array.from({ length: 5000 }, () => uuidv7()));
    expect(ids.size).toBe(5000);
  });
});
