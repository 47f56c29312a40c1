// What the whole stack costs per request: `GET /v1/orders/:id` on the built sample API
// (NODE_ENV=production, embedded defaults otherwise: SQLite in a temp dir, in-memory cache,
// in-process bus; bearer token of the `compose-demo` client, rate limit on but high enough not to
// trip, cached reads) against a bare Nest app answering the same JSON from a Map (bare.mjs), each
// in its own process, autocannon here. BENCH_ADAPTER=fastify runs both on Fastify (the sample's
// HTTP_ADAPTER).
//
// The breakdown: the same app with one component off (variant.mjs: the sample's createApp on a
// root module compiled through @nestjs/testing overrides; no env switch in the sample) — auth,
// rate limit, cache, validation, helmet, monitoring — plus the access log (LOG_LEVEL=warn),
// "monitoring alone" (everything but monitoring off) and the full stack with REDIS_URL (cache and
// rate limits in Redis, BENCH_REDIS_URL else redis://127.0.0.1:6379, a key prefix per run).
// BENCH_VARIANTS=<key,...> runs only some (keys: full-t auth ratelimit cache validation helmet
// monitoring accesslog monitoring-alone redis; the full stack always runs).
//
// Rounds alternate every contender (in an order that rotates each round) so a drift of the box
// hits all of them; per round and over all rounds: req/s, p50/p99, server CPU µs per request,
// ratios against bare, each component's µs/req (per round and median) and the goal's ratios.
// BENCH_FLAT=<s>: then the full stack and bare for <s> s each in 10-s windows (req/s per window,
// drift first→last). Every answer must be a 200 with
// the bare app's JSON (checked before the rounds, with each variant's switches).
import { spawn } from 'node:child_process';
import { deepStrictEqual } from 'node:assert';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import {
  buildSampleApi,
  cpuMs,
  freePort,
  root,
  serverNode,
  serverNodeVersion,
  startServerProcess,
  SAMPLE_PRODUCTION_ENV,
  sampleToken,
} from '../lib.mjs';

const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
const DURATION = Number(process.env.BENCH_DURATION ?? 10);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const ADAPTER = process.env.BENCH_ADAPTER ?? 'express';
const IDS = Number(process.env.BENCH_IDS ?? 8);
const BODY = JSON.stringify({
  customerId: 'cust-bench',
  sku: 'SKU-1',
  quantity: 2,
  unitPriceCents: 1999,
});

const ALL_OFF = ['auth', 'ratelimit', 'cache', 'validation', 'helmet'];
/**
 * The contenders besides bare. `entry`: the sample's main, or variant.mjs (the same app through
 * `@nestjs/testing` overrides, BENCH_OFF components off). `base`: the variant a delta is taken
 * against (built the same way). `off`: what the checks expect switched off.
 */
const VARIANTS = [
  { key: 'full', name: 'full stack', entry: 'main' },
  { key: 'full-t', name: 'full stack (testing module)', entry: 'variant', off: [] },
  ...[
    ['auth', 'auth off'],
    ['ratelimit', 'rate limit off'],
    ['cache', 'cache off (Map)'],
    ['validation', 'validation off'],
    ['helmet', 'helmet off'],
    ['monitoring', 'monitoring off'],
  ].map(([off, name]) => ({ key: off, name, entry: 'variant', off: [off], base: 'full-t' })),
  {
    key: 'accesslog',
    name: 'access log off (LOG_LEVEL=warn)',
    entry: 'main',
    env: { LOG_LEVEL: 'warn' },
    base: 'full',
  },
  {
    key: 'monitoring-alone',
    name: 'monitoring alone',
    entry: 'variant',
    off: ALL_OFF,
    base: 'full-t',
  },
  {
    key: 'redis',
    name: 'full stack, REDIS_URL',
    entry: 'main',
    env: {
      REDIS_URL: process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379',
      // Per run: nothing of an earlier run (cache entries, rate-limit counters) is read back.
      CACHE_KEY_PREFIX: `bench-full-stack-${process.pid}-${Date.now()}:`,
    },
  },
].filter(
  (v, i) =>
    i === 0 || !process.env.BENCH_VARIANTS || process.env.BENCH_VARIANTS.split(',').includes(v.key),
);
/** BENCH_FLAT=<s>: after the rounds, the full stack then bare for <s> s each, req/s per 10-s window. */
const FLAT = Number(process.env.BENCH_FLAT ?? 0);

