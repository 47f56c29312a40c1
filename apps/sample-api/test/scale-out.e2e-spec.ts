import { createHash, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { hostname } from 'node:os';
import autocannon from 'autocannon';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { connect as natsConnect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect as amqpConnect } from 'amqplib';
import type { QueryRunner } from 'typeorm';
import { generateWebhookSecret } from '@infrastructure/webhooks';
import { TestDatabase } from '@infrastructure/testing';
import { balancer } from './balancer.js';
import { freePort, run } from './spawn.js';

// Scale-out: two instances of the built app (separate processes and ports) on one database,
// one Redis and one broker, then one of them is stopped with SIGTERM under load.

interface Backend {
  name: string;
  database: string;
  transport: 'rabbitmq' | 'nats';
  url: string;
}

const BACKENDS: Backend[] = [
  {
    name: 'PostgreSQL + Redis + RabbitMQ',
    database: 'postgres://postgres@127.0.0.1:5432/test',
    transport: 'rabbitmq',
    url: 'amqp://guest:guest@127.0.0.1:5672',
  },
  {
    name: 'MariaDB + Redis + NATS',
    database: 'mysql://root@127.0.0.1:3306/test',
    transport: 'nats',
    url: 'nats://127.0.0.1:4222',
  },
];

/** Consumer groups of the sample app (each a queue / durable consumer on the broker). */
const GROUPS = [
  'sample-api.order-notifications',
  'sample-api.payments',
  'sample-api.order-webhooks',
  'webhooks',
];

const SECRET = 'scale-out-secret';
const RATE_LIMIT = 150;
/** Load users: the rate limit is per principal, so the load spreads over several. */
const LOAD_USERS = 8;
const LOAD_REQUESTS = 400;
/** OUTBOX_LEASE_MS of the instance killed in the takeover test, and the orders it leaves. */
const LEASE_MS = 2000;
const LEASE_ORDERS = 5;
/** The outbox relays' claim lock (pg_advisory_xact_lock key in libs/messaging outbox.store.ts). */
const CLAIM_LOCK_KEY = 7_236_189_442;
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const CLIENTS = ['main', 'rate', ...Array.from({ length: LOAD_USERS }, (_, i) => `load-${i}`)];

/** The transports' ack wait (NATS 30 s by default) plus a margin: when redelivery is due at the latest. */
const REDELIVERY_BOUND_MS = 45_000;

/** Polls `check` (an assertion) until it passes, or fails with its last error after `timeout`. */
const eventually = <T>(check: () => Promise<T> | T, timeout = 20_000) =>
  vi.waitFor(check, { timeout, interval: 100 });

interface Hook {
  id: string;
  type: string;
  data: { orderId: string };
}

/** A webhook receiver that records every delivery (204 to each). */
async function hookReceiver() {
  const hooks: Hook[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const { type, data } = JSON.parse(Buffer.concat(chunks).toString()) as Hook;
      hooks.push({ id: String((req.headers as IncomingHttpHeaders)['webhook-id']), type, data });
      res.writeHead(204).end();
    });
  }).listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/hooks/orders`,
    hooks,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

/** One JSON log line of the app (only the fields these tests read). */
interface LogLine {
  level?: string;
  msg?: string;
  orderId?: string;
  err?: { message?: string };
}

/** An error line as the test reports it: the message and the error's own message. */
const errorText = (l: LogLine) => `${l.msg}: ${l.err?.message ?? ''}`;

function logLines(output: string): LogLine[] {
  return output
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as LogLine);
}

/** The sum of a metric's samples in a Prometheus text exposition (labels matching `labels`). */
function metricSum(text: string, name: string, labels = ''): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (labels && !line.includes(labels)) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

const metrics = async (base: string) => (await fetch(`${base}/metrics`)).text();

/** Removes the broker topology of `namespace` (each run has its own). */
async function dropTopology(backend: Backend, namespace: string): Promise<void> {
  if (backend.transport === 'nats') {
    const nc = await natsConnect({ servers: '127.0.0.1:4222' });
    try {
      const jsm = await jetstreamManager(nc);
      for (const name of [namespace, `${namespace}-dlq`])
        await jsm.streams.delete(name).catch(() => false);
    } finally {
      await nc.close();
    }
    return;
  }
  const conn = await amqpConnect(backend.url);
  try {
    const channel = await conn.createChannel();
    for (const group of GROUPS) {
      await channel.deleteQueue(`${namespace}.${group}`);
      await channel.deleteQueue(`${namespace}.${group}.retry`);
    }
    await channel.deleteQueue(`${namespace}.dead-letters`);
    await channel.deleteExchange(namespace);
    await channel.close();
  } finally {
    await conn.close();
  }
}

describe.each(BACKENDS)('two instances on $name', (backend) => {
  const tag = randomUUID().slice(0, 8);
  const namespace = `scale-e2e-${tag}`;
  const webhookSecret = generateWebhookSecret();
  let db: TestDatabase;
  let hooks: Awaited<ReturnType<typeof hookReceiver>>;
  let a: ReturnType<typeof run>;
  let b: ReturnType<typeof run>;
  let A: string;
  let B: string;
  const tokens = new Map<string, string>();
  /** Orders the clients were told were placed (201), by id. */
  const placed = new Set<string>();

  const auth = (client: string) => ({ authorization: `Bearer ${tokens.get(client)}` });

  async function call(
    base: string,
    method: string,
    path: string,
    body?: object,
    client = 'main',
  ): Promise<{ status: number; body: Record<string, unknown> }> {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { ...auth(client), ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  }

  async function placeOrder(base: string, customerId: string): Promise<string> {
    const res = await call(base, 'POST', '/v1/orders', {
      customerId,
      sku: 'SCALE-1',
      quantity: 2,
      unitPriceCents: 150,
    });
    expect(res.status).toBe(201);
    const id = String(res.body.id);
    placed.add(id);
    return id;
  }

  /** Order ids in the 'Order placed event handled' lines of both instances (one per handling). */
  const handled = () =>
    [...logLines(a.output()), ...logLines(b.output())]
      .filter((l) => l.msg === 'Order placed event handled')
      .map((l) => l.orderId);

  function instance(port: number, extra: Record<string, string> = {}) {
    return run({
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      DATABASE_URL: db.url,
      REDIS_URL: 'redis://127.0.0.1:6379',
      CACHE_KEY_PREFIX: `${namespace}:`,
      MESSAGING_TRANSPORT: backend.transport,
      MESSAGING_URL: backend.url,
      MESSAGING_NAMESPACE: namespace,
      // One signing key for both instances: a token from one is good on the other.
      JWT_SECRET: `scale-out-jwt-secret-${tag}-0123456789abcdef`,
      AUTH_CLIENTS: CLIENTS.map(
        (c) => `${c}|sha256:${sha256(SECRET)}|orders:read orders:write`,
      ).join(','),
      RATE_LIMIT_PER_MINUTE: String(RATE_LIMIT),
      ORDER_WEBHOOK_URL: hooks.url,
      WEBHOOK_SECRET: webhookSecret,
      // Drain at once on SIGTERM: the balancer meets refusals, not only a readiness flip.
      SHUTDOWN_READINESS_DELAY_MS: '0',
      ...extra,
    });
  }

  const pendingRows = async () => {
    const [{ pending }] = (await db.dataSource.query(
      `SELECT COUNT(*) AS pending FROM outbox_messages WHERE sent_at IS NULL`,
    )) as Array<{ pending: string | number }>;
    return Number(pending);
  };

  const duplicatesOnB = async () =>
    metricSum(await metrics(B), 'messages_consumed_total', 'outcome="duplicate"');

  /** Takes (or gives back) the relays' claim lock in `q`'s session: every claim waits meanwhile. */
  async function claimLock(q: QueryRunner, take: boolean): Promise<void> {
    if (backend.database.startsWith('mysql')) {
      const [row] = (await q.query(
        take
          ? `SELECT GET_LOCK('outbox_claim', 10) AS got`
          : `SELECT RELEASE_LOCK('outbox_claim') AS got`,
      )) as Array<{ got: number | string }>;
      if (Number(row?.got) !== 1) throw new Error(`claim lock (take=${take}): ${row?.got}`);
      return;
    }
    await q.query(
      take
        ? `SELECT pg_advisory_lock(${CLAIM_LOCK_KEY})`
        : `SELECT pg_advisory_unlock(${CLAIM_LOCK_KEY})`,
    );
  }

  beforeAll(async () => {
    db = await TestDatabase.create({ url: backend.database, migrations: [], synchronize: false });
    hooks = await hookReceiver();
    const [portA, portB] = [await freePort(), await freePort()];
    A = `http://127.0.0.1:${portA}`;
    B = `http://127.0.0.1:${portB}`;
    // Both boot at once on the empty database: the migrations run once, under the lock.
    a = instance(portA);
    b = instance(portB);
    const deadline = new Promise((_, reject) =>
      setTimeout(
        () => reject(new Error(`not listening after 50 s:\n${a.output()}\n${b.output()}`)),
        50_000,
      ).unref(),
    );
    await Promise.race([Promise.all([a.listening, b.listening]), deadline]);
    for (const client of CLIENTS) {
      const res = await fetch(`${client.startsWith('load') ? B : A}/v1/auth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          grant_type: 'client_credentials',
          client_id: client,
          client_secret: SECRET,
        }),
      });
      if (res.status !== 200) throw new Error(`token for ${client}: ${res.status}`);
      tokens.set(client, ((await res.json()) as { access_token: string }).access_token);
    }
  }, 60_000);

  afterAll(async () => {
    for (const p of [a, b]) {
      if (p && p.child.exitCode === null) p.child.kill('SIGTERM');
      await p?.exited;
    }
    hooks?.close();
    await db?.destroy();
    await dropTopology(backend, namespace);
  }, 30_000);

  it('an order placed on A is read on B; a cancel on B evicts the copy A cached', async () => {
    const id = await placeOrder(A, `cust-${tag}-a`);
    const onB = await call(B, 'GET', `/v1/orders/${id}`);
    expect(onB.status).toBe(200);
    expect(onB.body).toMatchObject({ id, totalCents: 300 });
    // Settled (paid) before it is cached, so nothing else evicts it meanwhile.
    await eventually(async () => {
      expect((await call(A, 'GET', `/v1/orders/${id}`)).body.status).toBe('paid');
    });
    const hits = async () => metricSum(await metrics(A), 'cache_requests_total', 'result="hit"');
    // A serves it from its cache (once the order's event handlers, which evict it, are done).
    await eventually(async () => {
      const before = await hits();
      expect((await call(A, 'GET', `/v1/orders/${id}`)).body.status).toBe('paid');
      expect(await hits()).toBeGreaterThan(before);
    });
    const cancelled = await call(B, 'POST', `/v1/orders/${id}/cancel`, { reason: 'scale-out' });
    expect(cancelled.status).toBe(200);
    // Well inside the cached copy's 30 s TTL: it was evicted, not expired.
    await eventually(async () => {
      expect((await call(A, 'GET', `/v1/orders/${id}`)).body.status).toBe('cancelled');
    }, 5000);
  });

  it('both relays publish, nothing twice: published rows = sent rows, no duplicate delivery', async () => {
    for (let i = 0; i < 10; i++) {
      await placeOrder(A, `cust-${tag}-a`);
      await placeOrder(B, `cust-${tag}-b`);
    }
    // Quiet: every order settled, every webhook requested and delivered, the outbox empty.
    await eventually(async () => {
      const [{ n }] = (await db.dataSource.query(
        `SELECT COUNT(*) AS n FROM orders WHERE status = 'placed'`,
      )) as Array<{ n: string | number }>;
      expect(Number(n)).toBe(0);
      const [{ pending }] = (await db.dataSource.query(
        `SELECT COUNT(*) AS pending FROM outbox_messages WHERE sent_at IS NULL`,
      )) as Array<{ pending: string | number }>;
      expect(Number(pending)).toBe(0);
      // One webhook per event (placed, paid, cancelled).
      const [{ events }] = (await db.dataSource.query(
        `SELECT COUNT(*) AS events FROM event_store_events`,
      )) as Array<{ events: string | number }>;
      expect(hooks.hooks).toHaveLength(Number(events));
    });
    const [{ sent }] = (await db.dataSource.query(
      `SELECT COUNT(*) AS sent FROM outbox_messages WHERE sent_at IS NOT NULL`,
    )) as Array<{ sent: string | number }>;
    const [textA, textB] = [await metrics(A), await metrics(B)];
    const byA = metricSum(textA, 'outbox_published_total');
    const byB = metricSum(textB, 'outbox_published_total');
    expect(byA).toBeGreaterThan(0);
    expect(byB).toBeGreaterThan(0);
    expect(byA + byB).toBe(Number(sent));
    const duplicates =
      metricSum(textA, 'messages_consumed_total', 'outcome="duplicate"') +
      metricSum(textB, 'messages_consumed_total', 'outcome="duplicate"');
    expect(duplicates).toBe(0);
  });

  it('the rate limit is shared: the budget spent alternating A and B is one budget', async () => {
    const statuses: number[] = [];
    for (let i = 0; i <= RATE_LIMIT; i++) {
      const res = await fetch(`${i % 2 === 0 ? A : B}/v1/orders?limit=1`, {
        headers: auth('rate'),
      });
      await res.arrayBuffer();
      statuses.push(res.status);
    }
    expect(statuses.slice(0, RATE_LIMIT).every((s) => s === 200)).toBe(true);
    expect(statuses[RATE_LIMIT]).toBe(429);
    // And B, which served only half of them, refuses this user too.
    expect((await fetch(`${B}/v1/orders?limit=1`, { headers: auth('rate') })).status).toBe(429);
  });

  it('SIGTERM to A under load through a readiness-aware balancer: 0 failed requests, exit code 0', async () => {
    const lb = await balancer([A, B]);
    let n = 0;
    const load = autocannon({
      url: lb.url,
      connections: LOAD_USERS,
      amount: LOAD_REQUESTS,
      timeout: 20,
      requests: [
        {
          method: 'POST',
          path: '/v1/orders',
          setupRequest: (req) => ({
            ...req,
            headers: {
              'content-type': 'application/json',
              ...auth(`load-${n++ % LOAD_USERS}`),
            },
            body: JSON.stringify({
              customerId: `cust-${tag}-load-${n % 3}`,
              sku: 'LOAD-1',
              quantity: 1,
              unitPriceCents: 100 + (n % 7),
            }),
          }),
          onResponse: (status, body, context) => {
            if (status !== 201) return;
            context.id = (JSON.parse(body) as { id: string }).id;
            placed.add(context.id as string);
          },
        },
        {
          method: 'GET',
          setupRequest: (req, context) => ({
            ...req,
            path: `/v1/orders/${String(context.id)}`,
            headers: auth(`load-${n++ % LOAD_USERS}`),
          }),
        },
      ],
    });
    try {
      await eventually(() => expect(lb.stats.answered).toBeGreaterThan(LOAD_REQUESTS / 3));
      a.child.kill('SIGTERM');
      const result = await load;
      expect({
        non2xx: result.non2xx,
        errors: result.errors,
        timeouts: result.timeouts,
        failed: lb.stats.failed,
      }).toEqual({ non2xx: 0, errors: 0, timeouts: 0, failed: 0 });
      expect(result['2xx']).toBe(LOAD_REQUESTS);
      expect(await a.exited).toBe(0);
      expect(a.output()).toContain('Shutdown complete');
      // Both served load. Whether a request met A while it was closing (and was retried on B)
      // depends on whether the balancer's readiness probe saw A's 503 first: both are fine, and
      // the zero failures above are what this proves (asserting a retry flaked on an idle box).
      expect(lb.stats.servedBy.get(A)).toBeGreaterThan(0);
      expect(lb.stats.servedBy.get(B)).toBeGreaterThan(0);
    } finally {
      await load.catch(() => undefined);
      await lb.close();
    }
    // No order was placed twice by a retried request: the database holds exactly the 201s.
    const rows = (await db.dataSource.query(`SELECT id FROM orders`)) as Array<{ id: string }>;
    expect(new Set(rows.map((r) => r.id))).toEqual(placed);
  }, 90_000);

  it('B alone takes over: every order settles, each event handled once, one webhook per event, read model = replay', async () => {
    // Orders placed after A is gone: only B's relay and consumers can move them.
    for (let i = 0; i < 5; i++) await placeOrder(B, `cust-${tag}-after`);
    await eventually(async () => {
      const [{ n }] = (await db.dataSource.query(
        `SELECT COUNT(*) AS n FROM orders WHERE status = 'placed'`,
      )) as Array<{ n: string | number }>;
      expect(Number(n)).toBe(0);
      const [{ pending }] = (await db.dataSource.query(
        `SELECT COUNT(*) AS pending FROM outbox_messages WHERE sent_at IS NULL`,
      )) as Array<{ pending: string | number }>;
      expect(Number(pending)).toBe(0);
    }, 30_000);
    const events = (
      (await db.dataSource.query(
        `SELECT event_id, type, data FROM event_store_events ORDER BY position`,
      )) as Array<{ event_id: string; type: string; data: string }>
    ).map((e) => ({
      id: e.event_id,
      type: e.type,
      payload: (JSON.parse(e.data) as { payload: Record<string, unknown> }).payload,
    }));
    const placedEvents = events.filter((e) => e.type === 'orders.OrderPlaced');
    expect(new Set(placedEvents.map((e) => e.payload.orderId))).toEqual(placed);

    // One webhook per event id, none twice (the receiver answered every one with 204).
    // Up to the transport's redelivery bound: a message the broker handed to A's pull request as A
    // stopped comes back to B only after the ack wait (NATS: 30 s; seen in CI as 452 of 453
    // webhooks after 20 s, on a loaded box).
    const expected = events.map((e) => `evt_${e.id}`).sort();
    await eventually(
      () => expect(hooks.hooks.length).toBeGreaterThanOrEqual(expected.length),
      REDELIVERY_BOUND_MS,
    );
    expect(hooks.hooks.map((h) => h.id).sort()).toEqual(expected);

    // Each event handled once across both instances (the notifications group, with the inbox).
    await eventually(
      () => expect(handled().length).toBeGreaterThanOrEqual(placed.size),
      REDELIVERY_BOUND_MS,
    );
    expect(handled().toSorted()).toEqual([...placed].toSorted());

    // Nothing went wrong on the way: no error line on either instance (a rolled-back projection
    // batch, a handler that failed for good, a failed shutdown step).
    const errors = [...logLines(a.output()), ...logLines(b.output())].filter(
      (l) => l.level === 'error' || l.level === 'fatal',
    );
    expect(errors.map(errorText)).toEqual([]);

    // The read model equals a recomputation from the event store.
    const replay = new Map<
      string,
      { ordersCount: number; totalCents: number; lastOrderId: string }
    >();
    for (const e of events) {
      const customerId = String(e.payload.customerId);
      const row = replay.get(customerId) ?? { ordersCount: 0, totalCents: 0, lastOrderId: '' };
      if (e.type === 'orders.OrderPlaced') {
        row.ordersCount += 1;
        row.totalCents += Number(e.payload.totalCents);
        row.lastOrderId = String(e.payload.orderId);
      } else if (e.type === 'orders.OrderCancelled') {
        row.ordersCount -= 1;
        row.totalCents -= Number(e.payload.totalCents);
      } else continue;
      replay.set(customerId, row);
    }
    await eventually(async () => {
      const rows = (await db.dataSource.query(
        `SELECT customer_id, orders_count, total_cents, last_order_id FROM order_summaries`,
      )) as Array<Record<string, string | number>>;
      const model = new Map(
        rows.map((r) => [
          String(r.customer_id),
          {
            ordersCount: Number(r.orders_count),
            totalCents: Number(r.total_cents),
            lastOrderId: String(r.last_order_id),
          },
        ]),
      );
      expect(model).toEqual(replay);
    });
    expect(replay.get(`cust-${tag}-after`)?.ordersCount).toBe(5);
  }, 120_000);

  it('SIGKILL to a restarted A holding claimed, unsent outbox rows: B publishes them once the lease expires, not before, each handled once', async () => {
    // A bad lease fails the boot naming the variable.
    const bad = instance(await freePort(), { OUTBOX_LEASE_MS: '999' });
    expect(await bad.exited).not.toBe(0);
    expect(bad.output()).toContain('OUTBOX_LEASE_MS');

    // Quiet first: nothing pending from the tests above.
    await eventually(async () => expect(await pendingRows()).toBe(0), 30_000);
    const duplicatesBefore = await duplicatesOnB();
    const portA2 = await freePort();
    const A2 = `http://127.0.0.1:${portA2}`;
    const a2 = instance(portA2, { OUTBOX_LEASE_MS: String(LEASE_MS) });
    const lock = db.dataSource.createQueryRunner();
    let locked = false;
    try {
      await a2.listening;
      // Claimed but unsent rows at the moment of the kill, made deterministic: the relays' claim
      // window (claim → publish → mark sent) is milliseconds, too short to SIGKILL into
      // reliably. So the test holds the relays' claim lock (every claim waits on it), places
      // orders on A (their outbox rows are committed, no relay can claim them), writes the lease
      // A's relay would have taken (claimed_by = a relay id of A's process, claimed_until = now +
      // A's OUTBOX_LEASE_MS), SIGKILLs A and only then lets the relays go on: what a relay
      // killed between its claim and its publish leaves behind.
      await lock.connect();
      await claimLock(lock, true);
      locked = true;
      const mine = new Set<string>();
      for (let i = 0; i < LEASE_ORDERS; i++) mine.add(await placeOrder(A2, `cust-${tag}-lease`));
      const relayA = `${hostname().slice(0, 30)}-${a2.child.pid}-killed`;
      const until = Date.now() + LEASE_MS;
      await lock.query(
        `UPDATE outbox_messages SET claimed_by = '${relayA}', claimed_until = ${until}
          WHERE sent_at IS NULL AND claimed_by IS NULL`,
      );
      const claimed = (await lock.query(
        `SELECT position, type FROM outbox_messages WHERE claimed_by = '${relayA}' AND sent_at IS NULL`,
      )) as Array<{ position: string | number; type: string }>;
      expect(claimed.filter((r) => r.type === 'orders.OrderPlaced')).toHaveLength(LEASE_ORDERS);
      const positions = claimed.map((r) => Number(r.position));
      a2.child.kill('SIGKILL');
      expect(await a2.exited).toBeNull();
      await claimLock(lock, false);
      locked = false;

      const rows = async () =>
        (
          (await lock.query(
            `SELECT position, claimed_by, claimed_until, sent_at FROM outbox_messages
              WHERE position IN (${positions.join(', ')})`,
          )) as Array<Record<string, string | number | null>>
        ).map((r) => ({
          claimedBy: r.claimed_by,
          claimedUntil: r.claimed_until === null ? null : Number(r.claimed_until),
          sentAt: r.sent_at === null ? null : Number(r.sent_at),
        }));
      // Until the lease is up, B leaves them alone (polled to just before the deadline: the
      // lease is what is waited for here).
      while (Date.now() < until - 150) {
        expect(await rows()).toEqual(
          positions.map(() => ({ claimedBy: relayA, claimedUntil: until, sentAt: null })),
        );
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      // Then B takes them over: every one sent after the lease expired, the lease cleared.
      await eventually(async () => {
        const now = await rows();
        expect(now.every((r) => r.sentAt !== null)).toBe(true);
      }, 15_000);
      const after = await rows();
      expect(after.every((r) => r.claimedBy === null && r.claimedUntil === null)).toBe(true);
      expect(Math.min(...after.map((r) => Number(r.sentAt)))).toBeGreaterThanOrEqual(until);

      // Each order handled once, by B (A died before publishing any of them)...
      const handledBy = (output: string) =>
        logLines(output)
          .filter((l) => l.msg === 'Order placed event handled' && mine.has(String(l.orderId)))
          .map((l) => String(l.orderId));
      await eventually(() =>
        expect(handledBy(b.output()).length).toBeGreaterThanOrEqual(mine.size),
      );
      expect(handledBy(b.output()).toSorted()).toEqual([...mine].toSorted());
      expect(handledBy(a2.output())).toEqual([]);
      // ...settled by B's payments consumer, and one webhook per event of those orders (placed,
      // then paid or declined), none twice.
      await eventually(async () => {
        const [{ n }] = (await db.dataSource.query(
          `SELECT COUNT(*) AS n FROM orders WHERE customer_id = '${`cust-${tag}-lease`}' AND status = 'placed'`,
        )) as Array<{ n: string | number }>;
        expect(Number(n)).toBe(0);
        expect(await pendingRows()).toBe(0);
      }, 30_000);
      const ofMine = () => hooks.hooks.filter((h) => mine.has(h.data.orderId));
      await eventually(() => expect(ofMine().length).toBeGreaterThanOrEqual(2 * mine.size));
      expect(ofMine()).toHaveLength(2 * mine.size);
      expect(new Set(ofMine().map((h) => h.id)).size).toBe(2 * mine.size);
      expect(
        ofMine()
          .filter((h) => h.type === 'order.placed')
          .map((h) => h.data.orderId)
          .toSorted(),
      ).toEqual([...mine].toSorted());
      expect(await duplicatesOnB()).toBe(duplicatesBefore);
      const errors = [...logLines(b.output()), ...logLines(a2.output())].filter(
        (l) => l.level === 'error' || l.level === 'fatal',
      );
      expect(errors.map(errorText)).toEqual([]);
    } finally {
      if (locked) await claimLock(lock, false).catch(() => undefined);
      await lock.release();
      if (a2.child.exitCode === null && a2.child.signalCode === null) a2.child.kill('SIGKILL');
      await a2.exited;
    }
  }, 90_000);
});
