// What the fault drills share: a fresh PostgreSQL database per drill, the built sample API as a
// production-mode child process, a token, an HTTP load loop that keeps every status and latency,
// a service that is ALWAYS brought back (finally, SIGINT, SIGTERM), and the verdict line.
import { execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Pool as PgPool } from 'pg';
import { Pool } from 'undici';
import { freePort, root, SAMPLE_PRODUCTION_ENV, sampleToken } from '../lib.mjs';

export { buildSampleApi, freePort, root } from '../lib.mjs';
export { sleep };

/** The server every drill's database lives on (the admin connection uses its `postgres` db). */
export const PG_SERVER = process.env.DRILL_PG_SERVER ?? 'postgres://postgres@127.0.0.1:5432';
export const AMQP_URL = process.env.DRILL_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
export const REDIS_URL = process.env.DRILL_REDIS_URL ?? 'redis://127.0.0.1:6379';

export const drillId = () => randomUUID().slice(0, 8);

/** The `application_name` of the drills' own connections (spared by the terminating drill). */
export const ADMIN_APP = 'drill-admin';

/**
 * A fresh database `<prefix>_<id>` (so a drill that terminates connections only hits its own),
 * `{ name, url, client, drop }`: `client` is an admin pool on it, `drop()` ends it and
 * drops the database (FORCE: the app may still hold connections).
 */
export async function freshDatabase(prefix) {
  const name = `${prefix}_${drillId()}`;
  const admin = new Client({ connectionString: `${PG_SERVER}/postgres` });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = `${PG_SERVER}/${name}`;
  // application_name: the drills that terminate backends spare these (ADMIN_APP).
  const client = new PgPool({ connectionString: url, max: 4, application_name: ADMIN_APP });
  client.on('error', () => undefined);
  return {
    name,
    url,
    client,
    async drop() {
      await client.end().catch(() => undefined);
      const a = new Client({ connectionString: `${PG_SERVER}/postgres` });
      await a.connect();
      await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await a.end();
    },
  };
}

/**
 * Starts `dist/apps/sample-api/src/main.js` in production mode with `env` on top of the drill
 * defaults; resolves once it listens: `{ child, url, metricsUrl, output, stop }`.
 */
export async function startApp(env) {
  const port = await freePort();
  const metricsPort = await freePort();
  const child = spawn(process.execPath, ['dist/apps/sample-api/src/main.js'], {
    cwd: root,
    env: {
      PATH: process.env.PATH,
      LOG_LEVEL: 'warn',
      ...SAMPLE_PRODUCTION_ENV,
      PORT: String(port),
      HOST: '127.0.0.1',
      METRICS_PORT: String(metricsPort),
      // e.g. `--require ./debug.cjs` or `--cpu-prof` for the app under the drill.
      ...(process.env.DRILL_APP_NODE_OPTIONS
        ? { NODE_OPTIONS: process.env.DRILL_APP_NODE_OPTIONS }
        : {}),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const keep = (c) => {
    out += c;
    if (out.length > 2e6) out = out.slice(-1e6);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  // LOG_LEVEL=warn hides the "listening on" line: readiness is the liveness probe answering.
  const url = `http://127.0.0.1:${port}`;
  const died = new Promise((_, reject) =>
    child.once('exit', (code) => reject(new Error(`sample API exited ${code}:\n${out}`))),
  );
  died.catch(() => undefined);
  const deadline = Date.now() + 60_000;
  for (;;) {
    const ok = await Promise.race([
      fetch(`${url}/health/live`).then(
        (r) => r.status === 200,
        () => false,
      ),
      died,
    ]);
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`sample API not live after 60 s:\n${out}`);
    await sleep(200);
  }
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return {
    child,
    url,
    metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
    output: () => out,
    /** The exit code, or null while it runs. */
    exitCode: () => child.exitCode ?? child.signalCode,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(t);
    },
  };
}

/** `Bearer <token>` of the `compose-demo` client (deploy/secrets/auth_clients.example). */
export async function token(url) {
  return `Bearer ${await sampleToken(url)}`;
}

/** The value of a Prometheus sample (sum over the series matching every `labels` pair). */
export async function metric(metricsUrl, name, labels = {}) {
  const text = await (await fetch(metricsUrl)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-z_:]+)(?:\{([^}]*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries(
      [...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]),
    );
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) sum += Number(m[3]);
  }
  return sum;
}

/**
 * Closed-loop HTTP load: `connections` workers each send `next()` (`{ method, path, body }`, or
 * undefined to stop) until `stop()` or `next` runs out. Every result is kept with its phase:
 * `{ phase, status, ms, body }` (status 0: a transport error; `body` only when `keepBody`).
 * Requests time out after `timeoutMs` (counted as status 0, `timeout: true`).
 */
