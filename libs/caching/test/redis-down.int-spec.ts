import { Controller, Get, Injectable, Param } from '@nestjs/common';
import { MonitoringModule } from '@infrastructure/monitoring';
import {
  createTestApp,
  TcpProxy,
  testMonitoringOptions,
  type TestApp,
} from '@infrastructure/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Cacheable, CachingModule, type CachingOptions } from '../src/index.js';
import { Redis } from 'ioredis';
import { REDIS_URL, removeKeys, testPrefix } from './redis-helpers.js';

const prefix = testPrefix('down');
const LOADER_MS = 5;

@Injectable()
class OrdersReader {
  loads = 0;

  @Cacheable({ key: (id: string) => `order:${id}`, ttlMs: 60_000 })
  async find(id: string): Promise<{ id: string; total: number }> {
    this.loads++;
    await new Promise((r) => setTimeout(r, LOADER_MS)); // the database's time
    return { id, total: 42 };
  }
}

@Controller('orders')
class OrdersController {
  constructor(private readonly orders: OrdersReader) {}

  @Get(':id')
  find(@Param('id') id: string) {
    return this.orders.find(id);
  }
}

async function startApp(url: string, lines: string[]): Promise<TestApp> {
  const caching: CachingOptions = {
    redis: { url, keyPrefix: prefix, connectTimeoutMs: 300 },
    opTimeoutMs: 50,
    circuit: { failureThreshold: 3, cooldownMs: 200 },
    warnIntervalMs: 60_000,
  };
  return createTestApp({
    imports: [
      MonitoringModule.forRoot(
        testMonitoringOptions({
          logging: { level: 'info', destination: { write: (l: string) => void lines.push(l) } },
        }),
      ),
      CachingModule.forRoot(caching),
    ],
    controllers: [OrdersController],
    providers: [OrdersReader],
  });
}

/** GET /orders/:id answered 200 with the row, and how long it took. */
async function timedGet(t: TestApp, id: string): Promise<number> {
  const started = performance.now();
  const res = await t.request.get(`/orders/${id}`);
  expect(res.status).toBe(200);
  expect(res.body).toEqual({ id, total: 42 });
  return performance.now() - started;
}

/**
 * Resolves once Redis serves the cache again: readiness says `up` with the circuit closed, and a
 * value loaded now is written to Redis (read back with a client of our own, not through the L1).
 * Returns how many loads two reads of a new id took.
 */
async function redisResumes(t: TestApp, reader: OrdersReader, id: string): Promise<number> {
  await vi.waitFor(
    async () => {
      const ready = await t.request.get('/health/ready').expect(200);
      expect(ready.body.details.redis).toMatchObject({ status: 'up', circuit: 'closed' });
    },
    { timeout: 15_000, interval: 50 },
  );
  const loads = reader.loads;
  await timedGet(t, id);
  expect(reader.loads).toBe(loads + 1);
  const redis = new Redis(REDIS_URL);
  try {
    await vi.waitFor(async () => expect(await redis.exists(`${prefix}e:order:${id}`)).toBe(1), {
      timeout: 5000,
      interval: 20,
    });
  } finally {
    redis.disconnect();
  }
  await timedGet(t, id);
  return reader.loads - loads;
}

describe('Redis down drill: the cache fails open', () => {
  const proxy = new TcpProxy(6379);
  const lines: string[] = [];
  let t: TestApp;
  let reader: OrdersReader;

  beforeAll(async () => {
    await proxy.listen();
    t = await startApp(proxy.url('redis'), lines);
    reader = t.app.get(OrdersReader);
  });

  afterAll(async () => {
    await t?.close();
    await proxy.stop();
    await removeKeys(prefix);
  });

  it('serves hits from Redis and reports redis up', async () => {
    await timedGet(t, '1');
    const loads = reader.loads;
    await timedGet(t, '1');
    expect(reader.loads).toBe(loads);
    const ready = await t.request.get('/health/ready').expect(200);
    expect(ready.body.details.redis).toMatchObject({ status: 'up', circuit: 'closed' });
  });

  it('exports cache_requests_total by result, L2 operation durations and the L1 size', async () => {
    const text = (await t.request.get('/metrics').expect(200)).text;
    expect(text).toMatch(/cache_requests_total\{cache="default",result="hit"\} [1-9]/);
    expect(text).toMatch(/cache_requests_total\{cache="default",result="miss"\} [1-9]/);
    expect(text).toMatch(/cache_requests_total\{cache="default",result="error"\} 0/);
    expect(text).toMatch(/cache_operation_duration_seconds_count\{op="get",tier="l2"\} [1-9]/);
    expect(text).toMatch(/cache_operation_duration_seconds_count\{op="load",tier="loader"\} [1-9]/);
    expect(text).toMatch(/cache_l1_entries\{cache="default"\} [1-9]/);
  });

  it('a stalled Redis: every GET still answers 200 from the loader within loader time + op timeout', async () => {
    proxy.stall();
    const durations: number[] = [];
    for (let i = 0; i < 20; i++) durations.push(await timedGet(t, `stall-${i % 5}`));
    // Bounded by the op timeout (50 ms) plus the loader; generous bound to prove there is no hang.
    expect(Math.max(...durations)).toBeLessThan(2000);
    const ready = await t.request.get('/health/ready').expect(200);
    expect(ready.body.details.redis.status).toBe('degraded');
  });

  it('Redis back after a stall → hits resume without a restart', async () => {
    await proxy.restore();
    // Two reads, one load: the second is a hit.
    expect(await redisResumes(t, reader, 'after-stall')).toBe(1);
  });

  it('a dead Redis (connections dropped, port closed): GETs answer 200 at once, readiness degraded', async () => {
    await proxy.cut();
    const durations: number[] = [];
    for (let i = 0; i < 20; i++) durations.push(await timedGet(t, `cut-${i % 5}`));
    expect(Math.max(...durations)).toBeLessThan(2000);
    const ready = await t.request.get('/health/ready').expect(200);
    expect(ready.body.details.redis.status).toBe('degraded');
  });

  it('Redis back after a cut → the client reconnects and hits resume without a restart', async () => {
    await proxy.restore();
    expect(await redisResumes(t, reader, 'after-cut')).toBe(1);
  });

  it('warned once per interval while Redis was away, not once per request', () => {
    const warnings = lines.filter((l) => l.includes('shared tier unavailable'));
    expect(warnings.length).toBeGreaterThanOrEqual(1);
    expect(warnings.length).toBeLessThanOrEqual(2);
    expect(lines.some((l) => l.includes('circuit open'))).toBe(true);
  });
});

describe('Redis unreachable at boot', () => {
  const proxy = new TcpProxy(6379);
  const lines: string[] = [];
  let t: TestApp;

  beforeAll(async () => {
    await proxy.listen();
    await proxy.cut(); // the port is known and closed
    t = await startApp(`redis://app:s3cret-pw@127.0.0.1:${proxy.port}`, lines);
  });

  afterAll(async () => {
    await t?.close();
    await proxy.stop();
  });

  it('boots degraded, answers from the loader, and never logs the password', async () => {
    expect(await timedGet(t, 'boot')).toBeLessThan(2000);
    const ready = await t.request.get('/health/ready').expect(200);
    expect(ready.body.details.redis.status).toBe('degraded');
    expect(lines.some((l) => l.includes('not reachable at boot'))).toBe(true);
    expect(lines.join('\n')).not.toContain('s3cret-pw');
  });
});
