// Caching, one run:
//  1. shared-tier hit latency: raw ioredis GET vs our L2 hit (CacheStore.get, L1 off: Keyv + our
//     ioredis store + timeout/circuit + envelope decode) vs Keyv + @keyv/redis and cache-manager +
//     @keyv/redis when `@keyv/redis` is installed (`npm i --no-save @keyv/redis@5`): the measurement
//     behind the choice of the Redis path; p50/p99 of sequential calls and ops/s;
//  2. L1 hit ops/s (CacheStore.get and getOrSet served in process);
//  3. @Cacheable method call on a hit vs a direct call of the same method.
// Ratios against the baselines of the same run are what count; absolute numbers vary on this box.
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Redis } from 'ioredis';
import { buildSampleApi } from '../lib.mjs';

const REDIS = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const OPS = Number(process.env.BENCH_OPS ?? 20_000);
const L1_OPS = Number(process.env.BENCH_L1_OPS ?? 2_000_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);

buildSampleApi();
const { CachingModule, CacheStore, Cacheable } = await import('@infrastructure/caching');

const prefix = `bench-cache-${randomBytes(4).toString('hex')}:`;
const fmt = (n) => Math.round(n).toLocaleString('en-US');
const us = (ms) => `${(ms * 1000).toFixed(1)} µs`;
// A typical small DTO (~250 bytes of JSON).
const value = {
  id: 'ord_01HZX3',
  customerId: 'cus_42',
  status: 'placed',
  totalCents: 129_900,
  currency: 'EUR',
  lines: [
    { sku: 'A-1', qty: 2, priceCents: 39_900 },
    { sku: 'B-7', qty: 1, priceCents: 50_100 },
  ],
  placedAt: '2026-11-26T10:00:00.000Z',
};

/** One round: `n` sequential awaited calls of `op`, with per-call timing. */
async function round(op, n) {
  const samples = new Float64Array(n);
  const started = performance.now();
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await op();
    samples[i] = performance.now() - t;
  }
  const total = performance.now() - started;
  samples.sort();
  return {
    p50: samples[Math.floor(n * 0.5)],
    p99: samples[Math.floor(n * 0.99)],
    opsPerSec: (n / total) * 1000,
  };
}

/**
 * Sequential latency of several ops measured in interleaved rounds (A B C A B C ...), so a noisy
 * neighbour on the shared Redis hits every contender alike; per op, the median round (by p50).
 */
async function latencies(ops, n = OPS) {
  const rounds = ops.map(() => []);
  for (const op of ops) for (let i = 0; i < Math.min(2000, n); i++) await op(); // warm-up
  for (let r = 0; r < ROUNDS; r++) {
    for (let i = 0; i < ops.length; i++) rounds[i].push(await round(ops[i], n));
  }
  return rounds.map((rs) => rs.sort((a, b) => a.p50 - b.p50)[Math.floor(rs.length / 2)]);
}

/** Throughput of an in-process op without per-op timing: best of ROUNDS. */
async function throughput(op, n = L1_OPS) {
  for (let i = 0; i < 100_000; i++) await op();
  let best = 0;
  for (let r = 0; r < ROUNDS; r++) {
    const started = performance.now();
    for (let i = 0; i < n; i++) await op();
    best = Math.max(best, (n / (performance.now() - started)) * 1000);
  }
  return best;
}

async function appWith(imports, providers = []) {
  class BenchModule {}
  Module({ imports, providers })(BenchModule);
  return NestFactory.createApplicationContext(BenchModule, { logger: false });
}

function line(label, r, base) {
  const ratio = base
    ? `  ${(r.p50 / base.p50).toFixed(2)}x raw p50, ${(r.p99 / base.p99).toFixed(2)}x raw p99`
    : '';
  console.log(
    `  ${label.padEnd(38)} p50 ${us(r.p50).padStart(9)}  p99 ${us(r.p99).padStart(9)}  ${fmt(r.opsPerSec).padStart(8)} ops/s${ratio}`,
  );
}