export function load({ url, headers, connections, next, keepBody = false, timeoutMs = 30_000 }) {
  const pool = new Pool(url, { connections, pipelining: 1 });
  const results = [];
  let phase = 'before';
  let stopped = false;
  const worker = async () => {
    for (;;) {
      if (stopped) return;
      const req = next();
      if (!req) return;
      const t0 = performance.now();
      const at = phase;
      try {
        const res = await pool.request({
          method: req.method,
          path: req.path,
          headers: { ...headers, ...(req.body ? { 'content-type': 'application/json' } : {}) },
          body: req.body ? JSON.stringify(req.body) : undefined,
          headersTimeout: timeoutMs,
          bodyTimeout: timeoutMs,
        });
        const text = await res.body.text();
        results.push({
          phase: at,
          status: res.statusCode,
          ms: performance.now() - t0,
          ...(keepBody ? { body: text, req } : {}),
        });
      } catch (error) {
        results.push({
          phase: at,
          status: 0,
          ms: performance.now() - t0,
          timeout: /timeout/i.test(String(error?.code ?? error)),
          error: String(error?.code ?? error),
        });
      }
    }
  };
  const done = Promise.all(Array.from({ length: connections }, worker)).then(() => pool.close());
  return {
    results,
    done,
    setPhase: (p) => (phase = p),
    stop() {
      stopped = true;
      return done;
    },
  };
}

/** Latency percentile (ms) of `results`. */
export function pct(results, p) {
  if (results.length === 0) return 0;
  const sorted = results.map((r) => r.ms).sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** The slowest latency (ms) of `results`. */
export const maxMs = (results) => Math.max(0, ...results.map((r) => r.ms));

/** `{ "201": n, "503": m, ... }` of `results`. */
export function statuses(results) {
  const by = {};
  for (const r of results) by[r.status] = (by[r.status] ?? 0) + 1;
  return by;
}

export const fmtStatuses = (results) =>
  Object.entries(statuses(results))
    .map(([s, n]) => `${s === '0' ? 'err' : s}×${n}`)
    .join(' ');

/** Polls `check()` every `everyMs` until it returns truthy or `timeoutMs` pass; its last value. */
export async function until(check, timeoutMs, everyMs = 250) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v || Date.now() > deadline) return v;
    await sleep(everyMs);
  }
}

/**
 * Runs `during()` with a service disrupted by `disrupt` (sync), and ALWAYS runs `restore` (sync)
 * afterwards: on return, on a throw, and on SIGINT / SIGTERM (then exits 130 / 143).
 */
export async function withDisruption(label, { disrupt, restore }, during) {
  let restored = false;
  const restoreOnce = () => {
    if (restored) return;
    restored = true;
    console.log(`  ${label}: restoring`);
    restore();
  };
  const onSignal = (signal) => {
    try {
      restoreOnce();
    } finally {
      process.exit(signal === 'SIGINT' ? 130 : 143);
    }
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    console.log(`  ${label}: disrupting`);
    disrupt();
    return await during(restoreOnce);
  } finally {
    restoreOnce();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** Runs a command synchronously (output ignored unless it fails). */
export function sh(cmd, args, timeout = 60_000) {
  return execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], timeout, encoding: 'utf8' });
}

/**
 * After a FAIL: whether the app still runs, and its error lines (the full output in
 * `$DRILL_LOG_DIR/<name>.log` when set).
 */
export function explain(name, app) {
  if (!app) return;
  if (app.exitCode() !== null) console.log(`  the sample API exited: ${app.exitCode()}`);
  const errors = app
    .output()
    .split('\n')
    .filter((l) => /"level":(50|60)|"level":"(error|fatal)"/.test(l));
  for (const l of errors.slice(0, 8)) console.log(`  app: ${l.slice(0, 600)}`);
  if (process.env.DRILL_LOG_DIR)
    writeFileSync(`${process.env.DRILL_LOG_DIR}/${name}.log`, app.output());
}

/** Prints the verdict line and sets the exit code: `DRILL <name>: PASS|FAIL  <numbers>`. */
export function verdict(name, pass, numbers, failures = []) {
  console.log(`DRILL ${name}: ${pass ? 'PASS' : 'FAIL'}  ${numbers}`);
  for (const f of failures) console.log(`  - ${f}`);
  process.exitCode = pass ? 0 : 1;
}

/** A body of `POST /v1/orders` for customer `cust-drill-<n % customers>`. */
/**
 * Authenticated `POST /v1/orders` load on `app` (a token first): `limit` orders, or until stopped
 * when unset, keeping every answer. `sent()` is how many were started.
 */
export async function orderLoad(app, { connections, limit, customers = 20, timeoutMs }) {
  const auth = { authorization: await token(app.url) };
  let n = 0;
  const run = load({
    url: app.url,
    headers: auth,
    connections,
    next: () =>
      limit === undefined || n < limit
        ? { method: 'POST', path: '/v1/orders', body: orderBody(n++, customers) }
        : undefined,
    keepBody: true,
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
  });
  return Object.assign(run, { sent: () => n });
}

export function orderBody(n, customers = 20) {
  return {
    customerId: `cust-drill-${n % customers}`,
    sku: `SKU-${n % 7}`,
    quantity: 1 + (n % 3),
    unitPriceCents: 100 + (n % 50),
  };
}
