import { createServer, type Server } from 'node:http';
import { getEventListeners, once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveHttpClientOptions, type HttpClientOptions } from '../http-client.options.js';
import { HttpClient } from './http-client.js';

const CALLS = 1000;
let server: Server;
let baseUrl: string;
const clients: HttpClient[] = [];

function client(options: Partial<HttpClientOptions>): HttpClient {
  const c = new HttpClient(resolveHttpClientOptions('payments', { baseUrl, ...options }));
  clients.push(c);
  return c;
}

/**
 * Node ≤ 22 warns (`MaxListenersExceededWarning`) beyond this many listeners on one AbortSignal;
 * Node 24 sets no limit on AbortSignals, so the warning alone cannot catch a shared signal there.
 */
const NODE_LIMIT = 10;

/**
 * While `fn` runs: the warnings `process` emits, and the most `abort` listeners any one
 * AbortSignal held at once (counted on every `addEventListener`, on any Node).
 */
async function observe(
  fn: () => Promise<unknown>,
): Promise<{ warnings: string[]; maxListeners: number }> {
  const warnings: string[] = [];
  let maxListeners = 0;
  const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`);
  const add = EventTarget.prototype.addEventListener;
  EventTarget.prototype.addEventListener = function (this: EventTarget, ...args) {
    add.apply(this, args);
    if (this instanceof AbortSignal && args[0] === 'abort') {
      maxListeners = Math.max(maxListeners, getEventListeners(this, 'abort').length);
    }
  } as typeof add;
  process.on('warning', onWarning);
  try {
    await fn();
    // emitWarning delivers on the next tick
    await new Promise<void>((resolve) => setImmediate(resolve));
  } finally {
    EventTarget.prototype.addEventListener = add;
    process.off('warning', onWarning);
  }
  return {
    warnings: warnings.filter((w) => w.startsWith('MaxListenersExceededWarning')),
    maxListeners,
  };
}

/** `CALLS` calls at once; every one must answer 200 with the server's body. */
async function concurrentCalls(c: HttpClient, signal?: AbortSignal): Promise<void> {
  const results = await Promise.all(
    Array.from({ length: CALLS }, (_, i) => c.get(`/items/${i}`, { signal })),
  );
  expect(results.filter((r) => r.status === 200 && (r.body as { ok?: boolean }).ok)).toHaveLength(
    CALLS,
  );
}

beforeAll(async () => {
  server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"ok":true}');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api`;
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  server.close();
});

describe(`HttpClient under ${CALLS} concurrent calls`, () => {
  it('adds no listeners to a shared signal with the pipeline off (no MaxListenersExceededWarning)', async () => {
    const c = client({
      retry: false,
      circuitBreaker: false,
      bulkhead: false,
      timeoutMs: false,
      attemptTimeoutMs: false,
    });
    const seen = await observe(() => concurrentCalls(c));
    expect(seen.warnings).toEqual([]);
    expect(seen.maxListeners).toBeLessThanOrEqual(NODE_LIMIT);
  });

  it('adds no listeners to a shared signal with the default pipeline', async () => {
    const c = client({ bulkhead: { maxConcurrent: CALLS, maxQueue: 0 } });
    const seen = await observe(() => concurrentCalls(c));
    expect(seen.warnings).toEqual([]);
    expect(seen.maxListeners).toBeLessThanOrEqual(NODE_LIMIT);
  });

  it('adds no listener per call to one caller signal shared by every call', async () => {
    const c = client({ bulkhead: { maxConcurrent: CALLS, maxQueue: 0 } });
    const shutdown = new AbortController();
    const seen = await observe(() => concurrentCalls(c, shutdown.signal));
    expect(seen.warnings).toEqual([]);
    expect(seen.maxListeners).toBeLessThanOrEqual(NODE_LIMIT);
  });

  it('adds no listener per call to a shared caller signal with the pipeline off', async () => {
    const c = client({
      retry: false,
      circuitBreaker: false,
      bulkhead: false,
      timeoutMs: false,
      attemptTimeoutMs: false,
    });
    const shutdown = new AbortController();
    const seen = await observe(() => concurrentCalls(c, shutdown.signal));
    expect(seen.warnings).toEqual([]);
    expect(seen.maxListeners).toBeLessThanOrEqual(NODE_LIMIT);
  });
});
