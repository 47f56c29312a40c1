// The young generation's size at boot against throughput: the sample API (Express, SQLite in
// memory, production mode) under each setting in BENCH_SEMI_SPACES: a number is
// `--max-semi-space-size` in MB, "default" is V8's own (a semi-space may grow to 32 MB), anything
// else is node flags (`--optimize-for-size`). BENCH_SAMPLE_SCRIPT: another build of main.js. Per setting and round: RSS at the first 200
// on /health/live, then autocannon on `GET /v1/orders/:id` (one order placed first) and on
// `POST /v1/orders`, then RSS after the load. Settings alternate within a round, so a busy box
// slows them alike; only compare numbers from one run.
//   node bench/startup/semi-space.mjs   (BENCH_ROUNDS=2, BENCH_DURATION=8 s, BENCH_CONNECTIONS=10)
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';
import {
  buildSampleApi,
  freePort,
  root,
  SAMPLE_PRODUCTION_ENV,
  sampleToken,
  serverNode,
  serverNodeVersion,
} from '../lib.mjs';

const SETTINGS = (process.env.BENCH_SEMI_SPACES ?? 'default,16,8,4').split(',');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const DURATION = Number(process.env.BENCH_DURATION ?? 8);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
const SCRIPT = process.env.BENCH_SAMPLE_SCRIPT ?? 'dist/apps/sample-api/src/main.js';

function rssMb(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

async function boot(setting) {
  const port = await freePort();
  const flags =
    setting === 'default'
      ? []
      : /^\d+$/.test(setting)
        ? [`--max-semi-space-size=${setting}`]
        : setting.split(' ');
  const started = performance.now();
  const child = spawn(serverNode, [...flags, SCRIPT], {
    cwd: root,
    env: {
      PATH: process.env.PATH,
      ...SAMPLE_PRODUCTION_ENV,
      DATABASE_URL: 'sqlite::memory:',
      PORT: String(port),
      HOST: '127.0.0.1',
    },
    stdio: 'ignore',
  });
  const url = `http://127.0.0.1:${port}`;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`sample-api exited (${setting})`);
    try {
      const res = await fetch(`${url}/health/live`);
      await res.arrayBuffer();
      if (res.status === 200) break;
    } catch {
      await new Promise((r) => setTimeout(r, 5)); // polling for a port to open: nothing to await
    }
  }
  return { child, url, ms: performance.now() - started, rss: rssMb(child.pid) };
}

const load = (opts) => autocannon({ connections: CONNECTIONS, duration: DURATION, ...opts });

async function measure(setting) {
  const { child, url, ms, rss } = await boot(setting);
  try {
    const headers = {
      authorization: `Bearer ${await sampleToken(url)}`,
      'content-type': 'application/json',
    };
    const body = JSON.stringify({
      customerId: 'c-1',
      sku: 'SKU-1',
      quantity: 2,
      unitPriceCents: 1999,
    });
    const placed = await fetch(`${url}/v1/orders`, { method: 'POST', headers, body });
    if (placed.status !== 201) throw new Error(`POST /v1/orders: ${placed.status}`);
    const { id } = await placed.json();
    const read = await load({ url: `${url}/v1/orders/${id}`, headers });
    const write = await load({ url: `${url}/v1/orders`, method: 'POST', headers, body });
    if (read.non2xx || write.non2xx) throw new Error(`non-2xx answers (${setting})`);
    return {
      ms,
      rss,
      read: read.requests.average,
      readP99: read.latency.p99,
      write: write.requests.average,
      rssAfter: rssMb(child.pid),
    };
  } finally {
    child.kill('SIGKILL');
    if (child.exitCode === null) await once(child, 'exit');
  }
}

buildSampleApi();
console.log(
  `\nsemi-space: sample-api (express, SQLite in memory), ${ROUNDS} round(s), autocannon ` +
    `${CONNECTIONS} connections x ${DURATION} s (node ${serverNodeVersion})`,
);
const results = Object.fromEntries(SETTINGS.map((s) => [s, []]));
for (let round = 0; round < ROUNDS; round++) {
  for (const s of SETTINGS) results[s].push(await measure(s));
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const base = results[SETTINGS[0]];
console.log(
  'semi-space   boot ms  boot RSS  GET /v1/orders/:id req/s (p99 ms)  POST req/s  RSS after',
);
for (const s of SETTINGS) {
  const r = results[s];
  const m = (k) => median(r.map((x) => x[k]));
  console.log(
    `${s.padEnd(10)} ${m('ms').toFixed(0).padStart(8)} ${m('rss').toFixed(1).padStart(7)} MB` +
      ` ${m('read').toFixed(0).padStart(10)} (${m('readP99').toFixed(0)})` +
      ` ${(m('read') / median(base.map((x) => x.read))).toFixed(2)}x` +
      ` ${m('write').toFixed(0).padStart(10)} ${(m('write') / median(base.map((x) => x.write))).toFixed(2)}x` +
      ` ${m('rssAfter').toFixed(1).padStart(8)} MB`,
  );
}
