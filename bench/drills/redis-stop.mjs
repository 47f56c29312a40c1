// Drill: Redis stopped under read load. `GET /v1/orders/:id` (cached: L1 off so every read goes
// to Redis, REDIS_URL set, rate limits in Redis too) from 16 connections; Redis is shut down for
// DRILL_OUTAGE_S seconds, then started again with the command of scripts/services.sh.
// PASS: 0 5xx and 0 transport errors in every phase, the outage's p99 within the baseline's p99 +
// 2 × CACHE_OP_TIMEOUT_MS (a read makes at most two Redis round trips that can time out: the
// cache get and the rate limiter), and cache hits again after the restart without restarting
// the app. Redis is ALWAYS started again (finally, SIGINT, SIGTERM).
import {
  buildSampleApi,
  drillId,
  explain,
  fmtStatuses,
  freshDatabase,
  load,
  maxMs,
  metric,
  orderBody,
  pct,
  REDIS_URL,
  sh,
  sleep,
  startApp,
  token,
  until,
  verdict,
  withDisruption,
} from './lib.mjs';

const OP_TIMEOUT_MS = Number(process.env.DRILL_CACHE_OP_TIMEOUT_MS ?? 100);
const PHASE_S = Number(process.env.DRILL_PHASE_S ?? 8);
const OUTAGE_S = Number(process.env.DRILL_OUTAGE_S ?? 10);
const CONNECTIONS = Number(process.env.DRILL_CONNECTIONS ?? 16);
const ORDERS = 50;
// The same command scripts/services.sh starts Redis with.
const REDIS_START = [
  '--daemonize',
  'yes',
  '--bind',
  '127.0.0.1',
  '-::1',
  '--port',
  '6379',
  '--save',
  '',
  '--appendonly',
  'no',
  '--dir',
  '/var/lib/redis',
  '--logfile',
  '/var/log/redis/ci.log',
];

const redisUp = () => {
  try {
    return sh('redis-cli', ['-p', '6379', 'ping'], 2000).trim() === 'PONG';
  } catch {
    return false;
  }
};

/** 5xx answers and transport errors (status 0) among `results`. */
const bad = (results) => results.filter((r) => r.status >= 500 || r.status === 0).length;

buildSampleApi();
const db = await freshDatabase('drill_redis');
let app;
try {
  app = await startApp({
    DATABASE_URL: db.url,
    SERVICE_NAME: 'sample-api-drill-redis',
    REDIS_URL,
    CACHE_KEY_PREFIX: `drill-${drillId()}:`,
    CACHE_L1_MAX_ENTRIES: '0',
    CACHE_OP_TIMEOUT_MS: String(OP_TIMEOUT_MS),
    MESSAGING_TRANSPORT: 'memory',
  });
  const auth = { authorization: await token(app.url) };
  const ids = [];
  for (let i = 0; i < ORDERS; i++) {
    const res = await fetch(`${app.url}/v1/orders`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify(orderBody(i)),
    });
    if (res.status !== 201) throw new Error(`placing order: ${res.status} ${await res.text()}`);
    ids.push((await res.json()).id);
  }
  let n = 0;
  const run = load({
    url: app.url,
    headers: auth,
    connections: CONNECTIONS,
    next: () => ({ method: 'GET', path: `/v1/orders/${ids[n++ % ids.length]}` }),
    timeoutMs: 10_000,
  });
  await sleep(PHASE_S * 1000);
  await withDisruption(
    'redis',
    {
      disrupt: () => {
        run.setPhase('outage');
        sh('redis-cli', ['-p', '6379', 'shutdown', 'nosave']);
      },
      restore: () => {
        if (!redisUp()) sh('redis-server', REDIS_START);
        run.setPhase('after');
      },
    },
    async () => {
      await sleep(OUTAGE_S * 1000);
    },
  );
  const up = await until(redisUp, 10_000);
  const hitsAtRestart = await metric(app.metricsUrl, 'cache_requests_total', { result: 'hit' });
  await sleep(PHASE_S * 1000);
  await run.stop();
  const hitsAtEnd = await metric(app.metricsUrl, 'cache_requests_total', { result: 'hit' });
  // Hits in the last phase: the cache came back without a restart (reads after the reconnect).
  const hitsAfterRestart = hitsAtEnd - hitsAtRestart;
  const cacheErrors = await metric(app.metricsUrl, 'cache_requests_total', { result: 'error' });

  const phases = Object.fromEntries(
    ['before', 'outage', 'after'].map((p) => [p, run.results.filter((r) => r.phase === p)]),
  );
  const bound = pct(phases.before, 99) + 2 * OP_TIMEOUT_MS;
  const line = (p) =>
    `${p} ${phases[p].length} req ${fmtStatuses(phases[p])} p99 ${pct(phases[p], 99).toFixed(0)} ms max ${maxMs(phases[p]).toFixed(0)} ms`;
  const failures = [];
  for (const p of Object.keys(phases)) {
    if (bad(phases[p]) > 0) failures.push(`${p}: ${bad(phases[p])} 5xx/transport errors`);
  }
  if (pct(phases.outage, 99) > bound)
    failures.push(
      `outage p99 ${pct(phases.outage, 99).toFixed(0)} ms > bound ${bound.toFixed(0)} ms`,
    );
  if (!up) failures.push('redis did not answer again');
  if (!(hitsAfterRestart > 0)) failures.push('no cache hit after Redis came back');
  if (phases.after.some((r) => r.status !== 200))
    failures.push(`after: non-200 answers: ${fmtStatuses(phases.after)}`);
  verdict(
    'redis-stop',
    failures.length === 0,
    `${line('before')} | ${line('outage')} (bound ${bound.toFixed(0)} ms) | ${line('after')} | ` +
      `hits after restart ${hitsAfterRestart}, cache errors ${cacheErrors}`,
    failures,
  );
  if (failures.length) explain('redis-stop', app);
} finally {
  if (!redisUp()) sh('redis-server', REDIS_START);
  await app?.stop();
  await db.drop();
}
