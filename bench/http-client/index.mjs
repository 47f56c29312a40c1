// HTTP client, one run: GET of a small JSON body from a local keep-alive node:http server, a fixed
// number of calls in flight, for a fixed time per variant:
//  - raw undici `Agent.request()` + `body.json()` (the baseline), same connection count;
//  - our HttpClient built outside Nest with every stage off (no pipeline, metrics, propagation);
//  - our HttpClient from HttpClientModule + MonitoringModule, pipeline off (metrics + context);
//  - our HttpClient from HttpClientModule + MonitoringModule with the default pipeline (bulkhead
//    50/100 → closed consecutive breaker → retry 2 → 3 s attempt timeout, 10 s total), metrics and
//    traceparent / x-correlation-id propagation;
//  - @nestjs/axios HttpService (keep-alive agent, 3 s timeout): what a Nest team picks instead.
// The server runs in its own process: on this 2-core box it gets one core and the client the
// other, its cost is not charged to the client's event loop (which is what we measure), and its
// GC pauses do not land in the client's latencies. Every variant runs inside the same request
// context (as calls made while handling a request do), so AsyncLocalStorage costs all alike.
// Variants alternate over rounds (rotated order); per variant the median round by req/s counts.
// Ratios against the raw undici baseline of the same run are what count.
// Knobs: BENCH_DURATION (s, 5), BENCH_CONCURRENCY (32), BENCH_CONNECTIONS (= concurrency),
// BENCH_ROUNDS (3), BENCH_WARMUP (s, 2), BENCH_SERVER_DELAY_MS (0),
// BENCH_ONLY=raw,rawsignal,bare,lean,full,axios,
// BENCH_SKIP_BUILD=1.
import 'reflect-metadata';
import { once } from 'node:events';
import { Agent as HttpAgent } from 'node:http';
import { HttpModule, HttpService } from '@nestjs/axios';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ClsServiceManager } from 'nestjs-cls';
import { firstValueFrom } from 'rxjs';
import { Agent } from 'undici';
import { buildSampleApi, cpuMs, startServerProcess } from '../lib.mjs';

const DURATION = Number(process.env.BENCH_DURATION ?? 5); // seconds per variant and round
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? CONCURRENCY);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 2); // seconds per variant
const ONLY = process.env.BENCH_ONLY?.split(','); // e.g. BENCH_ONLY=raw,full (profiling)
const DELAY_MS = Number(process.env.BENCH_SERVER_DELAY_MS ?? 0); // upstream latency to simulate

buildSampleApi();
const { HttpClients, HttpClientModule, resolveHttpClientModuleOptions } =
  await import('@infrastructure/http-client');
const { MonitoringModule } = await import('@infrastructure/monitoring');

const fmt = (n) => Math.round(n).toLocaleString('en-US');
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const { child: server, port } = await startServerProcess('bench/http-client/server.mjs');
const origin = `http://127.0.0.1:${port}`;
const path = '/api/payments/pay_01HZX3';
const query = { expand: 'order' };

// Baseline: what a careful user of undici writes.
const agent = new Agent({ connections: CONNECTIONS, keepAliveTimeout: 4000 });
async function raw() {
  const res = await agent.request({
    origin,
    path: `${path}?expand=order`,
    method: 'GET',
    headers: { accept: 'application/json' },
  });
  if (res.statusCode !== 200) throw new Error(`raw: answered ${res.statusCode}`);
  return res.body.json();
}

// The floor of any per-attempt timeout: raw undici plus an AbortController and a timer per call.
async function rawTimeout() {
  const ctrl = new AbortController();
  const timer = setTimeout(() => ctrl.abort(), 3000);
  try {
    const res = await agent.request({
      origin,
      path: `${path}?expand=order`,
      method: 'GET',
      headers: { accept: 'application/json' },
      signal: ctrl.signal,
    });
    if (res.statusCode !== 200) throw new Error(`raw: answered ${res.statusCode}`);
    return await res.body.json();
  } finally {
    clearTimeout(timer);
  }
}

const pipelineOff = {
  retry: false,
  circuitBreaker: false,
  bulkhead: false,
  timeoutMs: false,
  attemptTimeoutMs: false,
};
// Our client as a user gets it: HttpClientModule (and MonitoringModule for metrics) in a Nest app.
class BenchModule {}
Module({
  imports: [
    MonitoringModule.forRoot({
      serviceName: 'bench',
      logging: { level: 'warn', pretty: false },
      shutdown: { handleSignals: false, exitProcess: false },
    }),
    // What a Nest team would pick instead: @nestjs/axios, keep-alive, a timeout per call.
    HttpModule.register({
      baseURL: `${origin}/api`,
      timeout: 3000,
      httpAgent: new HttpAgent({ keepAlive: true, maxSockets: CONNECTIONS }),
    }),
    HttpClientModule.forRoot({
      clients: {
        payments: { baseUrl: `${origin}/api`, connections: CONNECTIONS }, // defaults: full pipeline
        lean: { baseUrl: `${origin}/api`, connections: CONNECTIONS, ...pipelineOff },
      },
    }),
  ],
})(BenchModule);
const app = await NestFactory.createApplicationContext(BenchModule, { logger: false });
const full = app.get(HttpClients).get('payments');
const axios = app.get(HttpService);
const lean = app.get(HttpClients).get('lean');
// And outside Nest with everything off: the floor of our client (URL, headers, body handling).
const bareClients = new HttpClients(
  resolveHttpClientModuleOptions({
    clients: {
      bare: {
        baseUrl: `${origin}/api`,
        connections: CONNECTIONS,
        propagateContext: false,
        ...pipelineOff,
      },
    },
  }),
);
const bare = bareClients.get('bare');

