import { HealthDegradedError, type HealthRegistry } from '@infrastructure/monitoring';
import type { CircuitStateName } from '@infrastructure/http-client';
import type { BlobStore } from './blob-store.js';

/** Health check name of a blob store: `blob:<kind>` (`blob:fs`, `blob:s3`). */
export function blobHealthCheckName(store: BlobStore): string {
  return `blob:${store.kind}`;
}

/**
 * Registers `blob:<kind>` (readiness): an open breaker shows `degraded` (200) at once; otherwise
 * the store's `ping` (S3: HeadBucket, one attempt; file system: the root is readable and
 * writable) within `timeoutMs`. Failing → `degraded` (non-critical, the default) or 503
 * (`critical`). Never throws out of the endpoint. Returns the unregister function.
 */
export function registerBlobStoreHealth(
  registry: HealthRegistry,
  store: BlobStore,
  options: { critical: boolean; timeoutMs: number },
): () => void {
  const name = blobHealthCheckName(store);
  registry.register(
    name,
    async ({ signal }) => {
      const circuit = (store as { circuitState?: CircuitStateName }).circuitState;
      if (circuit === 'open') {
        throw new HealthDegradedError(
          `circuit open: ${store.kind} blob calls fail fast until a probe succeeds`,
          { circuit },
        );
      }
      try {
        return { ...(await store.ping(signal)) };
      } catch (error) {
        const e = error as { code?: string; message?: string };
        throw new Error(`${store.kind} blob store: ${e.code ?? e.message ?? String(error)}`, {
          cause: error,
        });
      }
    },
    { critical: options.critical, timeoutMs: options.timeoutMs },
  );
  return () => registry.unregister(name);
}
