// req/s, p99 and server CPU per request of GET /hello: bare Nest; bare Nest with AsyncLocalStorage
// on; MonitoringModule (logs to /dev/null at info, metrics, correlation; tracing off); the same with
// tracing on (in-memory exporter, http instrumentation). Each server runs in its own process;
// autocannon drives it from this one. Same run, same box: read the ratios, not the absolutes.
import { once } from 'node:events';
import autocannon from 'autocannon';
import { buildSampleApi, cpuMs, serverNodeVersion, startServerProcess } from '../lib.mjs';

const DURATION = Number(process.env.BENCH_DURATION ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 20);
const adapters = (process.env.BENCH_ADAPTERS ?? 'express,fastify').split(',');

const start = (mode, adapter) =>
  startServerProcess(
    'bench/monitoring-overhead/server.mjs',
    { BENCH_MODE: mode, BENCH_ADAPTER: adapter, NODE_ENV: 'production' },
    `${mode}/${adapter} server`,
  );

async function load(port, duration) {
  const result = await autocannon({
    url: `http://127.0.0.1:${port}/hello`,
    connections: CONNECTIONS,
    duration,
  });
  if (result.non2xx > 0 || result.errors > 0) {
    throw new Error(`errors during load: ${result.non2xx} non-2xx, ${result.errors} errors`);
  }
  return result;
}

async function measure(mode, adapter) {
  const { child, port } = await start(mode, adapter);
  try {
    await load(port, 2); // warm-up: JIT, connection pools
    const before = cpuMs(child.pid);
    const r = await load(port, DURATION);
    const cpuUs = ((cpuMs(child.pid) - before) * 1000) / r.requests.total;
    return { rps: r.requests.average, p99: r.latency.p99, cpuUs };
  } finally {
    child.kill('SIGKILL');
    await once(child, 'exit');
  }
}

buildSampleApi();
console.log(
  `\nmonitoring-overhead: ${CONNECTIONS} connections, ${DURATION} s per variant, servers on node ${serverNodeVersion}`,
);
for (const adapter of adapters) {
  const bare = await measure('bare', adapter);
  const als = await measure('bare-als', adapter);
  const mon = await measure('monitoring', adapter);
  const tr = await measure('tracing', adapter);
  const row = (label, r) =>
    console.log(
      `  ${adapter.padEnd(8)} ${label.padEnd(26)} ${r.rps.toFixed(0).padStart(6)} req/s ${(r.rps / bare.rps).toFixed(2)}x` +
        `  p99 ${String(r.p99).padStart(3)} ms  cpu ${r.cpuUs.toFixed(0).padStart(4)} us/req ${(r.cpuUs / bare.cpuUs).toFixed(2)}x`,
    );
  row('bare Nest', bare);
  row('bare + AsyncLocalStorage', als);
  row('monitoring (no tracing)', mon);
  row('monitoring + tracing', tr);
  const monCost = 1 - mon.rps / bare.rps;
  const trCost = 1 - tr.rps / bare.rps;
  console.log(
    `  ${adapter}: monitoring costs ${(monCost * 100).toFixed(0)}% req/s (goal <= 10%: ${monCost <= 0.1 ? 'met' : 'NOT met'}), ` +
      `with tracing ${(trCost * 100).toFixed(0)}% (goal <= 25%: ${trCost <= 0.25 ? 'met' : 'NOT met'}); ` +
      `AsyncLocalStorage alone ${((1 - als.rps / bare.rps) * 100).toFixed(0)}%`,
  );
}
