// What the whole stack costs per request: `GET /v1/orders/:id` on the built sample API
// (NODE_ENV=production, embedded defaults otherwise: SQLite in a temp dir, in-memory cache,
// in-process bus; bearer token of the `compose-demo` client, rate limit on but high enough not to
// trip, cached reads) against a bare Nest app answering the same JSON from a Map (bare.mjs), each
// in its own process, autocannon here. BENCH_ADAPTER=fastify runs both on Fastify (the sample's
// HTTP_ADAPTER). Rounds alternate bare, sample and the breakdown variants (the sample with one
// component switched off by its env switch) so a drift of the box hits all of them; per round and
// over all rounds: req/s, p50/p99, server CPU µs per request, sample/bare ratios. Every answer must
// be a 200 (the lines count the others; the bench then fails).
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

/** The sample with one component off, by the env switch the sample has for it. */
const VARIANTS = [
  { name: 'full stack', env: {} },
  {
    name: 'rate limit off',
    env: { RATE_LIMIT_PER_MINUTE: '0' },
    switch: 'RATE_LIMIT_PER_MINUTE=0',
  },
  { name: 'access log off', env: { LOG_LEVEL: 'warn' }, switch: 'LOG_LEVEL=warn' },
  {
    name: 'rate limit + access log off',
    env: { RATE_LIMIT_PER_MINUTE: '0', LOG_LEVEL: 'warn' },
    switch: 'both',
  },
];
/** Components the sample has no env switch for: measured only as part of the whole. */
const NO_SWITCH = [
  'cache (the memory store without REDIS_URL; CACHE_L1_MAX_ENTRIES only sizes the L1 in front of Redis, and the order view sets its own 30 s TTL)',
  'helmet (setupSecurity always)',
  'validation (ParseUUIDPipe on :id, the global ValidationPipe)',
  'auth (bearer JWT guard + orders:read scope)',
  'monitoring other than the access log (correlation id / context, HTTP metrics, problem filter)',
];

const dir = mkdtempSync(join(tmpdir(), 'bench-full-stack-'));
const children = [];

/**
 * Starts an instance of the built sample API with `env` added, its output in a file of `dir`,
 * and resolves once `/health/live` answers 200: `{ child, url, log }`.
 */
async function startSample(name, env) {
  const port = await freePort();
  const log = join(dir, `${name.replace(/\W+/g, '-')}.log`);
  const fd = openSync(log, 'w');
  const child = spawn(serverNode, ['dist/apps/sample-api/src/main.js'], {
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
/** `ours` against `bare` (and the full stack, for a variant): req/s and CPU ratios. */
const vs = (ours, bare, full) =>
  `  ${(ours.rps / bare.rps).toFixed(2)}x req/s, ${(ours.cpuUs / bare.cpuUs).toFixed(2)}x cpu of bare` +
  (full && full !== ours ? `; ${(ours.cpuUs - full.cpuUs).toFixed(0)} µs/req vs full` : '');
const label = (name) => name.padEnd(35);

buildSampleApi();
try {
  // The first instance migrates the SQLite file and places the orders (settled before the others
  // start, so no other process's relay takes their events); the variants read the same file.
  const samples = [{ ...VARIANTS[0], ...(await startSample(VARIANTS[0].name, VARIANTS[0].env)) }];
  const auth = { authorization: `Bearer ${await sampleToken(samples[0].url)}` };
  const orders = await placeOrders(samples[0].url, auth);
  for (const v of VARIANTS.slice(1)) samples.push({ ...v, ...(await startSample(v.name, v.env)) });
  const ids = orders.map((o) => o.id);
  writeFileSync(join(dir, 'orders.json'), JSON.stringify(orders));
  const bareServer = await startServerProcess(
    'bench/full-stack/bare.mjs',
    { BENCH_ORDERS_FILE: join(dir, 'orders.json'), BENCH_ADAPTER: ADAPTER },
    'bare Nest',
  );
  children.push(bareServer.child);
  const bare = { child: bareServer.child, url: `http://127.0.0.1:${bareServer.port}` };

  // Every contender answers every id with the same JSON.
  for (const s of [bare, ...samples]) {
    for (const o of orders) {
      const got = await getJson(`${s.url}/v1/orders/${o.id}`, auth);
      deepStrictEqual({ status: got.status, body: got.body }, { status: 200, body: o });
    }
  }

  console.log(
    `\nfull-stack: GET /v1/orders/:id cycling over ${ids.length} orders, ${ADAPTER}, ` +
      `${CONNECTIONS} connections, ${ROUNDS} rounds of ${DURATION} s, servers on node ${serverNodeVersion}; ` +
      `sample: NODE_ENV=production, SQLite, memory cache, in-process bus, bearer token, rate limit 1,000,000/min`,
  );
  console.log('  check    bare and every sample variant answer the same JSON for every id');

  const contenders = [{ name: 'bare Nest (Map)', server: bare, headers: {} }].concat(
    samples.map((s) => ({ name: `sample: ${s.name}`, server: s, headers: auth })),
  );
  for (const c of contenders) {
    const warm = await load(c.server, 2, ids, c.headers); // JIT, the sample's cache
    if (failures(warm) > 0) {
      console.log(`  warm-up  ${label(c.name)} ${fmt(warm)}`);
      throw new Error(`${failures(warm)} requests failed during the warm-up of ${c.name}`);
    }
  }
  const results = contenders.map(() => []);
  for (let round = 1; round <= ROUNDS; round++) {
    const rs = [];
    for (const c of contenders) rs.push(await load(c.server, DURATION, ids, c.headers));
    for (const [i, c] of contenders.entries()) {
      results[i].push(rs[i]);
      console.log(
        `  round ${round}  ${label(c.name)} ${fmt(rs[i])}${i ? vs(rs[i], rs[0], rs[1]) : ''}`,
      );
    }
    const failed = rs.reduce((n, r) => n + failures(r), 0);
    if (failed > 0) throw new Error(`${failed} requests failed in round ${round}`);
  }
  const all = results.map(mean);
  for (const [i, c] of contenders.entries()) {
    console.log(`  all      ${label(c.name)} ${fmt(all[i])}${i ? vs(all[i], all[0], all[1]) : ''}`);
  }
  console.log(
    `  switches ${VARIANTS.filter((v) => v.switch && v.switch !== 'both')
      .map((v) => `${v.name}: ${v.switch}`)
      .join('; ')}`,
  );
  for (const c of NO_SWITCH) console.log(`  no env switch, not measured apart: ${c}`);
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
  rmSync(dir, { recursive: true, force: true });
}
