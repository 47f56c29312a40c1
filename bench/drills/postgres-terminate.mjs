// Drill: PostgreSQL connections terminated under write load. `POST /v1/orders` from 16
// connections against the built app on its own database; for DRILL_OUTAGE_S seconds every
// backend of that database but the drill's own is killed every DRILL_KILL_EVERY_MS
// (`pg_terminate_backend`), then the load goes on for DRILL_PHASE_S seconds.
// PASS: no 5xx but 503 and no transport error or timeout in any phase; every answer within
// DRILL_MAX_MS (no hang); the last half of the after phase all 201 (recovery without a restart);
// nothing half-written: every `orders` row has its OrderPlaced event and outbox row and vice
// versa, every 201 is a row, and an order's status and its OrderPaymentRecorded event agree.
import {
  ADMIN_APP,
  buildSampleApi,
  explain,
  fmtStatuses,
  freshDatabase,
  maxMs,
  pct,
  sleep,
  startApp,
  until,
  verdict,
  orderLoad,
} from './lib.mjs';

const PHASE_S = Number(process.env.DRILL_PHASE_S ?? 6);
const OUTAGE_S = Number(process.env.DRILL_OUTAGE_S ?? 5);
const KILL_EVERY_MS = Number(process.env.DRILL_KILL_EVERY_MS ?? 100);
const CONNECTIONS = Number(process.env.DRILL_CONNECTIONS ?? 16);
const MAX_MS = Number(process.env.DRILL_MAX_MS ?? 5000);

buildSampleApi();
const db = await freshDatabase('drill_pg');
let app;
try {
  app = await startApp({
    DATABASE_URL: db.url,
    DATABASE_POOL_MAX: '10',
    SERVICE_NAME: 'sample-api-drill-pg',
    MESSAGING_TRANSPORT: 'memory',
  });
  const run = await orderLoad(app, {
    connections: CONNECTIONS,
    timeoutMs: MAX_MS * 4,
  });
  await sleep(PHASE_S * 1000);
  run.setPhase('outage');
  let killed = 0;
  let rounds = 0;
  const end = Date.now() + OUTAGE_S * 1000;
  while (Date.now() < end) {
    const { rowCount } = await db.client.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
        WHERE datname = $1 AND pid <> pg_backend_pid() AND application_name <> $2`,
      [db.name, ADMIN_APP],
    );
    killed += rowCount;
    rounds++;
    await sleep(KILL_EVERY_MS);
  }
  run.setPhase('after');
  await sleep(PHASE_S * 1000);
  await run.stop();
  const placedIds = run.results.filter((r) => r.status === 201).map((r) => JSON.parse(r.body).id);

  const q = async (sql, params) => (await db.client.query(sql, params)).rows;
  // Payments go on after the load (in-process bus): wait until every order has its answer.
  await until(
    async () =>
      (await q(`SELECT count(*)::int AS n FROM orders WHERE status = 'placed'`))[0].n === 0,
    60_000,
  );
  const one = async (sql, params) => (await q(sql, params))[0].n;
  const [
    rows,
    rowsWithoutEvent,
    eventsWithoutRow,
    eventsWithoutOutbox,
    outboxWithoutEvent,
    statusMismatch,
    missing201,
  ] = await Promise.all([
    one(`SELECT count(*)::int AS n FROM orders`),
    one(`SELECT count(*)::int AS n FROM orders o WHERE NOT EXISTS (SELECT 1 FROM event_store_events e
             WHERE e.stream_id = 'order-' || o.id::text AND e.type = 'orders.OrderPlaced')`),
    one(`SELECT count(*)::int AS n FROM event_store_events e WHERE e.type = 'orders.OrderPlaced'
             AND NOT EXISTS (SELECT 1 FROM orders o WHERE 'order-' || o.id::text = e.stream_id)`),
    one(`SELECT count(*)::int AS n FROM event_store_events e WHERE NOT EXISTS
             (SELECT 1 FROM outbox_messages m WHERE m.message_id = e.event_id)`),
    one(`SELECT count(*)::int AS n FROM outbox_messages m WHERE m.type LIKE 'orders.%' AND NOT EXISTS
             (SELECT 1 FROM event_store_events e WHERE e.event_id = m.message_id)`),
    one(`SELECT count(*)::int AS n FROM orders o WHERE (o.status IN ('paid', 'payment_declined')) <>
             EXISTS (SELECT 1 FROM event_store_events e WHERE e.stream_id = 'order-' || o.id::text
                     AND e.type = 'orders.OrderPaymentRecorded')`),
    one(
      `SELECT count(*)::int AS n FROM unnest($1::text[]) AS p(id)
             WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.id::text = p.id)`,
      [placedIds],
    ),
  ]);

  const phases = Object.fromEntries(
    ['before', 'outage', 'after'].map((p) => [p, run.results.filter((r) => r.phase === p)]),
  );
  const line = (p) =>
    `${p} ${fmtStatuses(phases[p])} p99 ${pct(phases[p], 99).toFixed(0)} ms max ${maxMs(phases[p]).toFixed(0)} ms`;
  const failures = [];
  for (const [p, rs] of Object.entries(phases)) {
    const bad = rs.filter((r) => r.status === 0 || (r.status >= 500 && r.status !== 503));
    if (bad.length)
      failures.push(
        `${p}: ${bad.length} 5xx other than 503 / transport errors (${fmtStatuses(bad)})`,
      );
    if (maxMs(rs) > MAX_MS)
      failures.push(`${p}: an answer took ${maxMs(rs).toFixed(0)} ms > ${MAX_MS} ms`);
  }
  const lateAfter = phases.after.slice(Math.floor(phases.after.length / 2));
  if (lateAfter.some((r) => r.status !== 201))
    failures.push(`not recovered: the last half of the after phase is ${fmtStatuses(lateAfter)}`);
  const firstOk = run.results.find((r) => r.phase === 'after' && r.status === 201);
  const halfWritten =
    rowsWithoutEvent + eventsWithoutRow + eventsWithoutOutbox + outboxWithoutEvent + statusMismatch;
  if (halfWritten > 0)
    failures.push(
      `half-written: ${rowsWithoutEvent} rows without event, ${eventsWithoutRow} events without row, ` +
        `${eventsWithoutOutbox} events without outbox row, ${outboxWithoutEvent} outbox rows without event, ${statusMismatch} status/payment event mismatches`,
    );
  if (missing201 > 0) failures.push(`${missing201} orders answered 201 are not in the table`);
  verdict(
    'postgres-terminate',
    failures.length === 0,
    `${line('before')} | ${line('outage')} (${killed} backends killed in ${rounds} rounds) | ${line('after')} | ` +
      `${rows} rows, ${placedIds.length} answered 201, half-written ${halfWritten}, missing ${missing201}` +
      (firstOk ? '' : ', no 201 after the outage'),
    failures,
  );
  if (failures.length) explain('postgres-terminate', app);
} finally {
  await app?.stop();
  await db.drop();
}
