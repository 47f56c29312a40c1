// Caching, one run:
//  1. shared-tier hit, raw ioredis GET vs our L2 hit (CacheStore.get, L1 off: our ioredis store +
//     timeout/circuit + envelope decode) vs cache-manager + Keyv + @keyv/redis (what
//     @nestjs/cache-manager runs; @keyv/redis is a dev dependency):
//     a. ops/s with BENCH_CONCURRENCY (32) gets in flight, b. p50/p99 of sequential gets.
//     Every contender runs in every round, in a rotating order (A B C, B C A, ...; the sequential
//     calls alternate call by call), and the ratio is taken per round, then the median: loopback latency on this VM flips between two levels for
//     seconds at a time, so a baseline measured in one phase and ours in another says nothing;
//  2. L1 hit ops/s (CacheStore.get and getOrSet served in process);
//  3. @Cacheable method call on a hit vs a direct call of the same method.
// Ratios against the baselines of the same rounds are what count; absolute numbers vary on this box.
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Redis } from 'ioredis';
import { buildSampleApi } from '../lib.mjs';

const REDIS = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const L1_OPS = Number(process.env.BENCH_L1_OPS ?? 2_000_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
const CONCURRENT_OPS = Number(process.env.BENCH_CONCURRENT_OPS ?? 20_000);
const L2_ROUNDS = Number(process.env.BENCH_L2_ROUNDS ?? 9);
const SEQ_OPS = Number(process.env.BENCH_SEQ_OPS ?? 4_000);

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

/**
 * One round of sequential calls, the contenders alternating call by call (A B C, B C A, ...):
 * `n` timed calls of each, so a latency flip of the box lands on all of them alike. p50/p99 each.
 */
async function sequential(ops, n) {
  const samples = ops.map(() => new Float64Array(n));
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < ops.length; j++) {
      const k = (i + j) % ops.length;
      const t = performance.now();
      await ops[k]();
      samples[k][i] = performance.now() - t;
    }
  }
  return samples.map((s) => {
    s.sort();
    return { p50: s[Math.floor(n * 0.5)], p99: s[Math.floor(n * 0.99)] };
  });
}

/** `n` calls of `op` with `concurrency` of them in flight (closed loop): ops/s. */
async function concurrent(op, n, concurrency = CONCURRENCY) {
  let left = n;
  const worker = async () => {
    while (left-- > 0) await op();
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { opsPerSec: (n / (performance.now() - started)) * 1000 };
}

/**
 * Runs `measure(op)` for every op in each of `rounds` rounds, in a rotating order, so every
 * contender sees each phase of a noisy box; returns the results per round (`[round][op]`).
 */
async function interleaved(ops, measure, rounds, label) {
  const all = [];
  for (let r = 0; r < rounds; r++) {
    const results = Array.from({ length: ops.length });
    for (let j = 0; j < ops.length; j++) {
      const i = (r + j) % ops.length;
      results[i] = await measure(ops[i]);
    }
    all.push(results);
    label?.(r, results);
  }
  return all;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const x = (ratio) => `${ratio.toFixed(2)}×`;
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
const names = ['raw ioredis GET + JSON.parse', 'ours: CacheStore.get (L2, L1 off)'];
const short = ['raw', 'ours'];
const contenders = [() => raw.get(rawKey).then(JSON.parse), () => l2.get('order:1')];
let keyv;
try {
  const { default: KeyvRedis } = await import('@keyv/redis');
  const { Keyv } = await import('keyv');
  const { createCache } = await import('cache-manager');
  keyv = new Keyv({ store: new KeyvRedis(REDIS), namespace: `${prefix}kr` });
  await keyv.set('order:1', value);
  const cm = createCache({ stores: [keyv] });
  names.push('cache-manager + Keyv + @keyv/redis');
  short.push('cm+keyv-redis');
  contenders.push(() => cm.get('order:1'));
} catch (error) {
  if (error?.code !== 'ERR_MODULE_NOT_FOUND') throw error;
}
for (const op of contenders) {
  await concurrent(op, 2000); // warm-up
  for (let i = 0; i < 1000; i++) await op();
}

/** One line per round: every contender's number, then ours (index 1) against each other one. */
function roundLine(r, cells, ratios, what) {
  const parts = cells.map((c, i) => `${short[i]} ${c}`);
  const vs = ratios.map((q, i) => (i === 1 ? '' : `${x(q)} ${short[i]}`)).filter(Boolean);
  console.log(
    `  round ${String(r + 1).padStart(2)}: ${parts.join('  ')}   ours ${what} ${vs.join(', ')}`,
  );
}

console.log(
  `\nshared tier hit, ${CONCURRENCY} gets in flight, ${fmt(CONCURRENT_OPS)} gets of a ${payload.length}-byte JSON value per contender per round (${L2_ROUNDS} interleaved rounds):`,
);
const conc = await interleaved(
  contenders,
  (op) => concurrent(op, CONCURRENT_OPS),
  L2_ROUNDS,
  (r, res) =>
    roundLine(
      r,
      res.map((c) => `${fmt(c.opsPerSec).padStart(7)} ops/s`),
      res.map((c) => res[1].opsPerSec / c.opsPerSec),
      'ops/s',
    ),
);
for (let i = 0; i < contenders.length; i++) {
  const ops = median(conc.map((res) => res[i].opsPerSec));
  const ratio =
    i === 1
      ? ''
      : `  ours ${x(median(conc.map((res) => res[1].opsPerSec / res[i].opsPerSec)))} (median of per-round ratios)`;
  console.log(`  ${names[i].padEnd(38)} median ${fmt(ops).padStart(8)} ops/s${ratio}`);
}
if (contenders.length < 3)
  console.log('  (@keyv/redis not installed: npm i --no-save @keyv/redis@5 to compare)');
console.log(`  goal: ours >= 1.0x raw ioredis and >= 1.0x cache-manager + @keyv/redis`);

console.log(
  `\nshared tier hit, ${fmt(SEQ_OPS)} sequential gets per contender per round, alternating call by call (${L2_ROUNDS} rounds):`,
);
const seq = [];
for (let r = 0; r < L2_ROUNDS; r++) {
  const res = await sequential(contenders, SEQ_OPS);
  seq.push(res);
  roundLine(
    r,
    res.map((c) => `p50 ${us(c.p50).padStart(8)}`),
    res.map((c) => res[1].p50 / c.p50),
    'p50',
  );
}
for (let i = 0; i < contenders.length; i++) {
  const p50 = median(seq.map((res) => res[i].p50));
  const p99 = median(seq.map((res) => res[i].p99));
  const ratio =
    i === 0
      ? ''
      : `  ${x(median(seq.map((res) => res[i].p50 / res[0].p50)))} raw p50, ${x(median(seq.map((res) => res[i].p99 / res[0].p99)))} raw p99 (medians of per-round ratios)`;
  console.log(
    `  ${names[i].padEnd(38)} p50 ${us(p50).padStart(9)}  p99 ${us(p99).padStart(9)}${ratio}`,
  );
}
console.log(`  goal: ours p50 <= 1.2x raw ioredis`);
if (keyv) {
  await keyv.delete('order:1');
  await keyv.disconnect();
}
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
