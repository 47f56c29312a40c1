import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** What {@link releaseBootMemory} did: V8's committed heap before and after, in bytes. */
export interface ReleasedBootMemory {
  heapTotalBefore: number;
  heapTotalAfter: number;
}

type GcFunction = (options: { type: 'major'; execution: 'sync'; flavor: 'last-resort' }) => void;

/**
 * V8's `gc()`: the global one under `--expose-gc`, else one taken from a fresh context with the
 * flag on for that moment only (how Jest's `--logHeapUsage` gets it), so no node flag is needed.
 */
function gcFunction(): GcFunction {
  const global = (globalThis as { gc?: GcFunction }).gc;
  if (global) return global;
  setFlagsFromString('--expose-gc');
  try {
    return runInNewContext('gc') as GcFunction;
  } finally {
    setFlagsFromString('--no-expose-gc');
  }
}

/**
 * Runs one full, memory-reducing garbage collection: call it once the app listens. Almost
 * everything a Nest app allocates at boot survives, so V8 grows its young generation while
 * modules load (to 2 x 32 MB semi-spaces for the sample API) and keeps those pages committed
 * while the process idles; this collection hands them back (the sample API: 173 MB RSS after boot,
 * 123 MB after this call). It costs one atomic, compacting full collection (two rounds): about
 * 150 ms for the sample's 45 MB heap on a busy 2-core box. Under load V8 grows the young
 * generation again as the allocation rate asks.
 *
 * @example
 * await app.listen(port);
 * releaseBootMemory();
 */
export function releaseBootMemory(): ReleasedBootMemory {
  const heapTotalBefore = process.memoryUsage().heapTotal;
  gcFunction()({ type: 'major', execution: 'sync', flavor: 'last-resort' });
  return { heapTotalBefore, heapTotalAfter: process.memoryUsage().heapTotal };
}
