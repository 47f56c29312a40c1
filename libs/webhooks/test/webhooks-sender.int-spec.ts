import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import {
  Body,
  Controller,
  Headers,
  HttpCode,
  Injectable,
  Module,
  Post,
  type INestApplication,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { Test, type TestingModule } from '@nestjs/testing';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DeadLetters, MessagingModule } from '@infrastructure/messaging';
import { MetricsService, MonitoringModule, ProblemDetailsFilter } from '@infrastructure/monitoring';
import { PersistenceModule, Transactional, UnitOfWork } from '@infrastructure/persistence';
import {
  LogCapture,
  MessagingTestHarness,
  testMonitoringOptions,
  TestHttpServer,
  type SeenRequest,
} from '@infrastructure/testing';
import { WebhookEndpoint } from '../src/webhook-endpoint.decorator.js';
import { WebhookRequested } from '../src/webhook-requested.event.js';
import { WebhookSender } from '../src/webhook-sender.service.js';
import { generateWebhookSecret, verifyWebhook } from '../src/webhook-signature.js';
import { WebhooksModule } from '../src/webhooks.module.js';

const secret = generateWebhookSecret();
const subscriptionSecret = generateWebhookSecret();
const logs = new LogCapture();

/** An application service writing business data and requesting a webhook in one transaction. */
@Injectable()
class Orders {
  constructor(
    private readonly webhooks: WebhookSender,
    private readonly uow: UnitOfWork,
  ) {}

  @Transactional()
  async pay(orderId: string, fail = false): Promise<string> {
    await this.uow.manager.query('INSERT INTO orders (id, status) VALUES (?, ?)', [
      orderId,
      'paid',
    ]);
    const id = await this.webhooks.send(
      'merchant',
      'order.paid',
      { orderId },
      {
        idempotencyKey: `order-paid-${orderId}`,
      },
    );
    if (fail) throw new Error('payment ledger refused the order');
    return id;
  }
}

@Module({ providers: [Orders] })
class OrdersModule {}

/** A separate Nest app receiving webhooks through the guard. */
const received: Array<{ id: string; body: unknown }> = [];

@Controller('hooks')
class ReceiverController {
  @Post('orders')
  @WebhookEndpoint()
  @HttpCode(204)
  orders(@Body() body: unknown, @Headers('webhook-id') id: string): void {
    received.push({ id, body });
  }
}

let server: TestHttpServer;
let sender: TestingModule;
let receiver: INestApplication;
let receiverUrl: string;
let harness: MessagingTestHarness;
let db: DataSource;

beforeAll(async () => {
  server = await TestHttpServer.start();

  const receiverModule = await Test.createTestingModule({
    imports: [WebhooksModule.forRoot({ secret })],
    controllers: [ReceiverController],
  }).compile();
  receiver = receiverModule.createNestApplication(new ExpressAdapter(), {
    rawBody: true,
    logger: false,
  });
  receiver.useGlobalFilters(new ProblemDetailsFilter(receiver.get(HttpAdapterHost)));
  await receiver.listen(0, '127.0.0.1');
  receiverUrl = `http://127.0.0.1:${(receiver.getHttpServer().address() as AddressInfo).port}`;

  sender = await Test.createTestingModule({
    imports: [
      MonitoringModule.forRoot(
        testMonitoringOptions({ logging: { level: 'debug', destination: logs } }),
      ),
      PersistenceModule.forRoot({ url: 'sqlite::memory:' }),
      MessagingModule.forRoot({ serviceName: 'webhooks-test', outbox: { pollIntervalMs: 50 } }),
      WebhooksModule.forRoot({
        secret,
        endpoints: {
          merchant: {
            url: `${server.url}/merchant/hooks?source=shop`,
            headers: { authorization: 'Bearer endpoint-credential' },
          },
          partner: { url: `${receiverUrl}/hooks/orders` },
          tokened: { url: `${server.url}/x?token=s3cret` },
        },
        subscriptionSecret: (s) => (s.id === 'sub-1' ? subscriptionSecret : secret),
        delivery: {
          retry: { attempts: 3, initialDelayMs: 5, maxDelayMs: 20 },
          attemptTimeoutMs: 2000,
          allowPrivateNetworks: true, // subscriptions here point at 127.0.0.1 (webhooks-ssrf spec: off)
        },
      }),
      OrdersModule,
    ],
  }).compile();
  await sender.init();
  harness = new MessagingTestHarness(sender);
  db = sender.get<DataSource>(getDataSourceToken());
  await db.query('CREATE TABLE orders (id varchar(64) PRIMARY KEY, status varchar(16))');
});

