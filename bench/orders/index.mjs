// Order throughput on PostgreSQL: authenticated `POST /v1/orders` against two production-mode
// instances of the built sample API (event-sourced order, inline `orders` projection, outbox, all
// in one transaction; the relay publishing to BENCH_TRANSPORT), against the baseline in the same
// run: two plain `node:http` + `pg` processes inserting the same rows (order, event, outbox) in one
// transaction (bench/orders/baseline.mjs). Rounds alternate baseline and sample so a drift of the
// box hits both; each round loads both instances at once (half the connections each).
// Prints per round and in total: orders/s, p50/p99 and server CPU µs per order, and the ratio.
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
} from '../lib.mjs';

const PG = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
const DURATION = Number(process.env.BENCH_DURATION ?? 10);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const POOL_MAX = Number(process.env.BENCH_POOL_MAX ?? 10);
const TRANSPORT = process.env.BENCH_TRANSPORT ?? 'memory';
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
      NODE_ENV: 'production',
      LOG_PRETTY: 'false',
      PORT: String(port),
      HOST: '127.0.0.1',
      METRICS_PORT: String(await freePort()),
      SERVICE_NAME: `sample-api-bench-${i}`,
      DATABASE_URL: `${PG}?schema=${appSchema}`,
      DATABASE_POOL_MAX: String(POOL_MAX),
      JWT_SECRET_FILE: 'deploy/secrets/jwt_secret.example',
      AUTH_CLIENTS_FILE: 'deploy/secrets/auth_clients.example',
      JWT_ISSUER: 'sample-api',
      JWT_AUDIENCE: 'sample-api',
      RATE_LIMIT_PER_MINUTE: '1000000',
      MESSAGING_NAMESPACE: `bench-orders-${id}`,
      ...messaging,
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

async function token(url) {
  const res = await fetch(`${url}/v1/auth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=client_credentials&client_id=compose-demo&client_secret=compose-demo-secret',
  });
  if (res.status !== 200) throw new Error(`token: ${res.status} ${await res.text()}`);
  return (await res.json()).access_token;
}

/** Loads every server at once for `duration` s; the sum of orders/s, the worst p50/p99. */
async function load(servers, duration, headers) {
  const per = Math.max(1, Math.floor(CONNECTIONS / servers.length));
  const cpu0 = servers.map((s) => cpuMs(s.child.pid));
  const results = await Promise.all(
    servers.map((s) =>
      autocannon({
        url: `${s.url}/v1/orders`,
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: BODY,
        connections: per,
        duration,
      }),
    ),
  );
  const cpu = servers.reduce((sum, s, i) => sum + cpuMs(s.child.pid) - cpu0[i], 0);
  const total = results.reduce((n, r) => n + r.requests.total, 0);
  const failed = results.reduce((n, r) => n + r.non2xx + r.errors, 0);
  if (failed > 0) throw new Error(`${failed} requests failed during the load`);
  return {
    rps: total / duration,
    p50: Math.max(...results.map((r) => r.latency.p50)),
    p99: Math.max(...results.map((r) => r.latency.p99)),
    cpuUs: (cpu * 1000) / total,
    total,
  };
}

const fmt = (r) =>
  `${r.rps.toFixed(0).padStart(6)} orders/s  p50 ${String(r.p50).padStart(3)} ms  p99 ${String(r.p99).padStart(4)} ms  cpu ${r.cpuUs.toFixed(0).padStart(5)} µs/order`;
const avg = (rs, k) => rs.reduce((s, r) => s + r[k], 0) / rs.length;
const mean = (rs) => ({
  rps: avg(rs, 'rps'),
  p50: Math.max(...rs.map((r) => r.p50)),
  p99: Math.max(...rs.map((r) => r.p99)),
  cpuUs: avg(rs, 'cpuUs'),
});

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
  const auth = { authorization: `Bearer ${await token(servers.sample[0].url)}` };

  console.log(
    `\norders: ${CONNECTIONS} connections over ${INSTANCES} instances, ${ROUNDS} rounds of ${DURATION} s, ` +
      `pool ${POOL_MAX} per instance, transport ${TRANSPORT}, servers on node ${serverNodeVersion}`,
  );
  await load(servers.baseline, 2, {}); // warm-up: JIT, pools
  await load(servers.sample, 2, auth);
  const sums = { baseline: [], sample: [] };
  for (let round = 1; round <= ROUNDS; round++) {
    const base = await load(servers.baseline, DURATION, {});
    const ours = await load(servers.sample, DURATION, auth);
    sums.baseline.push(base);
    sums.sample.push(ours);
    console.log(`  round ${round}  baseline (node:http + pg) ${fmt(base)}`);
    console.log(
      `  round ${round}  sample API               ${fmt(ours)}  ${(ours.rps / base.rps).toFixed(2)}x`,
    );
  }
  const b = mean(sums.baseline);
  const s = mean(sums.sample);
  console.log(`  all      baseline (node:http + pg) ${fmt(b)}`);
  console.log(`  all      sample API               ${fmt(s)}  ${(s.rps / b.rps).toFixed(2)}x`);

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
