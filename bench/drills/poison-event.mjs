// Drill: a poison event mid-stream. While `POST /v1/orders` runs (4 connections, DRILL_ORDERS in
// all), an OrderPlaced event the `order-summaries` projection's handler cannot apply (a valid
// payload whose customerId is longer than the summaries' varchar(64) key) is appended to the event
// store directly in SQL, the way the store appends (the sequence row, then the event), after a
// third of the orders. PASS: exactly that event parked (`event_store_parked` and
// `projection_parked_events_total`), the projection's checkpoint at the head, and the summaries
// equal to what was placed (count and cents per customer): the rest flowed past it.
import { randomUUID } from 'node:crypto';
import {
  buildSampleApi,
  fmtStatuses,
  freshDatabase,
  metric,
  startApp,
  until,
  verdict,
  orderLoad,
} from './lib.mjs';

const ORDERS = Number(process.env.DRILL_ORDERS ?? 600);
const CONNECTIONS = Number(process.env.DRILL_CONNECTIONS ?? 4);
const CUSTOMERS = 20;
const PROJECTION = 'order-summaries';

buildSampleApi();
const db = await freshDatabase('drill_poison');
let app;
try {
  app = await startApp({
    DATABASE_URL: db.url,
    SERVICE_NAME: 'sample-api-drill-poison',
    MESSAGING_TRANSPORT: 'memory',
  });
  const run = await orderLoad(app, {
    connections: CONNECTIONS,
    limit: ORDERS,
    customers: CUSTOMERS,
  });
  await until(() => run.results.length >= ORDERS / 3, 600_000, 50);

  // The poison: a copy of a stored OrderPlaced with a new event id, order id and stream, and a
  // customerId of 100 characters (the payload schema allows it; order_summaries.customer_id
  // is varchar(64), so the projection's insert throws every time).
  const poisonOrder = randomUUID();
  const poisonEvent = randomUUID();
  const tx = await db.client.connect();
  let poisonPosition;
  let insertedAt;
  try {
    await tx.query('BEGIN');
    const [sample] = (
      await tx.query(
        `SELECT data FROM event_store_events WHERE type = 'orders.OrderPlaced' ORDER BY position LIMIT 1`,
      )
    ).rows;
    const envelope = JSON.parse(sample.data);
    envelope.id = poisonEvent;
    envelope.aggregateId = poisonOrder;
    envelope.version = 1;
    envelope.payload = {
      ...envelope.payload,
      orderId: poisonOrder,
      customerId: `poison-${'x'.repeat(93)}`,
    };
    // The append's order on PostgreSQL: hold an xid, draw the position from the event store's
    // sequence, then take a subtransaction's xid as the row's horizon (what tells projections
    // whether a hole before it may still fill).
    await tx.query('SELECT pg_current_xact_id()');
    const [{ position }] = (
      await tx.query(`SELECT nextval('event_store_position_seq') AS position`)
    ).rows;
    poisonPosition = Number(position);
    await tx.query('SAVEPOINT horizon');
    const [{ horizon }] = (
      await tx.query(
        `WITH s AS (INSERT INTO event_store_streams (stream_id, version) VALUES ($1, 1)
                    RETURNING xmin::text::bigint AS sub, pg_current_xact_id()::text::bigint AS top)
         SELECT top + ((sub - top % 4294967296 + 4294967296) % 4294967296) AS horizon FROM s`,
        [`order-${poisonOrder}`],
      )
    ).rows;
    await tx.query('RELEASE SAVEPOINT horizon');
    await tx.query(
      `INSERT INTO event_store_events (position, stream_id, version, event_id, type, data, recorded_at, horizon)
       VALUES ($1, $2, 1, $3, 'orders.OrderPlaced', $4, $5, $6)`,
      [
        poisonPosition,
        `order-${poisonOrder}`,
        poisonEvent,
        JSON.stringify(envelope),
        Date.now(),
        horizon,
      ],
    );
    await tx.query('COMMIT');
    insertedAt = Date.now();
  } catch (error) {
    await tx.query('ROLLBACK');
    throw error;
  } finally {
    tx.release();
  }
  const placedAtPoison = run.results.filter((r) => r.status === 201).length;
  const parkedAfter = await until(
    async () =>
      (
        await db.client.query(`SELECT 1 FROM event_store_parked WHERE projection = $1`, [
          PROJECTION,
        ])
      ).rowCount > 0,
    120_000,
    100,
  );
  const parkMs = Date.now() - insertedAt;
  await run.done;
  const ok = run.results.filter((r) => r.status === 201);
  const expected = new Map();
  for (const r of ok) {
    const e = expected.get(r.req.body.customerId) ?? { count: 0, cents: 0 };
    e.count++;
    e.cents += r.req.body.quantity * r.req.body.unitPriceCents;
    expected.set(r.req.body.customerId, e);
  }
  const q = async (sql, params) => (await db.client.query(sql, params)).rows;
  const caughtUp = await until(
    async () => {
      const [[c], [s]] = await Promise.all([
        q(`SELECT position FROM event_store_checkpoints WHERE name = $1`, [PROJECTION]),
        q(`SELECT MAX(position) AS position FROM event_store_events`),
      ]);
      return c && Number(c.position) === Number(s.position);
    },
    60_000,
    200,
  );
  const parked = await q(
    `SELECT projection, position, event_id, attempts, error FROM event_store_parked`,
  );
  const summaries = await q(
    `SELECT customer_id, orders_count::int AS count, total_cents::bigint AS cents FROM order_summaries`,
  );
  let mismatch = [...expected.keys()].filter(
    (c) => !summaries.some((s) => s.customer_id === c),
  ).length;
  for (const s of summaries) {
    const e = expected.get(s.customer_id);
    if (!e || e.count !== s.count || e.cents !== Number(s.cents)) mismatch++;
  }
  const summed = summaries.reduce((t, s) => t + s.count, 0);
  const parkedMetric = await metric(app.metricsUrl, 'projection_parked_events_total', {
    projection: PROJECTION,
  });
  const errorsMetric = await metric(app.metricsUrl, 'projection_errors_total', {
    projection: PROJECTION,
  });

  const failures = [];
  if (ok.length !== ORDERS) failures.push(`POST answers: ${fmtStatuses(run.results)}`);
  if (!parkedAfter) failures.push('the poison event was never parked');
  if (
    parked.length !== 1 ||
    parked[0].event_id !== poisonEvent ||
    Number(parked[0].position) !== poisonPosition
  )
    failures.push(`parked: ${JSON.stringify(parked)}`);
  if (parkedMetric !== 1) failures.push(`projection_parked_events_total = ${parkedMetric}`);
  if (!caughtUp) failures.push('the projection did not reach the head');
  if (mismatch > 0 || summed !== ok.length)
    failures.push(
      `summaries: ${summed} orders counted of ${ok.length}, ${mismatch} customers differ`,
    );
  verdict(
    'poison-event',
    failures.length === 0,
    `${ok.length}/${ORDERS} placed (${fmtStatuses(run.results)}), poison at position ${poisonPosition} after ${placedAtPoison}; ` +
      `parked ${parked.length} (${parked[0]?.attempts ?? 0} attempts, "${String(parked[0]?.error ?? '').slice(0, 60)}") ${(parkMs / 1000).toFixed(1)} s after insert, ` +
      `metric parked ${parkedMetric}, errors ${errorsMetric}; summaries ${summed}/${ok.length} (${mismatch} customers differ), checkpoint at head ${Boolean(caughtUp)}`,
    failures,
  );
} finally {
  await app?.stop();
  await db.drop();
}
