// Drill: RabbitMQ `rabbitmqctl stop_app` / `start_app` in the middle of DRILL_ORDERS (10,000)
// `POST /v1/orders` through the built app (outbox + RabbitMQ transport, 16 connections). The
// broker goes away once 30% are placed and comes back once 60% are (at least DRILL_OUTAGE_S
// seconds later). Then it waits for the drain: the outbox empty, every order's payment recorded
// (the payments handler consumes OrderPlaced from RabbitMQ), the summary projection caught up.
// PASS: every POST 201; 0 lost (every order left `placed`, its OrderPlaced handled by the
// notifications group's inbox, the summaries count it) and 0 duplicated (one payment event per
// order, customer summaries equal to what was placed, count and cents). Prints the drain time
// after `start_app` and the redeliveries the consumers absorbed. The broker is ALWAYS started
// again (finally, SIGINT, SIGTERM).
import {
  AMQP_URL,
  buildSampleApi,
  drillId,
  explain,
  fmtStatuses,
  freshDatabase,
  metric,
  pct,
  sh,
  sleep,
  startApp,
  until,
  verdict,
  withDisruption,
  orderLoad,
} from './lib.mjs';

const ORDERS = Number(process.env.DRILL_ORDERS ?? 10_000);
const CONNECTIONS = Number(process.env.DRILL_CONNECTIONS ?? 16);
const OUTAGE_S = Number(process.env.DRILL_OUTAGE_S ?? 10);
const DRAIN_TIMEOUT_S = Number(process.env.DRILL_DRAIN_TIMEOUT_S ?? 300);
const CUSTOMERS = 20;

const brokerUp = () => {
  try {
    sh('rabbitmqctl', ['await_startup', '--timeout', '5'], 10_000);
    return true;
  } catch {
    return false;
  }
};