const dir = mkdtempSync(join(tmpdir(), 'bench-full-stack-'));
const children = [];

/**
 * Starts an instance of the built sample API with `env` added, its output in a file of `dir`,
 * and resolves once `/health/live` answers 200: `{ child, url, log }`.
 */
async function startSample(name, env, entry = 'main', off = []) {
  const port = await freePort();
  const log = join(dir, `${name.replace(/\W+/g, '-')}.log`);
  const fd = openSync(log, 'w');
  const script =
    entry === 'main' ? 'dist/apps/sample-api/src/main.js' : 'bench/full-stack/variant.mjs';
  const child = spawn(serverNode, [script], {
    cwd: root,
    env: {
      PATH: process.env.PATH,
      HTTP_ADAPTER: ADAPTER,
      ...SAMPLE_PRODUCTION_ENV,
      PORT: String(port),
      HOST: '127.0.0.1',
      METRICS_PORT: String(await freePort()),
      DATABASE_URL: `sqlite:${join(dir, 'sample.db')}`,
      SHUTDOWN_READINESS_DELAY_MS: '0',
      ...(process.env.BENCH_APP_NODE_OPTIONS
        ? { NODE_OPTIONS: process.env.BENCH_APP_NODE_OPTIONS }
        : {}),
      ...(entry === 'variant' ? { BENCH_OFF: off.join(',') } : {}),
      ...env,
    },
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  children.push(child);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null || Date.now() > deadline) {
      throw new Error(`sample (${name}) did not start:\n${readFileSync(log, 'utf8').slice(-4000)}`);
    }
    const ok = await fetch(`${url}/health/live`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) return { child, url, log };
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** GET `url` with `headers`: `{ status, body }`. */
async function getJson(url, headers = {}) {
  const res = await fetch(url, { headers });
  return { status: res.status, body: await res.json().catch(() => undefined) };
}

/** Places IDS orders and waits until the payment answer settled each (evicting its cache entry). */
async function placeOrders(url, auth) {
  const ids = [];
  for (let i = 0; i < IDS; i++) {
    const res = await fetch(`${url}/v1/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...auth },
      body: BODY,
    });
    if (res.status !== 201) throw new Error(`POST /v1/orders: ${res.status} ${await res.text()}`);
    ids.push((await res.json()).id);
  }
  const deadline = Date.now() + 30_000;
  for (;;) {
    const orders = await Promise.all(ids.map((id) => getJson(`${url}/v1/orders/${id}`, auth)));
    if (orders.every((o) => o.status === 200 && o.body.status !== 'placed')) {
      return orders.map((o) => o.body);
    }
    if (Date.now() > deadline) throw new Error('orders still placed after 30 s');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/**
 * Loads `server` with CONNECTIONS connections for `duration` s of `GET /v1/orders/:id` cycling
 * over `ids`: requests/s, p50/p99, server CPU µs per request, answers other than 200 (`wrong`)
 * and transport errors.
 */
async function load(server, duration, ids, headers) {
  let next = 0;
  const cpu0 = cpuMs(server.child.pid);
  const r = await autocannon({
    url: server.url,
    connections: CONNECTIONS,
    duration,
    requests: [
      {
        method: 'GET',
        headers,
        setupRequest: (req) => ({ ...req, path: `/v1/orders/${ids[next++ % ids.length]}` }),
      },
    ],
  });
  const cpu = cpuMs(server.child.pid) - cpu0;
  const total = r.requests.total;
  return {
    rps: total / duration,
    p50: r.latency.p50,
    p99: r.latency.p99,
    cpuUs: (cpu * 1000) / total,
    wrong: Object.entries(r.statusCodeStats)
      .filter(([code]) => Number(code) !== 200)
      .reduce((n, [, stats]) => n + stats.count, 0),
    errors: r.errors,
  };
}

const failures = (r) => r.wrong + r.errors;
const fmt = (r) =>
  `${r.rps.toFixed(0).padStart(6)} req/s  p50 ${String(r.p50).padStart(3)} ms  p99 ${String(r.p99).padStart(4)} ms  cpu ${r.cpuUs.toFixed(0).padStart(4)} µs/req${r.wrong ? `  non-200 ${r.wrong}` : ''}${r.errors ? `  errors ${r.errors}` : ''}`;
const avg = (rs, k) => rs.reduce((s, r) => s + r[k], 0) / rs.length;
const mean = (rs) => ({
  rps: avg(rs, 'rps'),
  p50: Math.max(...rs.map((r) => r.p50)),
  p99: Math.max(...rs.map((r) => r.p99)),
  cpuUs: avg(rs, 'cpuUs'),
  wrong: rs.reduce((s, r) => s + r.wrong, 0),
  errors: rs.reduce((s, r) => s + r.errors, 0),
});
const median = (xs) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const signed = (x) => `${x >= 0 ? '+' : ''}${x.toFixed(0)}`;
/** `ours` against `bare`, and against its `base` variant when it has one: ratios, CPU delta. */
const vs = (ours, bare, base) =>
  `  ${(ours.rps / bare.rps).toFixed(2)}x req/s, ${(ours.cpuUs / bare.cpuUs).toFixed(2)}x cpu of bare` +
  (base ? `; ${signed(ours.cpuUs - base.cpuUs)} µs/req vs ${base.name}` : '');
const label = (name) => name.padEnd(36);
/** A result named after its contender (for the `vs <base>` of a line). */
const named = (r, c) => (r ? { ...r, name: c.name.replace(/^sample: /, '') } : undefined);

/**
 * What each variant must show of the components it has on or off, besides answering the same
 * JSON: without a token 200 only with auth off; a RateLimit-Limit header only with the rate limit;
 * helmet's Content-Security-Policy only with helmet; the x-correlation-id only with monitoring;
 * a 400 for a non-UUID id only with validation (404 without the ParseUUIDPipe).
 */
async function checkSwitches(s, auth, id) {
  const off = new Set(s.off ?? []);
  const anonymous = await fetch(`${s.url}/v1/orders/${id}`);
  await anonymous.arrayBuffer();
  const res = await fetch(`${s.url}/v1/orders/${id}`, { headers: auth });
  await res.arrayBuffer();
  const bad = await fetch(`${s.url}/v1/orders/not-a-uuid`, { headers: auth });
  await bad.arrayBuffer();
  deepStrictEqual(
    {
      anonymous: anonymous.status,
      rateLimitHeader: res.headers.has('ratelimit-limit'),
      csp: res.headers.has('content-security-policy'),
      correlationId: res.headers.has('x-correlation-id'),
      notAUuid: bad.status,
    },
    {
      anonymous: off.has('auth') ? 200 : 401,
      rateLimitHeader: !off.has('ratelimit'),
      csp: !off.has('helmet'),
      correlationId: !off.has('monitoring'),
      notAUuid: off.has('validation') ? 404 : 400,
    },
    `${s.name}: a component is not in the state the variant says`,
  );
}

/** Loads `c` for `seconds` in 10-s windows: req/s per window, drift of the last from the first. */
async function flat(c, seconds, ids) {
  const windows = [];
  for (let t = 0; t < seconds; t += 10) {
    const r = await load(c.server, Math.min(10, seconds - t), ids, c.headers);
    if (failures(r) > 0) throw new Error(`${failures(r)} requests failed (flat, ${c.name})`);
    windows.push(r);
  }
  const drift = windows.at(-1).rps / windows[0].rps - 1;
  console.log(
    `  flat     ${label(c.name)} ${windows.map((w) => w.rps.toFixed(0)).join(' ')} req/s per 10 s; ` +
      `cpu ${windows.map((w) => w.cpuUs.toFixed(0)).join(' ')} µs/req; ` +
      `drift first→last ${(drift * 100).toFixed(1)}%`,
  );
  return windows;
}

buildSampleApi();
try {
  // The first instance migrates the SQLite file and places the orders (settled before the others
  // start, so no other process's relay takes their events); the variants read the same file.
  const first = VARIANTS[0];
  const samples = [{ ...first, ...(await startSample(first.name, first.env)) }];
  const auth = { authorization: `Bearer ${await sampleToken(samples[0].url)}` };
  const orders = await placeOrders(samples[0].url, auth);
  for (const v of VARIANTS.slice(1)) {
    samples.push({ ...v, ...(await startSample(v.name, v.env, v.entry, v.off)) });
  }
  const ids = orders.map((o) => o.id);
  writeFileSync(join(dir, 'orders.json'), JSON.stringify(orders));
  const bareServer = await startServerProcess(
    'bench/full-stack/bare.mjs',
    { BENCH_ORDERS_FILE: join(dir, 'orders.json'), BENCH_ADAPTER: ADAPTER },
    'bare Nest',
  );
  children.push(bareServer.child);
  const bare = { child: bareServer.child, url: `http://127.0.0.1:${bareServer.port}` };

  // Every contender answers every id with the same JSON; each variant has on what it says.
  for (const s of [bare, ...samples]) {
    for (const o of orders) {
      const got = await getJson(`${s.url}/v1/orders/${o.id}`, auth);
      deepStrictEqual({ status: got.status, body: got.body }, { status: 200, body: o });
    }
  }
  for (const s of samples) await checkSwitches(s, auth, ids[0]);

  console.log(
    `\nfull-stack: GET /v1/orders/:id cycling over ${ids.length} orders, ${ADAPTER}, ` +
      `${CONNECTIONS} connections, ${ROUNDS} rounds of ${DURATION} s, servers on node ${serverNodeVersion}; ` +
      `sample: NODE_ENV=production, SQLite, memory cache, in-process bus, bearer token, rate limit 1,000,000/min`,
  );
  console.log(
    '  check    bare and every sample variant answer the same JSON for every id; each variant ' +
      'has auth / rate limit / helmet / monitoring / validation on or off as it says',
  );

  const contenders = [{ name: 'bare Nest (Map)', key: 'bare', server: bare, headers: {} }].concat(
    samples.map((s) => ({
      name: `sample: ${s.name}`,
      key: s.key,
      base: s.base,
      server: s,
      headers: auth,
    })),
  );
  const indexOf = (key) => contenders.findIndex((c) => c.key === key);
  // A variant's delta is taken against its base (the full stack built the same way) if it runs.
  const baseOf = (c) => {
    const i = indexOf(c.base ?? '');
    return i > 0 ? i : c.key === 'full' || !c.base ? -1 : indexOf('full');
  };
  for (const c of contenders) {
    const warm = await load(c.server, 2, ids, c.headers); // JIT, the sample's cache
    if (failures(warm) > 0) {
      console.log(`  warm-up  ${label(c.name)} ${fmt(warm)}`);
      throw new Error(`${failures(warm)} requests failed during the warm-up of ${c.name}`);
    }
  }
  // What each server burns with no request (timers, pollers, relays): it inflates its µs/req.
  const idle0 = contenders.map((c) => cpuMs(c.server.child.pid));
  await new Promise((resolve) => setTimeout(resolve, 3000));
  const idle = contenders.map((c, i) => (cpuMs(c.server.child.pid) - idle0[i]) / 3);
  console.log(
    `  idle     cpu ms/s with no request: ${contenders.map((c, i) => `${c.name.replace(/^sample: /, '')} ${idle[i].toFixed(0)}`).join(', ')}`,
  );
  const results = contenders.map(() => []);
  for (let round = 1; round <= ROUNDS; round++) {
    // The order rotates each round: a contender is not always the one run right after bare (an
    // A/A run, the full stack against an identical copy, moved -35/+6/+12 µs/req in fixed order).
    const rs = Array.from({ length: contenders.length });
    for (let k = 0; k < contenders.length; k++) {
      const i = (k + round - 1) % contenders.length;
      const c = contenders[i];
      rs[i] = await load(c.server, DURATION, ids, c.headers);
    }
    for (const [i, c] of contenders.entries()) {
      results[i].push(rs[i]);
      const b = baseOf(c);
      console.log(
        `  round ${round}  ${label(c.name)} ${fmt(rs[i])}` +
          (i ? vs(rs[i], rs[0], b > 0 ? named(rs[b], contenders[b]) : undefined) : ''),
      );
    }
    const failed = rs.reduce((n, r) => n + failures(r), 0);
    if (failed > 0) throw new Error(`${failed} requests failed in round ${round}`);
  }
  if (ROUNDS > 0) {
    const all = results.map(mean);
    for (const [i, c] of contenders.entries()) {
      const b = baseOf(c);
      console.log(
        `  all      ${label(c.name)} ${fmt(all[i])}` +
          (i ? vs(all[i], all[0], b > 0 ? named(all[b], contenders[b]) : undefined) : ''),
      );
    }
    // Per component: its CPU µs/req (full stack minus the variant without it), per round, median.
    console.log('  breakdown: µs/req a component costs (its base minus the variant without it)');
    for (const [i, c] of contenders.entries()) {
      const b = baseOf(c);
      if (i === 0 || b < 0) continue;
      const deltas = results[i].map((r, round) => results[b][round].cpuUs - r.cpuUs);
      console.log(
        `    ${label(c.name.replace(/^sample: /, ''))} ${deltas.map((d) => signed(d).padStart(5)).join(' ')}  median ${signed(median(deltas))} µs/req`,
      );
    }
    const ratioLine = (what, key, over, of) => {
      const i = indexOf(key);
      const j = over === 'bare' ? 0 : indexOf(over);
      if (i < 0 || j < 0) return;
      const per = results[i].map((r, round) =>
        of === 'rps' ? r.rps / results[j][round].rps : r.cpuUs / results[j][round].cpuUs,
      );
      console.log(
        `  goal     ${what.padEnd(60)} ${per.map((x) => x.toFixed(2)).join(' ')}  median ${median(per).toFixed(2)}`,
      );
    };
    ratioLine('full stack / bare, req/s (≥ 0.50)', 'full', 'bare', 'rps');
    ratioLine('full stack, REDIS_URL / bare, req/s (≥ 0.40)', 'redis', 'bare', 'rps');
    ratioLine(
      'full stack / monitoring alone, cpu µs/req (≤ 1.15)',
      'full-t',
      'monitoring-alone',
      'cpu',
    );
    ratioLine('monitoring alone / full stack, req/s', 'monitoring-alone', 'full-t', 'rps');
  }
  if (FLAT > 0) {
    console.log(`  flatness: ${FLAT} s each, one contender at a time`);
    for (const key of ['full', 'bare']) await flat(contenders[indexOf(key)], FLAT, ids);
  }
} finally {
  await Promise.all(
    children.map(
      (child) =>
        new Promise((resolve) => {
          if (child.exitCode !== null) return resolve();
          const kill = setTimeout(() => child.kill('SIGKILL'), 30_000);
          child.once('exit', () => {
            clearTimeout(kill);
            resolve();
          });
          child.kill('SIGTERM');
        }),
    ),
  );
  // BENCH_KEEP_LOGS=1: the instances' output (one file per variant) stays for a look.
  if (process.env.BENCH_KEEP_LOGS === '1') console.log(`  logs     kept in ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
}
