import { HealthDegradedError, type HealthRegistry } from '@infrastructure/monitoring';
import type { HttpClient } from '../http/http-client.js';

/** Health check name of a client: `http:<name>`. */
export function healthCheckName(client: string): string {
  return `http:${client}`;
}

/**
 * Registers `http:<name>`: the breaker state (open → `degraded`, never 503 on its own) and, with
 * `healthUrl`, a GET of it within `healthTimeoutMs` (failing → 503 when `healthCritical`, else
 * `degraded`). Returns the unregister function.
 */
export function registerHttpClientHealth(registry: HealthRegistry, client: HttpClient): () => void {
  const name = healthCheckName(client.name);
  const o = client.options;
  registry.register(
    name,
    async ({ signal }) => {
      const circuit = client.circuitState;
      if (circuit === 'open') {
        throw new HealthDegradedError(
          `circuit open: calls to ${client.name} fail fast until a probe succeeds`,
          { circuit },
        );
      }
      if (!o.healthUrl) return { circuit };
      try {
        const { status } = await client.ping(signal);
        return { circuit, answered: status };
      } catch (error) {
        const reason =
          (error as Error).name === 'TimeoutError'
            ? `no answer within ${o.healthTimeoutMs} ms`
            : ((error as { code?: string }).code ?? (error as Error).message);
        throw new Error(`${client.name} health URL: ${reason}`, { cause: error });
      }
    },
    { critical: o.healthCritical, timeoutMs: o.healthTimeoutMs + 200 },
  );
  return () => registry.unregister(name);
}