buildSampleApi();
const db = await freshDatabase('drill_rabbit');
let app;
try {
  app = await startApp({
    DATABASE_URL: db.url,
    DATABASE_POOL_MAX: '10',
    SERVICE_NAME: 'sample-api-drill-rabbit',
    MESSAGING_TRANSPORT: 'rabbitmq',
    MESSAGING_URL: AMQP_URL,
    MESSAGING_NAMESPACE: `drill-${drillId()}`,
  });
  const run = await orderLoad(app, {
    connections: CONNECTIONS,
    limit: ORDERS,
    customers: CUSTOMERS,
  });
  const placed = () => run.results.filter((r) => r.status === 201).length;
  const t0 = Date.now();
  await until(() => placed() >= ORDERS * 0.3 || run.sent() >= ORDERS, 3_600_000, 100);
  let restartedAt = 0;
  let outageMs = 0;
  let placedDuringOutage = 0;
  await withDisruption(
    'rabbitmq',
    {
      disrupt: () => {
        run.setPhase('outage');
        sh('rabbitmqctl', ['stop_app']);
      },
      restore: () => {
        sh('rabbitmqctl', ['start_app']);
        restartedAt = Date.now();
        run.setPhase('after');
      },
    },
    async (restore) => {
      const from = Date.now();
      const before = placed();
      await sleep(OUTAGE_S * 1000);
      await until(() => placed() >= ORDERS * 0.6 || run.sent() >= ORDERS, 3_600_000, 100);
      outageMs = Date.now() - from;
      placedDuringOutage = placed() - before;
      restore();
    },
  );
  const [{ n: backlog }] = (
    await db.client.query(`SELECT count(*)::int AS n FROM outbox_messages WHERE sent_at IS NULL`)
  ).rows;
  await run.done;
  const loadEnd = Date.now();
  const loadS = (Date.now() - t0) / 1000;
  const ok = run.results.filter((r) => r.status === 201);
  const expected = new Map();
  for (const r of ok) {
    const { customerId } = r.req.body;
    const e = expected.get(customerId) ?? { count: 0, cents: 0 };
    e.count++;
    e.cents += r.req.body.quantity * r.req.body.unitPriceCents;
    expected.set(customerId, e);
  }

  const q = async (sql) => (await db.client.query(sql)).rows;
  const drained = await until(
    async () => {
      const [[o], [p], [s]] = await Promise.all([
        q(`SELECT count(*)::int AS n FROM outbox_messages WHERE sent_at IS NULL`),
        q(`SELECT count(*)::int AS n FROM orders WHERE status = 'placed'`),
        q(`SELECT coalesce(sum(orders_count), 0)::int AS n FROM order_summaries`),
      ]);
      return o.n === 0 && p.n === 0 && s.n >= ok.length;
    },
    DRAIN_TIMEOUT_S * 1000,
    200,
  );
  const drainMs = Date.now() - restartedAt;
  const tailMs = Date.now() - loadEnd;

  const [[rows], [pending], [unsent], [dupPayments], [notified], summaries] = await Promise.all([
    q(`SELECT count(*)::int AS n FROM orders`),
    q(`SELECT count(*)::int AS n FROM orders WHERE status = 'placed'`),
    q(`SELECT count(*)::int AS n FROM outbox_messages WHERE sent_at IS NULL`),
    q(`SELECT count(*)::int AS n FROM (SELECT stream_id FROM event_store_events
         WHERE type = 'orders.OrderPaymentRecorded' GROUP BY stream_id HAVING count(*) > 1) d`),
    q(`SELECT count(*)::int AS n FROM inbox_messages WHERE handler LIKE '%notifications%'`).catch(
      () => [{ n: -1 }],
    ),
    q(
      `SELECT customer_id, orders_count::int AS count, total_cents::bigint AS cents FROM order_summaries`,
    ),
  ]);
  let summaryMismatch = 0;
  for (const s of summaries) {
    const e = expected.get(s.customer_id);
    if (!e || e.count !== s.count || e.cents !== Number(s.cents)) summaryMismatch++;
  }
  summaryMismatch += [...expected.keys()].filter(
    (c) => !summaries.some((s) => s.customer_id === c),
  ).length;
  const summed = summaries.reduce((t, s) => t + s.count, 0);
  const consumed = await metric(app.metricsUrl, 'messages_consumed_total', {
    group: 'sample-api.payments',
    outcome: 'success',
  });
  const retries = await metric(app.metricsUrl, 'messages_consumed_total', { outcome: 'retry' });
  const deadLetters = await metric(app.metricsUrl, 'messages_consumed_total', {
    outcome: 'dead_letter',
  });

  const lost = pending.n + Math.max(0, ok.length - summed) + (ok.length - rows.n);
  const duplicated = dupPayments.n + Math.max(0, summed - ok.length);
  const failures = [];
  if (ok.length !== ORDERS) failures.push(`POST answers: ${fmtStatuses(run.results)}`);
  if (!drained)
    failures.push(
      `not drained after ${DRAIN_TIMEOUT_S} s: ${unsent.n} unsent, ${pending.n} unpaid`,
    );
  if (lost > 0)
    failures.push(
      `lost: ${pending.n} unpaid, summaries count ${summed} of ${ok.length}, ${rows.n} rows`,
    );
  if (duplicated > 0)
    failures.push(
      `duplicated: ${dupPayments.n} orders paid twice, summaries count ${summed} of ${ok.length}`,
    );
  if (summaryMismatch > 0)
    failures.push(`${summaryMismatch} customer summaries differ from what was placed`);
  if (notified.n >= 0 && notified.n !== ok.length)
    failures.push(`notifications inbox holds ${notified.n} of ${ok.length}`);
  verdict(
    'rabbitmq-restart',
    failures.length === 0,
    `${ok.length}/${ORDERS} placed in ${loadS.toFixed(0)} s (${fmtStatuses(run.results)}, p99 ${pct(run.results, 99).toFixed(0)} ms), ` +
      `broker down ${(outageMs / 1000).toFixed(1)} s while ${placedDuringOutage} were placed; ` +
      `lost ${lost}, duplicated ${duplicated}, summaries ${summed} (${summaryMismatch} differ), inbox ${notified.n}; ` +
      `drained ${(drainMs / 1000).toFixed(1)} s after start_app (outbox backlog ${backlog}), ${(tailMs / 1000).toFixed(1)} s after the last order; payments handled ${consumed} (${consumed - ok.length} redelivered), retries ${retries}, dead letters ${deadLetters}`,
    failures,
  );
  if (failures.length) explain('rabbitmq-restart', app);
} finally {
  if (!brokerUp()) sh('rabbitmqctl', ['start_app']);
  await app?.stop();
  await db.drop();
}
