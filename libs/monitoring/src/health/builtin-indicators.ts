import { statfs } from 'node:fs/promises';
import { monitorEventLoopDelay, type ELDHistogram } from 'node:perf_hooks';
import { HealthDegradedError, type HealthRegistry } from './health.registry.js';
import type { ResolvedMonitoringOptions } from '../monitoring.options.js';

const MB = 1024 * 1024;

/**
 * Registers the process-level checks: event-loop lag (liveness), memory and disk (details).
 * Returns a function that stops the event-loop sampler.
 */
export function registerBuiltinIndicators(
  registry: HealthRegistry,
  options: ResolvedMonitoringOptions,
): () => void {
  const { eventLoopLagMs, heapUsedBytes, rssBytes, disk } = options.health;
  const histogram: ELDHistogram = monitorEventLoopDelay({ resolution: 20 });
  histogram.enable();

  registry.register(
    'eventLoop',
    () => {
      const p99Ms = histogram.percentile(99) / 1e6;
      histogram.reset();
      const details = { lagP99Ms: Math.round(p99Ms * 10) / 10, thresholdMs: eventLoopLagMs };
      if (p99Ms > eventLoopLagMs)
        throw new HealthDegradedError(`event-loop lag p99 ${details.lagP99Ms} ms`, details);
      return details;
    },
    { scope: 'liveness', critical: false },
  );

  registry.register(
    'memory',
    () => {
      const m = process.memoryUsage();
      const details = { heapUsedMb: Math.round(m.heapUsed / MB), rssMb: Math.round(m.rss / MB) };
      if (m.heapUsed > heapUsedBytes)
        throw new HealthDegradedError(`heap used ${details.heapUsedMb} MB over threshold`, details);
      if (m.rss > rssBytes)
        throw new HealthDegradedError(`RSS ${details.rssMb} MB over threshold`, details);
      return details;
    },
    { scope: 'details', critical: false },
  );

  if (disk) {
    registry.register(
      'disk',
      async () => {
        const s = await statfs(disk.path);
        const usedRatio = s.blocks > 0 ? 1 - s.bavail / s.blocks : 0;
        const details = {
          path: disk.path,
          usedRatio: Math.round(usedRatio * 1000) / 1000,
          freeMb: Math.round((s.bavail * s.bsize) / MB),
        };
        if (usedRatio > disk.maxUsedRatio)
          throw new HealthDegradedError(`disk ${Math.round(usedRatio * 100)}% used`, details);
        return details;
      },
      { scope: 'details', critical: false },
    );
  }
  return () => histogram.disable();
}
