// Order throughput on PostgreSQL: authenticated `POST /v1/orders` against two production-mode
// instances of the built sample API (event-sourced order, inline `orders` projection, outbox, all
// in one transaction; the relay publishing to BENCH_TRANSPORT), against the baseline in the same
// run: two plain `node:http` + `pg` processes inserting the same rows (order, event, outbox) in one
// transaction (bench/orders/baseline.mjs). Rounds alternate baseline and sample so a drift of the
// box hits both; each round loads both instances at once (half the connections each).
// Prints per round and in total: orders/s, p50/p99 and server CPU µs per order, and the ratio.
// Then (unless BENCH_READS=0) a reads phase on the same processes: authenticated
// `GET /v1/orders/:id` cycling over up to BENCH_READ_IDS orders placed by the write phase (through
// the sample's cache: the in-process L1, or Redis behind it with BENCH_REDIS_URL), against the
// baselines' `SELECT … WHERE id = $1` on their own table; reads/s, p50/p99, CPU µs per read, ratio.
// Every write must be a 201 and every read a 200 (the lines count the others; the bench then fails).
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import autocannon from 'autocannon';
import { Client } from 'pg';
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

const PG = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
const DURATION = Number(process.env.BENCH_DURATION ?? 10);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const POOL_MAX = Number(process.env.BENCH_POOL_MAX ?? 10);
const TRANSPORT = process.env.BENCH_TRANSPORT ?? 'memory';
const READS = process.env.BENCH_READS !== '0';
const READ_IDS = Number(process.env.BENCH_READ_IDS ?? 1000);
// Unset: the sample caches in process (embedded defaults); set: REDIS_URL of the instances.
const REDIS_URL = process.env.BENCH_REDIS_URL;
const INSTANCES = 2;
const BODY = JSON.stringify({
  customerId: 'cust-bench',
  sku: 'SKU-1',
  quantity: 2,
  unitPriceCents: 1999,
});

const id = randomUUID().slice(0, 8);
const baseSchema = `bench_orders_base_${id}`;
const appSchema = `bench_orders_app_${id}`;