afterAll(async () => {
  harness?.close();
  await sender?.close();
  await receiver?.close();
  await server?.close();
});

beforeEach(() => server.reset());

const delivered = (webhookId: string) =>
  harness.consumed(WebhookRequested, {
    group: 'webhooks',
    match: (e) => e.webhookId === webhookId,
  });
const deadLettered = (webhookId: string) =>
  harness.consumed(WebhookRequested, {
    group: 'webhooks',
    outcome: 'dead_letter',
    match: (e) => e.webhookId === webhookId,
  });
const requestsOf = (webhookId: string): SeenRequest[] =>
  server.requests.filter((r) => r.headers['webhook-id'] === webhookId);

async function sent(outcome: string): Promise<number> {
  const metric = sender.get(MetricsService).registry.getSingleMetric('webhooks_sent_total');
  const values = (await metric!.get()).values;
  return values.find((v) => v.labels.outcome === outcome)?.value ?? 0;
}

describe('WebhookSender → WebhookDispatcher (memory transport, SQLite outbox)', () => {
  it('delivers a signed Standard Webhook that verifies on the receiver side', async () => {
    server.handle((_req, res) => TestHttpServer.json(res, 200, { ok: true }));
    const before = await sent('delivered');
    const orderId = randomUUID();
    const webhookId = await sender.get(Orders).pay(orderId);
    await delivered(webhookId);

    const [req] = requestsOf(webhookId);
    expect(req).toMatchObject({ method: 'POST', url: '/merchant/hooks?source=shop' });
    expect(req!.headers).toMatchObject({
      'content-type': 'application/json',
      authorization: 'Bearer endpoint-credential',
      'user-agent': 'nestjs-infrastructure-webhooks/1',
    });
    expect(
      verifyWebhook({ headers: req!.headers, body: req!.body, secrets: [secret] }),
    ).toMatchObject({ id: `order-paid-${orderId}` });
    expect(JSON.parse(req!.body)).toMatchObject({ type: 'order.paid', data: { orderId } });
    expect(await sent('delivered')).toBe(before + 1);
  });

  it('is accepted by another app’s WebhookSignatureGuard (raw body, same secret)', async () => {
    const webhookId = await sender
      .get(WebhookSender)
      .send('partner', 'order.shipped', { orderId: 'o-77', items: [1, 2] });
    await delivered(webhookId);
    expect(received).toContainEqual({
      id: webhookId,
      body: expect.objectContaining({
        type: 'order.shipped',
        data: { orderId: 'o-77', items: [1, 2] },
      }),
    });
  });

  it('counts a 409 from the receiver (id already received) as delivered, not dead-lettered', async () => {
    const send = () =>
      sender
        .get(WebhookSender)
        .send('partner', 'order.shipped', { orderId: 'o-78' }, { idempotencyKey: key });
    const key = `shipment-${randomUUID()}`;
    const first = await delivered(await send());
    const duplicatesBefore = await sent('duplicate');
    const again = await send(); // same id: the receiver's replay store answers 409
    const second = await harness.consumed(WebhookRequested, {
      group: 'webhooks',
      match: (e) => e.webhookId === again && e.id !== first?.id,
    });
    expect(again).toBe(key);
    expect(second?.webhookId).toBe(key);
    expect(received.filter((r) => r.id === key)).toHaveLength(1);
    expect(await sent('duplicate')).toBe(duplicatesBefore + 1);
  });

  it('retries after a 500 and delivers once, with the same webhook-id on both attempts', async () => {
    let calls = 0;
    server.handle((_req, res) => TestHttpServer.json(res, ++calls === 1 ? 500 : 200, {}));
    const retriesBefore = await sent('retry');
    const webhookId = await sender.get(WebhookSender).send('merchant', 'order.refunded', { n: 1 });
    await delivered(webhookId);

    const attempts = requestsOf(webhookId);
    expect(attempts).toHaveLength(2);
    expect(attempts.map((r) => r.headers['webhook-id'])).toEqual([webhookId, webhookId]);
    expect(attempts[0]!.body).toBe(attempts[1]!.body);
    for (const r of attempts) {
      expect(verifyWebhook({ headers: r.headers, body: r.body, secrets: [secret] }).id).toBe(
        webhookId,
      );
    }
    const outcomes = harness.observations
      .filter((o) => o.kind === 'handled' && (o.event as WebhookRequested)?.webhookId === webhookId)
      .map((o) => (o.kind === 'handled' ? o.outcome : o.kind));
    expect(outcomes).toEqual(['retry', 'success']);
    expect(await sent('retry')).toBe(retriesBefore + 1);
  });

  it('dead-letters a 400 at once, without retrying, and delivers it when replayed', async () => {
    server.handle((_req, res) => TestHttpServer.json(res, 400, { title: 'Unknown event type' }));
    const rejectedBefore = await sent('rejected');
    const webhookId = await sender.get(WebhookSender).send('merchant', 'order.unknown', {});
    await deadLettered(webhookId);

    expect(requestsOf(webhookId)).toHaveLength(1);
    const deadLetters = sender.get(DeadLetters);
    const [letter] = await deadLetters.list((l) => l.body.includes(webhookId));
    expect(letter!.headers).toMatchObject({
      'x-exception-type': 'WebhookRejectedError',
      'x-attempts': '1',
      'x-original-destination': 'integrations.WebhookRequested#webhooks',
    });
    expect(letter!.headers['x-exception-message']).toContain('was refused with 400');
    expect(await sent('rejected')).toBe(rejectedBefore + 1);

    server.handle((_req, res) => TestHttpServer.json(res, 202, {}));
    expect(await deadLetters.replay((l) => l.body.includes(webhookId))).toBe(1);
    await delivered(webhookId);
    expect(requestsOf(webhookId).map((r) => r.headers['webhook-id'])).toEqual([
      webhookId,
      webhookId,
    ]);
  });

  it('hands the receiver’s Retry-After to the messaging retry (capped by delivery.retry.maxDelayMs)', async () => {
    let calls = 0;
    server.handle((_req, res) =>
      ++calls === 1
        ? TestHttpServer.json(res, 429, {}, { 'retry-after': '1' })
        : TestHttpServer.json(res, 200, {}),
    );
    const webhookId = await sender.get(WebhookSender).send('merchant', 'order.paid', { n: 3 });
    await delivered(webhookId);
    const retry = harness.observations.find(
      (o) =>
        o.kind === 'handled' &&
        o.outcome === 'retry' &&
        (o.event as WebhookRequested | undefined)?.webhookId === webhookId,
    );
    expect(retry?.kind === 'handled' ? retry.error : undefined).toMatchObject({
      name: 'WebhookDeliveryError',
      status: 429,
      retryAfterMs: 1000,
    });
  });

  it('dead-letters after the last attempt when the receiver keeps failing (429, 503)', async () => {
    let calls = 0;
    server.handle((_req, res) => TestHttpServer.json(res, ++calls === 1 ? 429 : 503, {}));
    const before = await sent('dead_letter');
    const webhookId = await sender.get(WebhookSender).send('merchant', 'order.paid', { n: 2 });
    await deadLettered(webhookId);

    expect(requestsOf(webhookId)).toHaveLength(3);
    const [letter] = await sender.get(DeadLetters).list((l) => l.body.includes(webhookId));
    expect(letter!.headers).toMatchObject({
      'x-exception-type': 'WebhookDeliveryError',
      'x-attempts': '3',
    });
    expect(letter!.headers['x-exception-message']).toContain(
      `to ${server.url} failed: answered 503`,
    );
    expect(await sent('dead_letter')).toBe(before + 1);
  });

  it('retries network errors, naming the code and the origin only', async () => {
    const webhookId = await sender
      .get(WebhookSender)
      .send({ id: 'sub-2', url: 'http://127.0.0.1:1/private/T0KEN' }, 'order.paid', {});
    await deadLettered(webhookId);
    const [letter] = await sender.get(DeadLetters).list((l) => l.body.includes(webhookId));
    expect(letter!.headers['x-exception-message']).toContain(
      'to http://127.0.0.1:1 failed: ECONNREFUSED',
    );
    expect(letter!.headers['x-exception-message']).not.toContain('T0KEN');
  });

  it('sends nothing for a rolled-back transaction (neither the row nor the webhook)', async () => {
    server.handle((_req, res) => TestHttpServer.json(res, 200, {}));
    const rolledBack = randomUUID();
    await expect(sender.get(Orders).pay(rolledBack, true)).rejects.toThrow('ledger refused');
    const committed = randomUUID();
    await delivered(await sender.get(Orders).pay(committed));

    expect(server.requests.map((r) => r.headers['webhook-id'])).toEqual([
      `order-paid-${committed}`,
    ]);
    const outbox = (await db.query('SELECT COUNT(*) AS n FROM outbox_messages WHERE body LIKE ?', [
      `%${rolledBack}%`,
    ])) as Array<{ n: number }>;
    expect(outbox[0]!.n).toBe(0);
    expect(
      await db.query('SELECT id FROM orders WHERE id IN (?, ?)', [rolledBack, committed]),
    ).toEqual([{ id: committed }]);
  });

  it('signs a subscription with the secret resolved at delivery, never stored in the outbox', async () => {
    server.handle((_req, res) => TestHttpServer.json(res, 200, {}));
    const webhookId = await sender
      .get(UnitOfWork)
      .run(() =>
        sender
          .get(WebhookSender)
          .send({ id: 'sub-1', url: `${server.url}/subscribers/1` }, 'invoice.created', { id: 9 }),
      );
    await delivered(webhookId);
    const [req] = requestsOf(webhookId);
    expect(
      verifyWebhook({ headers: req!.headers, body: req!.body, secrets: [subscriptionSecret] }).id,
    ).toBe(webhookId);
    expect(() =>
      verifyWebhook({ headers: req!.headers, body: req!.body, secrets: [secret] }),
    ).toThrow('Invalid webhook signature');
    const rows = (await db.query('SELECT body FROM outbox_messages WHERE body LIKE ?', [
      `%${webhookId}%`,
    ])) as Array<{ body: string }>;
    expect(rows).toHaveLength(1);
    expect(rows[0]!.body).not.toContain(subscriptionSecret.slice(6));
    expect(rows[0]!.body).not.toContain('endpoint-credential');
  });

  it('stores neither an endpoint URL nor a subscription URL in clear in the outbox, and still delivers to the full URL', async () => {
    server.handle((_req, res) => TestHttpServer.json(res, 200, {}));
    const webhooks = sender.get(WebhookSender);
    const uow = sender.get(UnitOfWork);
    const toEndpoint = await uow.run(() => webhooks.send('tokened', 'order.paid', { n: 1 }));
    const toSubscription = await uow.run(() =>
      webhooks.send(
        { id: 'sub-9', url: `${server.url}/subscribers/9?token=sub-s3cret` },
        'order.paid',
        { n: 2 },
      ),
    );
    const rows = (await db.query(
      'SELECT body, headers FROM outbox_messages WHERE body LIKE ? OR body LIKE ?',
      [`%${toEndpoint}%`, `%${toSubscription}%`],
    )) as Array<{ body: string; headers: string }>;
    expect(rows).toHaveLength(2);
    for (const row of rows) {
      expect(`${row.body} ${row.headers}`).not.toMatch(/s3cret|\/subscribers\/9|\/x\?/);
    }
    await delivered(toEndpoint);
    await delivered(toSubscription);
    expect(requestsOf(toEndpoint).map((r) => r.url)).toEqual(['/x?token=s3cret']);
    expect(requestsOf(toSubscription).map((r) => r.url)).toEqual([
      '/subscribers/9?token=sub-s3cret',
    ]);
  });

  it('keeps a subscription URL sealed in the published message and the dead letter', async () => {
    const webhookId = await sender
      .get(WebhookSender)
      .send({ id: 'sub-3', url: 'http://127.0.0.1:1/hooks?token=dl-s3cret' }, 'order.paid', {});
    const published = await deadLettered(webhookId);
    expect(JSON.stringify(published)).not.toContain('dl-s3cret');
    const [letter] = await sender.get(DeadLetters).list((l) => l.body.includes(webhookId));
    expect(JSON.stringify(letter)).not.toContain('dl-s3cret');
    expect(letter!.headers['x-exception-message']).toContain('to http://127.0.0.1:1 failed');
  });

  it('refuses unknown endpoints and bad event types at send time', async () => {
    const webhooks = sender.get(WebhookSender);
    await expect(webhooks.send('nope', 'order.paid', {})).rejects.toThrow(
      'no endpoint "nope" (configured: merchant, partner, tokened)',
    );
    await expect(webhooks.send('merchant', 'order paid!', {})).rejects.toThrow('eventType must be');
  });

  it('never logs a secret', () => {
    expect(logs.lines.length).toBeGreaterThan(0);
    for (const s of [secret, subscriptionSecret]) expect(logs.text).not.toContain(s.slice(6));
    expect(logs.text).not.toContain('endpoint-credential');
  });
});
