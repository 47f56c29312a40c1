import { describe, expect, it } from 'vitest';
import { settledPrefix, subXid8 } from './sql-event-store.js';

const row = (position: number, horizon: number | null, xmin: number) => ({
  position: String(position),
  horizon: horizon === null ? null : String(horizon),
  xmin: String(xmin),
});

describe('settledPrefix (PostgreSQL readers and holes in positions)', () => {
  it('passes contiguous rows whatever their horizon', () => {
    expect(settledPrefix([row(11, 900, 100), row(12, 901, 100), row(13, 902, 100)], 10)).toBe(3);
  });

  it('stops before a hole while a transaction older than the next row may still hold it', () => {
    // 12 is missing; 13 was written when xids up to 899 existed; 500 is still running.
    expect(settledPrefix([row(11, 400, 500), row(13, 900, 500), row(14, 901, 500)], 10)).toBe(1);
    // The hole right after the checkpoint counts too.
    expect(settledPrefix([row(12, 900, 500)], 10)).toBe(0);
  });

  it('passes a hole once xmin has reached the next row horizon (its writer has ended)', () => {
    expect(settledPrefix([row(11, 400, 900), row(13, 900, 900)], 10)).toBe(2);
    expect(settledPrefix([row(13, 899, 900)], 10)).toBe(1);
  });

  it('treats rows from before the migration (no horizon) as settled', () => {
    expect(settledPrefix([row(12, null, 1), row(20, null, 1)], 10)).toBe(2);
  });

  it('compares xids as 64-bit numbers beyond 2^53', () => {
    const big = 2n ** 60n;
    expect(
      settledPrefix([{ position: '12', horizon: String(big + 1n), xmin: String(big) }], 10),
    ).toBe(0);
    expect(
      settledPrefix([{ position: '12', horizon: String(big), xmin: String(big + 1n) }], 10),
    ).toBe(1);
  });
});

describe('subXid8', () => {
  it('extends a 32-bit subtransaction xid with its parent epoch', () => {
    expect(subXid8('5759', '5760')).toBe(5760n);
    const epoch3 = 3n * 2n ** 32n;
    expect(subXid8(String(epoch3 + 100n), '105')).toBe(epoch3 + 105n);
  });

  it('crosses an xid wraparound between parent and subtransaction', () => {
    const top = 2n ** 32n - 2n; // epoch 0, xid 4294967294
    expect(subXid8(String(top), '3')).toBe(2n ** 32n + 3n);
  });
});