// 1. Shared tier -----------------------------------------------------------------------------------
const raw = new Redis(REDIS);
const rawKey = `${prefix}raw`;
const payload = JSON.stringify(value);
await raw.set(rawKey, payload);
const l2App = await appWith([
  CachingModule.forRoot({ redis: { url: REDIS, keyPrefix: `${prefix}l2:` }, l1: false }),
]);
const l2 = l2App.get(CacheStore);
await l2.set('order:1', value);
const contenders = [() => raw.get(rawKey).then(JSON.parse), () => l2.get('order:1')];
let keyv;
try {
  const { default: KeyvRedis } = await import('@keyv/redis');
  const { Keyv } = await import('keyv');
  const { createCache } = await import('cache-manager');
  keyv = new Keyv({ store: new KeyvRedis(REDIS), namespace: `${prefix}kr` });
  await keyv.set('order:1', value);
  const cm = createCache({ stores: [keyv] });
  contenders.push(
    () => keyv.get('order:1'),
    () => cm.get('order:1'),
  );
} catch (error) {
  if (error?.code !== 'ERR_MODULE_NOT_FOUND') throw error;
}
const [rawResult, oursResult, keyvRedisResult, cacheManagerResult] = await latencies(contenders);
if (keyv) {
  await keyv.delete('order:1');
  await keyv.disconnect();
}

console.log(
  `\nshared tier hit, ${fmt(OPS)} sequential GETs of a ${payload.length}-byte JSON value (median of ${ROUNDS} interleaved rounds):`,
);
line('raw ioredis GET + JSON.parse', rawResult);
line('ours: CacheStore.get (L2, L1 off)', oursResult, rawResult);
if (keyvRedisResult) line('Keyv + @keyv/redis', keyvRedisResult, rawResult);
if (cacheManagerResult) line('cache-manager + Keyv + @keyv/redis', cacheManagerResult, rawResult);
if (!keyvRedisResult)
  console.log('  (@keyv/redis not installed: npm i --no-save @keyv/redis@5 to compare)');
console.log(`  goal: L2 hit <= 1.2x raw ioredis latency`);
await l2App.close();

// 2. L1 ----------------------------------------------------------------------------------------------
const l1App = await appWith([
  CachingModule.forRoot({
    redis: { url: REDIS, keyPrefix: `${prefix}l1:` },
    l1: { maxEntries: 10_000, ttlMs: 600_000 },
  }),
]);
const l1 = l1App.get(CacheStore);
await l1.set('order:1', value, { ttlMs: 600_000 });
await l1.get('order:1'); // fills L1
const l1Get = await throughput(() => l1.get('order:1'));
const loader = async () => value;
const l1GetOrSet = await throughput(() => l1.getOrSet('order:1', loader, { ttlMs: 600_000 }));
console.log(`\nL1 hit, ${fmt(L1_OPS)} awaited calls (best of ${ROUNDS}):`);
console.log(`  CacheStore.get                         ${fmt(l1Get)} ops/s`);
console.log(
  `  CacheStore.getOrSet                    ${fmt(l1GetOrSet)} ops/s   (goal: L1 hit >= 1,000,000 ops/s)`,
);

// 3. @Cacheable --------------------------------------------------------------------------------------
class Orders {
  async direct(id) {
    return { ...value, id };
  }
  async cached(id) {
    return { ...value, id };
  }
}
const descriptor = Object.getOwnPropertyDescriptor(Orders.prototype, 'cached');
Object.defineProperty(
  Orders.prototype,
  'cached',
  Cacheable({ key: (id) => `order:${id}`, ttlMs: 600_000 })(Orders.prototype, 'cached', descriptor),
);
Injectable()(Orders);
const decoratedApp = await appWith(
  [
    CachingModule.forRoot({
      redis: { url: REDIS, keyPrefix: `${prefix}dec:` },
      l1: { maxEntries: 10_000, ttlMs: 600_000 },
    }),
  ],
  [Orders],
);
const orders = decoratedApp.get(Orders);
await orders.cached('1');
// Let the background L2 write of that first miss finish before the CPU-bound loop below starves I/O.
await new Promise((r) => setTimeout(r, 200));
const direct = await throughput(() => orders.direct('1'));
const cached = await throughput(() => orders.cached('1'));
console.log(`\n@Cacheable on a hit (L1) vs a direct call of the same async method:`);
console.log(
  `  direct call                            ${fmt(direct)} calls/s  (${(1e9 / direct).toFixed(0)} ns/call)`,
);
console.log(
  `  @Cacheable hit                         ${fmt(cached)} calls/s  (${(1e9 / cached).toFixed(0)} ns/call, +${(1e9 / cached - 1e9 / direct).toFixed(0)} ns overhead)`,
);
await decoratedApp.close();
await l1App.close();

// Cleanup: only our prefix.
let cursor = '0';
do {
  const [next, keys] = await raw.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
  cursor = next;
  if (keys.length) await raw.unlink(...keys);
} while (cursor !== '0');
raw.disconnect();
process.exit(0);
