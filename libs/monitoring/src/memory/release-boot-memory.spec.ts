import { getHeapSpaceStatistics } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { releaseBootMemory } from './release-boot-memory.js';

const MB = 1024 * 1024;

/** Allocates ~40 MB that survives a few scavenges (as modules loading at boot do), then drops it. */
function growYoungGeneration(): number {
  let kept: number[][] = [];
  for (let i = 0; i < 20_000; i++) kept.push(Array.from({ length: 250 }, (_, j) => i + j));
  const length = kept.length;
  kept = [];
  return length;
}

function newSpaceSize(): number {
  return getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? NaN;
}

describe('releaseBootMemory', () => {
  it('shrinks the young generation that boot grew, without --expose-gc', () => {
    expect(growYoungGeneration()).toBe(20_000);
    expect(newSpaceSize()).toBeGreaterThan(16 * MB);
    const { heapTotalBefore, heapTotalAfter } = releaseBootMemory();
    // a plain full GC keeps the grown semi-spaces; only the memory-reducing one gives them back
    expect(newSpaceSize()).toBeLessThanOrEqual(4 * MB);
    expect(heapTotalAfter).toBeLessThan(heapTotalBefore - 16 * MB);
  });

  it('leaves gc() unexposed to the contexts created after it', () => {
    releaseBootMemory();
    expect(runInNewContext('typeof gc')).toBe('undefined');
  });
});
