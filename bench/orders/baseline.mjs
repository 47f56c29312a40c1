// The baseline of bench/orders: what a team would write by hand without the libs. A plain
// `node:http` server with a `pg` pool: POST /v1/orders parses and checks the JSON body, then in one
// transaction inserts the same rows the sample writes (the order row, the event row with a global
// position from a sequence, the outbox row) and answers 201 with the order. GET /v1/orders/:id
// reads the row (`SELECT … WHERE id = $1`, no cache) and answers 200 with the shape the sample
// answers (its OrderDto), 404 when there is no such order, 400 when `:id` is not a UUID.
// Prints `ready <port>`.
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { Pool } from 'pg';

const url = process.env.BENCH_DATABASE_URL;
const schema = process.env.BENCH_SCHEMA;
const pool = new Pool({
  connectionString: url,
  max: Number(process.env.BENCH_POOL_MAX ?? 10),
  options: `-c search_path=${schema}`,
});

function bad(res, detail) {
  res.writeHead(400, { 'content-type': 'application/problem+json' });
  res.end(JSON.stringify({ status: 400, title: 'Bad Request', detail }));
}

async function place(body) {
  const id = randomUUID();
  const now = Date.now();
  const total = body.quantity * body.unitPriceCents;
  const event = {
    id: randomUUID(),
    type: 'orders.OrderPlaced',
    occurredAt: new Date(now).toISOString(),
    data: { orderId: id, ...body, totalCents: total },
  };
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query(
      `INSERT INTO orders (id, customer_id, sku, quantity, unit_price_cents, total_cents, status, created_at, version)
       VALUES ($1, $2, $3, $4, $5, $6, 'placed', $7, 1)`,
      [id, body.customerId, body.sku, body.quantity, body.unitPriceCents, total, now],
    );
    await client.query(
      `INSERT INTO events (position, stream_id, version, event_id, type, data, recorded_at)
       VALUES (nextval('events_position'), $1, 1, $2, $3, $4, $5)`,
      [`order-${id}`, event.id, event.type, JSON.stringify(event), now],
    );
    await client.query(
      `INSERT INTO outbox (id, type, payload, created_at) VALUES ($1, $2, $3, $4)`,
      [event.id, event.type, JSON.stringify(event), now],
    );
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  } finally {
    client.release();
  }
  return {
    id,
    ...body,
    totalCents: total,
    status: 'placed',
    createdAt: new Date(now).toISOString(),
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

async function find(id) {
  const { rows } = await pool.query(
    `SELECT id, customer_id, sku, quantity, unit_price_cents, total_cents, status, created_at, version
     FROM orders WHERE id = $1`,
    [id],
  );
  const row = rows[0];
  if (!row) return undefined;
  return {
    id: row.id,
    customerId: row.customer_id,
    sku: row.sku,
    quantity: row.quantity,
    unitPriceCents: Number(row.unit_price_cents),
    totalCents: Number(row.total_cents),
    status: row.status,
    createdAt: new Date(Number(row.created_at)).toISOString(),
    version: row.version,
  };
}

function get(req, res) {
  const id = req.url.slice('/v1/orders/'.length);
  if (!UUID.test(id)) return bad(res, 'id must be a UUID');
  find(id).then(
    (order) => {
      if (!order) {
        res.writeHead(404, { 'content-type': 'application/problem+json' });
        res.end(JSON.stringify({ status: 404, title: 'Not Found', detail: `no order ${id}` }));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(order));
    },
    (error) => {
      res.writeHead(500).end(String(error));
    },
  );
}

const server = createServer((req, res) => {
  if (req.method === 'GET' && req.url.startsWith('/v1/orders/')) return get(req, res);
  if (req.method !== 'POST' || req.url !== '/v1/orders') {
    res.writeHead(404).end();
    return;
  }
  let raw = '';
  req.setEncoding('utf8');
  req.on('data', (c) => (raw += c));
  req.on('end', () => {
    let body;
    try {
      body = JSON.parse(raw);
    } catch {
      return bad(res, 'not JSON');
    }
    if (
      typeof body?.customerId !== 'string' ||
      typeof body.sku !== 'string' ||
      !Number.isInteger(body.quantity) ||
      !Number.isInteger(body.unitPriceCents)
    ) {
      return bad(res, 'invalid order');
    }
    place(body).then(
      (order) => {
        res.writeHead(201, { 'content-type': 'application/json' });
        res.end(JSON.stringify(order));
      },
      (error) => {
        res.writeHead(500).end(String(error));
      },
    );
  });
});
server.listen(0, '127.0.0.1', () => console.log(`ready ${server.address().port}`));