/** Starts `args` and resolves once its output contains `marker` (the rest is drained). */
async function start(args, env, marker, label) {
  const child = spawn(serverNode, args, {
    cwd: root,
    env: { PATH: process.env.PATH, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  await new Promise((resolve, reject) => {
    const onData = (c) => {
      if (out.length < 1e5) out += c;
      if (out.includes(marker)) resolve();
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${label} exited ${code}:\n${out}`)));
  });
  return child;
}

async function startBaseline(i) {
  const { child, port } = await startServerProcess(
    'bench/orders/baseline.mjs',
    { BENCH_DATABASE_URL: PG, BENCH_SCHEMA: baseSchema, BENCH_POOL_MAX: String(POOL_MAX) },
    `baseline ${i}`,
  );
  return { child, url: `http://127.0.0.1:${port}` };
}

async function startSample(i) {
  const port = await freePort();
  const messaging =
    TRANSPORT === 'rabbitmq'
      ? { MESSAGING_TRANSPORT: 'rabbitmq', MESSAGING_URL: 'amqp://guest:guest@127.0.0.1:5672' }
      : { MESSAGING_TRANSPORT: TRANSPORT };
  const child = await start(
    ['dist/apps/sample-api/src/main.js'],
    {
      ...SAMPLE_PRODUCTION_ENV,
      PORT: String(port),
      HOST: '127.0.0.1',
      METRICS_PORT: String(await freePort()),
      SERVICE_NAME: `sample-api-bench-${i}`,
      DATABASE_URL: `${PG}?schema=${appSchema}`,
      DATABASE_POOL_MAX: String(POOL_MAX),
      MESSAGING_NAMESPACE: `bench-orders-${id}`,
      ...messaging,
      ...(REDIS_URL ? { REDIS_URL, CACHE_KEY_PREFIX: `bench-orders-${id}:` } : {}),
      // e.g. BENCH_APP_NODE_OPTIONS='--cpu-prof --cpu-prof-dir=/tmp/prof' to profile the instances
      ...(process.env.BENCH_APP_NODE_OPTIONS
        ? { NODE_OPTIONS: process.env.BENCH_APP_NODE_OPTIONS }
        : {}),
    },
    'listening on',
    `sample instance ${i}`,
  );
  return { child, url: `http://127.0.0.1:${port}` };
}

/**
 * Loads every server at once for `duration` s, `request(server)` giving its autocannon options (url,
 * method, headers, body or requests); the sum of requests/s, the worst p50/p99, server CPU per
 * request, and the answers whose status was not `status` (`wrong`) or that never came (`errors`).
 */
async function load(servers, duration, request, status) {
  const per = Math.max(1, Math.floor(CONNECTIONS / servers.length));
  const cpu0 = servers.map((s) => cpuMs(s.child.pid));
  const results = await Promise.all(
    servers.map((s) => autocannon({ ...request(s), connections: per, duration })),
  );
  const cpu = servers.reduce((sum, s, i) => sum + cpuMs(s.child.pid) - cpu0[i], 0);
  const total = results.reduce((n, r) => n + r.requests.total, 0);
  return {
    rps: total / duration,
    p50: Math.max(...results.map((r) => r.latency.p50)),
    p99: Math.max(...results.map((r) => r.latency.p99)),
    cpuUs: (cpu * 1000) / total,
    total,
    wrong: results.reduce(
      (n, r) =>
        n +
        Object.entries(r.statusCodeStats)
          .filter(([code]) => Number(code) !== status)
          .reduce((m, [, stats]) => m + stats.count, 0),
      0,
    ),
    status,
    errors: results.reduce((n, r) => n + r.errors, 0),
  };
}

/** `POST /v1/orders` with {@link BODY}. */
const placeOrders = (headers) => (s) => ({
  url: `${s.url}/v1/orders`,
  method: 'POST',
  headers: { 'content-type': 'application/json', ...headers },
  body: BODY,
});

/** `GET /v1/orders/:id`, `:id` cycling over `ids` (each server walks them from the start). */
const readOrders = (ids, headers) => (s) => {
  let next = 0;
  return {
    url: s.url,
    requests: [
      {
        method: 'GET',
        headers,
        setupRequest: (req) => ({ ...req, path: `/v1/orders/${ids[next++ % ids.length]}` }),
      },
    ],
  };
};

const failures = (r) => r.wrong + r.errors;
const fmt = (r, unit) =>
  `${r.rps.toFixed(0).padStart(6)} ${unit}s/s  p50 ${String(r.p50).padStart(3)} ms  p99 ${String(r.p99).padStart(4)} ms  cpu ${r.cpuUs.toFixed(0).padStart(5)} µs/${unit}  non-${r.status} ${r.wrong}${r.errors ? `  errors ${r.errors}` : ''}`;
const avg = (rs, k) => rs.reduce((s, r) => s + r[k], 0) / rs.length;
const sum = (rs, k) => rs.reduce((s, r) => s + r[k], 0);
const mean = (rs) => ({
  rps: avg(rs, 'rps'),
  p50: Math.max(...rs.map((r) => r.p50)),
  p99: Math.max(...rs.map((r) => r.p99)),
  cpuUs: avg(rs, 'cpuUs'),
  wrong: sum(rs, 'wrong'),
  status: rs[0].status,
  errors: sum(rs, 'errors'),
});

/**
 * A 2 s warm-up of each side, then ROUNDS rounds alternating baseline and sample (each loading its
 * two instances at once), a line per round and side, then the `all` lines. Throws after the round
 * (or warm-up) in which any answer was not `status`.
 */
async function phase(servers, unit, status, baselineRequest, sampleRequest) {
  const warm = [
    await load(servers.baseline, 2, baselineRequest, status), // JIT, pools (and the sample's cache)
    await load(servers.sample, 2, sampleRequest, status),
  ];
  const warmFailed = warm.reduce((n, r) => n + failures(r), 0);
  if (warmFailed > 0) {
    console.log(
      `  warm-up  baseline ${fmt(warm[0], unit)}\n  warm-up  sample   ${fmt(warm[1], unit)}`,
    );
    throw new Error(`${warmFailed} ${unit} requests failed during the warm-up`);
  }
  const sums = { baseline: [], sample: [] };
  for (let round = 1; round <= ROUNDS; round++) {
    const base = await load(servers.baseline, DURATION, baselineRequest, status);
    const ours = await load(servers.sample, DURATION, sampleRequest, status);
    sums.baseline.push(base);
    sums.sample.push(ours);
    console.log(`  round ${round}  baseline (node:http + pg) ${fmt(base, unit)}`);
    console.log(
      `  round ${round}  sample API               ${fmt(ours, unit)}  ${(ours.rps / base.rps).toFixed(2)}x`,
    );
    const failed = failures(base) + failures(ours);
    if (failed > 0) throw new Error(`${failed} ${unit} requests failed in round ${round}`);
  }
  const b = mean(sums.baseline);
  const s = mean(sums.sample);
  console.log(`  all      baseline (node:http + pg) ${fmt(b, unit)}`);
  console.log(
    `  all      sample API               ${fmt(s, unit)}  ${(s.rps / b.rps).toFixed(2)}x`,
  );
}

/** The `orders` ids of `schema`, at most READ_IDS of them, in random order. */
async function orderIds(schema) {
  const { rows } = await admin.query(
    `SELECT id::text AS id FROM ${schema}.orders ORDER BY random() LIMIT $1`,
    [READ_IDS],
  );
  if (rows.length === 0) throw new Error(`no orders in ${schema} to read`);
  return rows.map((r) => r.id);
}

/** GET `url` (with `headers`): `{ status, body }`. */
async function getJson(url, headers = {}) {
  const res = await fetch(url, { headers });
  return { status: res.status, body: await res.json().catch(() => undefined) };
}

/** The sorted field names of a JSON answer (the shape of an order). */
const keys = (r) =>
  Object.keys(r.body ?? {})
    .sort()
    .join(',');

/** The reads phase: `GET /v1/orders/:id` of orders the write phase placed, on the same processes. */
async function reads(servers) {
  // Every order gets its payment answer after the 201 (status placed → paid / payment_declined,
  // which evicts its cache entry): wait for that, so the read rounds measure reads.
  const settleStart = Date.now();
  let placed = 0;
  for (;;) {
    const { rows } = await admin.query(
      `SELECT count(*)::int AS n FROM ${appSchema}.orders WHERE status = 'placed'`,
    );
    placed = rows[0].n;
    if (placed === 0 || Date.now() - settleStart > 60_000) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const [baseIds, appIds] = await Promise.all([orderIds(baseSchema), orderIds(appSchema)]);
  const auth = { authorization: `Bearer ${await sampleToken(servers.sample[0].url)}` };

  // Both sides answer the same shape for an order that exists, and 404 for one that does not.
  const [base, ours, baseMissing, oursMissing] = await Promise.all([
    getJson(`${servers.baseline[0].url}/v1/orders/${baseIds[0]}`),
    getJson(`${servers.sample[0].url}/v1/orders/${appIds[0]}`, auth),
    getJson(`${servers.baseline[0].url}/v1/orders/${randomUUID()}`),
    getJson(`${servers.sample[0].url}/v1/orders/${randomUUID()}`, auth),
  ]);
  const sameShape = base.status === 200 && ours.status === 200 && keys(base) === keys(ours);
  const missing = baseMissing.status === 404 && oursMissing.status === 404;

  console.log(
    `\nreads: GET /v1/orders/:id cycling over ${appIds.length} orders (sample) / ${baseIds.length} ` +
      `(baseline), ${CONNECTIONS} connections, ${ROUNDS} rounds of ${DURATION} s, sample cache ` +
      `${REDIS_URL ? 'Redis (BENCH_REDIS_URL) + L1' : 'in-process (no REDIS_URL)'}; ` +
      `payments settled in ${Date.now() - settleStart} ms${placed ? ` (${placed} still placed)` : ''}`,
  );
  console.log(
    `  check    shape ${sameShape ? 'equal' : `DIFFERENT (baseline ${base.status} ${keys(base)}, sample ${ours.status} ${keys(ours)})`}, ` +
      `missing id ${missing ? '404 on both' : `baseline ${baseMissing.status}, sample ${oursMissing.status}`}`,
  );
  if (!sameShape || !missing) throw new Error('the baseline and the sample answer differently');
  await phase(servers, 'read', 200, readOrders(baseIds, {}), readOrders(appIds, auth));
}

buildSampleApi();
const admin = new Client({ connectionString: PG });
await admin.connect();
await admin.query(`CREATE SCHEMA ${baseSchema}`);
await admin.query(`CREATE SCHEMA ${appSchema}`);
await admin.query(`SET search_path = ${baseSchema}`);
await admin.query(`
  CREATE TABLE orders (id uuid PRIMARY KEY, customer_id varchar(64) NOT NULL, sku varchar(64) NOT NULL,
    quantity int NOT NULL, unit_price_cents bigint NOT NULL, total_cents bigint NOT NULL,
    status varchar(32) NOT NULL, created_at bigint NOT NULL, version int NOT NULL);
  CREATE INDEX orders_customer ON orders (customer_id);
  CREATE SEQUENCE events_position;
  CREATE TABLE events (position bigint PRIMARY KEY, stream_id varchar(200) NOT NULL, version int NOT NULL,
    event_id varchar(64) NOT NULL UNIQUE, type varchar(200) NOT NULL, data text NOT NULL,
    recorded_at bigint NOT NULL, UNIQUE (stream_id, version));
  CREATE TABLE outbox (id varchar(64) PRIMARY KEY, type varchar(200) NOT NULL, payload text NOT NULL,
    created_at bigint NOT NULL);`);

const servers = { baseline: [], sample: [] };
try {
  for (let i = 0; i < INSTANCES; i++) servers.baseline.push(await startBaseline(i));
  // The first instance migrates; the second starts once the tables are there.
  for (let i = 0; i < INSTANCES; i++) servers.sample.push(await startSample(i));
  const auth = { authorization: `Bearer ${await sampleToken(servers.sample[0].url)}` };

  console.log(
    `\norders: ${CONNECTIONS} connections over ${INSTANCES} instances, ${ROUNDS} rounds of ${DURATION} s, ` +
      `pool ${POOL_MAX} per instance, transport ${TRANSPORT}, servers on node ${serverNodeVersion}`,
  );
  await phase(servers, 'order', 201, placeOrders({}), placeOrders(auth));

  // Every 201 is an order row with its event (nothing half-written under load). One statement,
  // one snapshot: a request the client gave up on may still commit between two counts.
  const {
    rows: [c],
  } = await admin.query(
    `SELECT (SELECT count(*)::int FROM ${appSchema}.orders) AS orders,
            (SELECT count(*)::int FROM ${appSchema}.event_store_events
              WHERE type = 'orders.OrderPlaced') AS events`,
  );
  console.log(
    `  check    sample: ${c.orders} order rows, ${c.events} OrderPlaced events ` +
      `(${c.orders === c.events ? 'equal' : 'DIFFERENT'})`,
  );

  if (READS) await reads(servers);
} finally {
  for (const s of servers.baseline) s.child.kill('SIGKILL');
  // SIGTERM: the instances drain and exit, writing a --cpu-prof profile when asked for one.
  await Promise.all(
    servers.sample.map(
      (s) =>
        new Promise((resolve) => {
          if (s.child.exitCode !== null) return resolve();
          const kill = setTimeout(() => s.child.kill('SIGKILL'), 30_000);
          s.child.once('exit', () => {
            clearTimeout(kill);
            resolve();
          });
          s.child.kill('SIGTERM');
        }),
    ),
  );
  await admin.query(`DROP SCHEMA IF EXISTS ${baseSchema} CASCADE`);
  await admin.query(`DROP SCHEMA IF EXISTS ${appSchema} CASCADE`);
  await admin.end();
}