const variants = [
  { key: 'raw', label: 'raw undici Agent.request + body.json()', op: raw },
  { key: 'rawsignal', label: 'raw undici + AbortController/timer per call', op: rawTimeout },
  {
    key: 'bare',
    label: 'HttpClient, no pipeline/metrics/context',
    op: () => bare.get(path.slice(4), { query }),
  },
  {
    key: 'lean',
    label: 'HttpClient, metrics + context, no pipeline',
    op: () => lean.get(path.slice(4), { query }),
  },
  {
    key: 'full',
    label: 'HttpClient, full pipeline + metrics + context',
    op: () => full.get(path.slice(4), { query }),
  },
  {
    key: 'axios',
    label: '@nestjs/axios HttpService (keep-alive, timeout)',
    op: async () => (await firstValueFrom(axios.get(path.slice(4), { params: query }))).data,
  },
].filter((v) => !ONLY || ONLY.includes(v.key));

// The request context every call runs in (propagated by `lean` and `full`).
const cls = ClsServiceManager.getClsService();
const store = {
  correlationId: 'bench-corr-0001',
  traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
  spanId: '00f067aa0ba902b7',
};

/** `CONCURRENCY` closed loops calling `op` for `seconds`: req/s, latency percentiles, CPU/request. */
async function drive(op, seconds) {
  const latencies = [];
  const started = performance.now();
  const end = started + seconds * 1000;
  const cpu = process.cpuUsage();
  const serverCpu = cpuMs(server.pid);
  const loop = async () => {
    while (performance.now() < end) {
      const t = performance.now();
      await op();
      latencies.push(performance.now() - t);
    }
  };
  await cls.runWith(store, () => Promise.all(Array.from({ length: CONCURRENCY }, loop)));
  const elapsed = performance.now() - started;
  const used = process.cpuUsage(cpu);
  const sorted = Float64Array.from(latencies).sort();
  return {
    rps: (sorted.length / elapsed) * 1000,
    p50: sorted[Math.floor(sorted.length * 0.5)],
    p99: sorted[Math.floor(sorted.length * 0.99)],
    cpuUs: (used.user + used.system) / sorted.length,
    serverBusy: (cpuMs(server.pid) - serverCpu) / elapsed,
  };
}

// Sanity: the full client really sends the context headers.
const echoed = await cls.runWith(store, () => full.get('/echo-headers'));
if (
  echoed.body['x-correlation-id'] !== store.correlationId ||
  !echoed.body.traceparent?.includes(store.traceId)
) {
  throw new Error(`context headers not propagated: ${JSON.stringify(echoed.body)}`);
}

console.log(
  `\nhttp-client: GET of a ${JSON.stringify(await raw()).length}-byte JSON body, ${CONCURRENCY} in flight over ${CONNECTIONS} keep-alive connections,` +
    `\n${ROUNDS} rounds x ${DURATION} s per variant (rotated order, median round), server answers after ${DELAY_MS} ms, node ${process.version}`,
);
for (const v of variants) await drive(v.op, WARMUP); // JIT, sockets, metric children

const results = new Map(variants.map((v) => [v.key, []]));
for (let r = 0; r < ROUNDS; r++) {
  for (let i = 0; i < variants.length; i++) {
    const v = variants[(i + r) % variants.length];
    results.get(v.key).push(await drive(v.op, DURATION));
  }
}

const base = results.get('raw');
const baseRps = base ? median(base.map((x) => x.rps)) : undefined;
const baseCpu = base ? median(base.map((x) => x.cpuUs)) : undefined;
console.log(
  `  ${'variant'.padEnd(46)} ${'req/s'.padStart(7)}  ${'x raw (rounds)'.padEnd(20)} p50 / p99 ms    client CPU µs/req (x raw)  server busy`,
);
for (const v of variants) {
  const rounds = results.get(v.key);
  const m = rounds.find((x) => x.rps === median(rounds.map((y) => y.rps)));
  const perRound = base ? rounds.map((x, i) => x.rps / base[i].rps) : [];
  const ratio = baseRps
    ? `${(m.rps / baseRps).toFixed(2)}x (${Math.min(...perRound).toFixed(2)}-${Math.max(...perRound).toFixed(2)})`
    : '-';
  const cpu = median(rounds.map((x) => x.cpuUs));
  const cpuRatio = baseCpu ? ` (${(cpu / baseCpu).toFixed(2)}x)` : '';
  console.log(
    `  ${v.label.padEnd(46)} ${fmt(m.rps).padStart(7)}  ${ratio.padEnd(20)} ${m.p50.toFixed(2).padStart(5)} / ${m.p99.toFixed(2).padEnd(6)}  ` +
      `${`${cpu.toFixed(0)}${cpuRatio}`.padEnd(25)}  ${(m.serverBusy * 100).toFixed(0).padStart(3)}%`,
  );
}
const axiosRounds = results.get('axios');
const fullRounds = results.get('full');
if (axiosRounds && fullRounds) {
  const perRound = fullRounds.map((x, i) => x.rps / axiosRounds[i].rps);
  console.log(
    `  full pipeline x @nestjs/axios req/s: ${median(perRound).toFixed(2)}x ` +
      `(rounds ${Math.min(...perRound).toFixed(2)}-${Math.max(...perRound).toFixed(2)})`,
  );
}
console.log('  goals: full pipeline >= 0.85x raw undici req/s, >= 5x @nestjs/axios');

await app.close();
await bareClients.onApplicationShutdown();
await agent.close();
server.kill('SIGTERM');
await once(server, 'exit');
process.exit(0);
