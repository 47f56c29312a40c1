// req/s, p99 and server CPU per request of GET /hello: bare Nest; bare Nest with AsyncLocalStorage
// on; MonitoringModule (logs to /dev/null at info, metrics, correlation; tracing off); the same with
// our tracing on (the register hook, OTLP/HTTP to a local sink); and, as the tracing baseline, bare
// Nest under a stock OpenTelemetry Node SDK set-up (HTTP + Express/Fastify instrumentations, batch
// OTLP/HTTP exporter to the same sink). Each server runs in its own process, the sink in another;
// autocannon drives them from this one, the variants interleaved in each round (BENCH_ROUNDS).
// Same run, same box: read the ratios, not the absolutes.
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { buildSampleApi, cpuMs, serverNodeVersion, startServerProcess } from '../lib.mjs';

const DURATION = Number(process.env.BENCH_DURATION ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 20);
const adapters = (process.env.BENCH_ADAPTERS ?? 'express,fastify').split(',');
const stockSetup = fileURLToPath(new URL('otel-stock.mjs', import.meta.url));

const sink = await startServerProcess('bench/monitoring-overhead/otlp-sink.mjs', {}, 'OTLP sink');
const sinkUrl = `http://127.0.0.1:${sink.port}`;
const sinkCount = async () => (await fetch(`${sinkUrl}/count`)).json();

/** Per mode: its env on top of the common one. Both tracing variants export to the sink. */
const otel = {
  OTEL_EXPORTER_OTLP_ENDPOINT: sinkUrl,
  OTEL_SERVICE_NAME: 'bench',
  OTEL_METRICS_EXPORTER: 'none',
  OTEL_LOGS_EXPORTER: 'none',
};
const MODES = {
  bare: {},
  'bare-als': {},
  monitoring: {},
  tracing: { ...otel, NODE_OPTIONS: '--import @infrastructure/monitoring/tracing/register' },
  'otel-stock': { ...otel, NODE_OPTIONS: `--import ${stockSetup}` },
};

const start = (mode, adapter) =>
  startServerProcess(
    'bench/monitoring-overhead/server.mjs',
    { BENCH_MODE: mode, BENCH_ADAPTER: adapter, NODE_ENV: 'production', ...MODES[mode] },
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
    const exportsBefore = (await sinkCount()).requests;
    const before = cpuMs(child.pid);
    const r = await load(port, DURATION);
    const cpuUs = ((cpuMs(child.pid) - before) * 1000) / r.requests.total;
    const exports = (await sinkCount()).requests - exportsBefore;
    if ((mode === 'tracing' || mode === 'otel-stock') !== exports > 0) {
      throw new Error(
        `${mode}/${adapter}: ${exports} OTLP exports reached the sink during the run`,
      );
    }
    return { rps: r.requests.average, p99: r.latency.p99, cpuUs };
  } finally {
    child.kill('SIGKILL');
    await once(child, 'exit');
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

buildSampleApi();
console.log(
  `\nmonitoring-overhead: ${CONNECTIONS} connections, ${DURATION} s per variant, ${ROUNDS} interleaved rounds (medians), servers on node ${serverNodeVersion}`,
);
const modes = Object.keys(MODES);
try {
  for (const adapter of adapters) {
    const runs = Object.fromEntries(modes.map((m) => [m, []]));
    for (let round = 0; round < ROUNDS; round++) {
      // rotate the order so no variant always runs first on a warm or a cold box
      const order = modes.map((_, i) => modes[(i + round) % modes.length]);
      for (const mode of order) {
        runs[mode].push(await measure(mode, adapter));
      }
    }
    const m = Object.fromEntries(
      modes.map((mode) => [
        mode,
        {
          rps: median(runs[mode].map((r) => r.rps)),
          p99: median(runs[mode].map((r) => r.p99)),
          cpuUs: median(runs[mode].map((r) => r.cpuUs)),
        },
      ]),
    );
    const bare = m.bare;
    const row = (label, r) =>
      console.log(
        `  ${adapter.padEnd(8)} ${label.padEnd(30)} ${r.rps.toFixed(0).padStart(6)} req/s ${(r.rps / bare.rps).toFixed(2)}x` +
          `  p99 ${String(r.p99).padStart(3)} ms  cpu ${r.cpuUs.toFixed(0).padStart(4)} us/req ${(r.cpuUs / bare.cpuUs).toFixed(2)}x`,
      );
    row('bare Nest', bare);
    row('bare + AsyncLocalStorage', m['bare-als']);
    row('monitoring (no tracing)', m.monitoring);
    row('monitoring + tracing (ours)', m.tracing);
    row('bare + stock OTel NodeSDK', m['otel-stock']);
    const monCost = 1 - m.monitoring.rps / bare.rps;
    const trRatio = m.tracing.rps / bare.rps;
    const oursAdded = m.tracing.cpuUs - m.monitoring.cpuUs;
    const stockAdded = m['otel-stock'].cpuUs - bare.cpuUs;
    console.log(
      `  ${adapter}: monitoring costs ${(monCost * 100).toFixed(0)}% req/s (goal <= 10%: ${monCost <= 0.1 ? 'met' : 'NOT met'}); ` +
        `monitoring + tracing ${trRatio.toFixed(2)}x bare (goal >= 0.5x: ${trRatio >= 0.5 ? 'met' : 'NOT met'}); ` +
        `AsyncLocalStorage alone ${((1 - m['bare-als'].rps / bare.rps) * 100).toFixed(0)}%`,
    );
    console.log(
      `  ${adapter}: tracing adds ${oursAdded.toFixed(0)} us/req to monitoring, stock OTel adds ${stockAdded.toFixed(0)} us/req to bare: ` +
        `${(oursAdded / stockAdded).toFixed(2)}x (goal <= 1.0x: ${oursAdded <= stockAdded ? 'met' : 'NOT met'})`,
    );
  }
} finally {
  sink.child.kill('SIGTERM');
}
