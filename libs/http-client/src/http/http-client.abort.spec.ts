import { createServer, type Server } from 'node:http';
import { getEventListeners, once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveHttpClientOptions, type HttpClientOptions } from '../http-client.options.js';
import { HttpClientTimeoutError } from '../errors.js';
import { HttpClient, outcomeOf, SOCKET_TIMEOUT_FROM_MS } from './http-client.js';

const CALLS = 1000;
let server: Server;
let baseUrl: string;
const clients: HttpClient[] = [];
/** Requests the server saw, by path. */
const requests = new Map<string, number>();
/** Resolves on the next close of a request the server left hanging. */
let hangingClosed: Promise<void> = Promise.resolve();
let onHangingClosed = () => {};

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
  server = createServer((req, res) => {
    const path = req.url!.split('?')[0]!;
    requests.set(path, (requests.get(path) ?? 0) + 1);
    if (path === '/api/hang') {
      res.on('close', () => onHangingClosed());
      return; // never answers
    }
    if (path === '/api/trickle') {
      // a byte every 300 ms: no gap reaches undici's bodyTimeout, the whole body takes 3.3 s
      const body = '{"ok":true}';
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '11' });
      let i = 0;
      const timer = setInterval(() => {
        res.write(body[i++]!);
        if (i === body.length) {
          clearInterval(timer);
          res.end();
        }
      }, 300);
      res.on('close', () => clearInterval(timer));
      return;
    }
    if (path === '/api/stall') {
      // headers and half the body, then nothing
      res.on('close', () => onHangingClosed());
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '11' });
      res.write('{"ok":');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"ok":true}');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api`;
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  server.closeAllConnections();
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

/** Resolves when `n` hanging requests were closed (by the client dropping its socket). */
function hangingClosedTimes(n: number): Promise<void> {
  let left = n;
  hangingClosed = new Promise<void>((resolve) => {
    onHangingClosed = () => {
      if (--left === 0) resolve();
    };
  });
  return hangingClosed;
}

describe('HttpClient after close()', () => {
  it('refuses calls once closed, even if it never opened its pool (no pool after shutdown)', async () => {
    const c = client({ retry: false });
    await c.close();
    await expect(c.get('/items/1')).rejects.toThrow(/HttpClient payments is closed/);
  });
});

describe('HttpClient attempt timeout (undici headersTimeout / bodyTimeout)', () => {
  const attemptTimeoutMs = SOCKET_TIMEOUT_FROM_MS;

  it('times out attempts whose answer never comes, drops their sockets, retries, counts one breaker failure', async () => {
    requests.clear();
    const closed = hangingClosedTimes(2);
    const c = client({
      attemptTimeoutMs,
      retry: { maxAttempts: 1, initialDelayMs: 1 },
      circuitBreaker: { consecutiveFailures: 1 },
    });
    const started = performance.now();
    const error = await c.get('/hang').catch((e: unknown) => e);
    const elapsed = performance.now() - started;
    expect(error).toBeInstanceOf(HttpClientTimeoutError);
    expect(error).toMatchObject({ kind: 'attempt', timeoutMs: attemptTimeoutMs, httpStatus: 504 });
    expect(outcomeOf(error)).toBe('timeout');
    expect(requests.get('/api/hang')).toBe(2);
    expect(c.circuitState).toBe('open');
    // undici's timers tick every ~0.5 s: each attempt ends within about a second of its bound
    expect(elapsed).toBeGreaterThanOrEqual(2 * attemptTimeoutMs - 50);
    expect(elapsed).toBeLessThan(2 * (attemptTimeoutMs + 1100));
    await closed;
  }, 20_000); // waits out real 2 s attempt timeouts (the unit project's default is 5 s)

  it('times out an attempt whose body stops coming', async () => {
    requests.clear();
    const closed = hangingClosedTimes(1);
    const c = client({ attemptTimeoutMs, retry: false });
    const error = await c.get('/stall').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HttpClientTimeoutError);
    expect(error).toMatchObject({ kind: 'attempt', timeoutMs: attemptTimeoutMs });
    expect(requests.get('/api/stall')).toBe(1);
    await closed;
  }, 20_000); // waits out real 2 s attempt timeouts (the unit project's default is 5 s)

  it("keeps a short attempt timeout exact (the policy's timer and signal)", async () => {
    const closed = hangingClosedTimes(1);
    const c = client({ attemptTimeoutMs: 200, retry: false });
    const started = performance.now();
    const error = await c.get('/hang').catch((e: unknown) => e);
    expect(error).toMatchObject({
      name: 'HttpClientTimeoutError',
      kind: 'attempt',
      timeoutMs: 200,
    });
    expect(performance.now() - started).toBeLessThan(450);
    await closed;
  });

  it('bounds attempts without a signal, listener or controller of their own under a total timeout', async () => {
    const c = client({ timeoutMs: 10_000, attemptTimeoutMs: 3000 });
    const controllers = countAbortControllers();
    try {
      const observed = await observe(() =>
        Promise.all(Array.from({ length: 100 }, () => c.get('/items/1'))),
      );
      // The call's own signal (the total timeout) carries undici's one listener; attempts add none.
      expect(observed.maxListeners).toBeLessThanOrEqual(1);
    } finally {
      controllers.restore();
    }
    expect(controllers.count()).toBeLessThanOrEqual(100); // at most one a call, none an attempt
  });

  it('without a total timeout, keeps the exact attempt timer: a body that trickles in is still bounded', async () => {
    // undici's bodyTimeout bounds each gap, not the whole body: a receiver sending a byte at a time
    // (webhooks: the URLs are other people's) would hold the attempt for as long as it likes.
    const c = client({ timeoutMs: false, attemptTimeoutMs: SOCKET_TIMEOUT_FROM_MS, retry: false });
    const started = performance.now();
    const error = await c.get('/trickle').catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'HttpClientTimeoutError', kind: 'attempt' });
    expect(performance.now() - started).toBeLessThan(SOCKET_TIMEOUT_FROM_MS + 700);
  }, 20_000); // waits out real 2 s attempt timeouts (the unit project's default is 5 s)

  it('the total timeout still ends a call whose attempts are slower than it', async () => {
    const closed = hangingClosedTimes(1);
    const c = client({ timeoutMs: 150, attemptTimeoutMs: 3000, retry: false });
    const error = await c.get('/hang').catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'HttpClientTimeoutError', kind: 'total', timeoutMs: 150 });
    await closed;
  });
});

/** Counts `new AbortController()` until `restore`. */
function countAbortControllers(): { count: () => number; restore: () => void } {
  const Original = globalThis.AbortController;
  let made = 0;
  globalThis.AbortController = class extends Original {
    constructor() {
      super();
      made++;
    }
  };
  return { count: () => made, restore: () => (globalThis.AbortController = Original) };
}
