import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ChunkedLines, isoTime } from './root-logger.js';

describe('ChunkedLines', () => {
  it('hands lines over joined, in order, once they reach the chunk size', () => {
    const chunks: string[] = [];
    const lines = new ChunkedLines({ write: (c) => chunks.push(c) }, 100);
    const written = Array.from({ length: 25 }, (_, i) => `{"n":${String(i).padStart(3, '0')}}\n`);
    for (const line of written) lines.write(line);
    // 10-character lines: a chunk every 10 lines, the last 5 still held.
    expect(chunks.map((c) => c.length)).toEqual([100, 100]);
    lines.handOver();
    expect(chunks.join('')).toBe(written.join(''));
    expect(chunks).toHaveLength(3);
    lines.handOver();
    expect(chunks).toHaveLength(3); // nothing held, nothing written
  });
});

describe('isoTime', () => {
  afterEach(() => vi.restoreAllMocks());

  it("writes what pino's isoTime writes, across seconds, days and years", () => {
    const starts = [Date.UTC(2026, 11, 31, 23, 59, 58), Date.UTC(2024, 1, 29, 12, 0, 0), 0];
    const now = vi.spyOn(Date, 'now');
    for (const start of starts) {
      for (let t = start; t < start + 2500; t += 7) {
        now.mockReturnValue(t);
        expect(isoTime()).toBe(pino.stdTimeFunctions.isoTime());
      }
    }
  });
});
