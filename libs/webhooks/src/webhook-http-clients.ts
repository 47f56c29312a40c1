import type { OnApplicationShutdown } from '@nestjs/common';
import { HttpClient, resolveHttpClientOptions } from '@infrastructure/http-client';
import type { ResolvedWebhookDelivery } from './webhooks.options.js';

/** Error answers of receivers are read up to this much (the body is not used). */
const MAX_RESPONSE_BYTES = 64 * 1024;

/**
 * One `HttpClient` per target origin, created on first use: its own keep-alive pool and circuit
 * breaker (a dead receiver fails fast without hurting the others), a per-attempt timeout, no
 * retries of its own (the messaging retry policy owns them: they survive restarts and end in the
 * dead letters). At most `maxTargets` origins are pooled; the least recently used is closed.
 */
export class WebhookHttpClients implements OnApplicationShutdown {
  private readonly clients = new Map<string, HttpClient>();

  constructor(private readonly delivery: ResolvedWebhookDelivery) {}

  /** The client of `url`'s origin; `guarded`: refusing private addresses (subscriptions). */
  for(url: URL, guarded = false): HttpClient {
    const key = `${guarded ? 'public-only ' : ''}${url.origin}`;
    const found = this.clients.get(key);
    if (found) {
      // Map order is the LRU order: move it to the end.
      this.clients.delete(key);
      this.clients.set(key, found);
      return found;
    }
    const d = this.delivery;
    const client = new HttpClient(
      resolveHttpClientOptions(`webhook:${url.host}`, {
        baseUrl: url.origin,
        timeoutMs: false,
        attemptTimeoutMs: d.attemptTimeoutMs,
        retry: false,
        circuitBreaker: d.circuitBreaker,
        bulkhead: false,
        connections: d.connections,
        propagateContext: d.propagateContext,
        headers: { 'user-agent': d.userAgent },
        maxResponseBytes: MAX_RESPONSE_BYTES,
        redactPaths: true, // webhook URL paths often hold a token (Slack-style hooks)
        blockPrivateNetworks: guarded,
      }),
    );
    if (this.clients.size >= d.maxTargets) {
      const [oldest, evicted] = this.clients.entries().next().value as [string, HttpClient];
      this.clients.delete(oldest);
      void evicted.close().catch(() => undefined); // in-flight requests finish first
    }
    this.clients.set(key, client);
    return client;
  }

  /** Origins with a pooled client. */
  origins(): string[] {
    return [...this.clients.keys()].map((key) => key.replace(/^public-only /, ''));
  }

  async onApplicationShutdown(): Promise<void> {
    const all = [...this.clients.values()];
    this.clients.clear();
    await Promise.all(all.map((c) => c.close()));
  }
}
