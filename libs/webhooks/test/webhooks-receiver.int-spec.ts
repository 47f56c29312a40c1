import { randomUUID } from 'node:crypto';
import {
  Body,
  Controller,
  Headers,
  HttpCode,
  Post,
  type INestApplication,
  type LoggerService,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { Redis } from 'ioredis';
import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MetricsService, MonitoringModule, ProblemDetailsFilter } from '@infrastructure/monitoring';
import { createTestApp, testMonitoringOptions } from '@infrastructure/testing';
import { WebhookRawBodyMissingError } from '../src/errors.js';
import { RedisWebhookReplayStore } from '../src/stores/redis-webhook-replay.store.js';
import { WebhookEndpoint } from '../src/webhook-endpoint.decorator.js';
import { generateWebhookSecret, webhookHeaders } from '../src/webhook-signature.js';
import { WebhooksModule } from '../src/webhooks.module.js';
import type { WebhooksOptions } from '../src/webhooks.options.js';

const REDIS_URL = 'redis://127.0.0.1:6379';
const secret = generateWebhookSecret();
const oldPaymentsSecret = generateWebhookSecret();
const newPaymentsSecret = generateWebhookSecret();

/** What the handlers ran for (a refused webhook must never get here). */
const handled: string[] = [];
/** Webhook ids whose first delivery makes the `flaky` handler fail. */
const failOnce = new Set<string>();

@Controller('hooks')
class HooksController {
  @Post('orders')
  @WebhookEndpoint()
  @HttpCode(204)
  orders(@Headers('webhook-id') id: string, @Body() body: { type: string }): void {
    handled.push(`${id}:${body.type}`);
  }

  @Post('payments')
  @WebhookEndpoint({ receiver: 'payments' })
  @HttpCode(200)
  payments(@Headers('webhook-id') id: string): { received: boolean } {
    handled.push(id);
    return { received: true };
  }

  @Post('flaky')
  @WebhookEndpoint()
  @HttpCode(204)
  flaky(@Headers('webhook-id') id: string): void {
    if (failOnce.delete(id)) throw new Error('database unavailable');
    handled.push(id);
  }
}

const baseOptions: WebhooksOptions = {
  secret,
  receivers: { payments: { secret: [oldPaymentsSecret, newPaymentsSecret] } },
};

async function receiverApp(
  adapter: 'express' | 'fastify',
  options: WebhooksOptions = baseOptions,
): Promise<INestApplication> {
  const t = await createTestApp(
    {
      imports: [MonitoringModule.forRoot(testMonitoringOptions()), WebhooksModule.forRoot(options)],
      controllers: [HooksController],
    },
    {
      adapter,
      appOptions: { rawBody: true, logger: false },
      configure: (app) => app.useGlobalFilters(new ProblemDetailsFilter(app.get(HttpAdapterHost))),
    },
  );
  return t.app;
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

interface Delivery {
  body?: string;
  secrets?: string[];
  id?: string;
  at?: number;
  headers?: Record<string, string | undefined>;
  contentType?: string;
}

/** POSTs `body` signed like a Standard Webhooks sender, then lets a test alter what is sent. */
function deliver(app: INestApplication, path: string, d: Delivery = {}) {
  const id = d.id ?? `msg_${randomUUID()}`;
  const body = d.body ?? JSON.stringify({ type: 'order.paid', data: { id: 'o-1' } });
  const signed = webhookHeaders(d.secrets ?? [secret], id, d.at ?? nowSeconds(), body);
  const headers: Record<string, string | undefined> = {
    'content-type': d.contentType ?? 'application/json',
    ...signed,
    ...d.headers,
  };
  const request = (sent = body) => {
    let req = supertest(app.getHttpServer()).post(path);
    for (const [k, v] of Object.entries(headers)) if (v !== undefined) req = req.set(k, v);
    return req.send(sent);
  };
  return { id, body, request };
}

function expectRefused(
  res: { status: number; headers: Record<string, string>; body: Record<string, unknown> },
  detail: string,
): void {
  const [status, title] =
    detail === 'Webhook already received' ? [409, 'Conflict'] : [401, 'Unauthorized'];
  expect(res.status).toBe(status);
  expect(res.headers['content-type']).toContain('application/problem+json');
  expect(res.body).toMatchObject({ status, title, detail });
}

describe.each(['express', 'fastify'] as const)('WebhookSignatureGuard on %s', (adapter) => {
  let app: INestApplication;

  beforeAll(async () => {
    app = await receiverApp(adapter);
  });
  afterAll(() => app?.close());

  it('lets a valid webhook through to the handler (2xx)', async () => {
    const d = deliver(app, '/hooks/orders');
    await d.request().expect(204);
    expect(handled).toContain(`${d.id}:order.paid`);
  });

  it('verifies the raw bytes: unusual JSON formatting still verifies', async () => {
    const body = '{ "type" : "order.paid",\n  "data":{"id":"o-2", "n": 1.50} }';
    const d = deliver(app, '/hooks/orders', { body });
    await d.request().expect(204);
    expect(handled).toContain(`${d.id}:order.paid`);
  });

  it('refuses a tampered body with a 401 problem', async () => {
    const d = deliver(app, '/hooks/orders');
    const res = await d.request(d.body.replace('o-1', 'o-2'));
    expectRefused(res, 'Invalid webhook signature');
    expect(handled.some((h) => h.startsWith(d.id))).toBe(false);
  });

  it('refuses a webhook signed with another secret', async () => {
    const d = deliver(app, '/hooks/orders', { secrets: [generateWebhookSecret()] });
    expectRefused(await d.request(), 'Invalid webhook signature');
  });

  // Well past the 300 s tolerance: timestamps are whole seconds, and the request may reach the
  // guard a second or two after the test read the clock (a future one then looks nearer).
  it.each([
    ['old', -310],
    ['future', 310],
  ])('refuses a timestamp too far in the %s', async (_label, offset) => {
    const d = deliver(app, '/hooks/orders', { at: nowSeconds() + offset });
    expectRefused(await d.request(), 'Webhook timestamp outside the accepted window');
    expect(handled.some((h) => h.startsWith(d.id))).toBe(false);
  });

  it('refuses a replayed webhook id with 409', async () => {
    const d = deliver(app, '/hooks/orders');
    await d.request().expect(204);
    expectRefused(await d.request(), 'Webhook already received');
    expect(handled.filter((h) => h.startsWith(d.id))).toHaveLength(1);
  });

  it.each(['webhook-id', 'webhook-timestamp', 'webhook-signature'])(
    'refuses a request without %s',
    async (header) => {
      const d = deliver(app, '/hooks/orders', { headers: { [header]: undefined } });
      expectRefused(await d.request(), 'Missing or malformed webhook headers');
    },
  );

  it('accepts the old and the new secret of a rotated receiver, and no other', async () => {
    await deliver(app, '/hooks/payments', { secrets: [oldPaymentsSecret] })
      .request()
      .expect(200, { received: true });
    await deliver(app, '/hooks/payments', { secrets: [newPaymentsSecret] })
      .request()
      .expect(200);
    expectRefused(
      await deliver(app, '/hooks/payments', { secrets: [secret] }).request(),
      'Invalid webhook signature',
    );
  });

  it('accepts the sender’s retry of an id whose handler failed', async () => {
    const id = `msg_${randomUUID()}`;
    failOnce.add(id);
    const first = await deliver(app, '/hooks/flaky', { id }).request();
    expect(first.status).toBe(500);
    await deliver(app, '/hooks/flaky', { id }).request().expect(204);
    expect(handled.filter((h) => h === id)).toHaveLength(1);
  });

  it('answers 415 for a body Nest does not keep raw (text/plain)', async () => {
    const d = deliver(app, '/hooks/orders', { body: 'order paid', contentType: 'text/plain' });
    const res = await d.request();
    expect(res.status).toBe(415);
    expect(res.body).toMatchObject({
      status: 415,
      detail: 'Webhook body must be JSON or form data',
    });
  });

  it('counts accepted and refused webhooks by receiver and reason', async () => {
    const metric = app.get(MetricsService).registry.getSingleMetric('webhooks_received_total');
    const count = async (outcome: string) =>
      (await metric!.get()).values.find(
        (v) => v.labels.receiver === 'default' && v.labels.outcome === outcome,
      )?.value ?? 0;
    const [accepted, refused] = [await count('accepted'), await count('signature')];
    const d = deliver(app, '/hooks/orders');
    await d.request().expect(204);
    await d.request('{"type":"forged"}').expect(401);
    expect(await count('accepted')).toBe(accepted + 1);
    expect(await count('signature')).toBe(refused + 1);
  });
});

describe('WebhookSignatureGuard without rawBody: true', () => {
  it('fails loudly (500, logged with the fix) instead of verifying a re-serialised body', async () => {
    const errors: unknown[] = [];
    const logger: LoggerService = {
      log: () => undefined,
      warn: () => undefined,
      error: (message: unknown) => void errors.push(message),
    };
    await using t = await createTestApp(
      { imports: [WebhooksModule.forRoot(baseOptions)], controllers: [HooksController] },
      {
        configure: (app) => {
          app.useLogger(logger);
          app.useGlobalFilters(new ProblemDetailsFilter(app.get(HttpAdapterHost)));
        },
      },
    );
    const res = await deliver(t.app, '/hooks/orders').request();
    expect(res.status).toBe(500);
    expect(res.body.detail).toBeUndefined();
    const logged = errors.find(
      (e): e is { err: Error } =>
        (e as { err?: unknown })?.err instanceof WebhookRawBodyMissingError,
    );
    expect(logged?.err.message).toContain('NestFactory.create(AppModule, { rawBody: true })');
  });
});

describe('Redis replay store (real Redis)', () => {
  const prefix = `test:webhooks:${randomUUID()}:`;
  let redis: Redis;

  beforeAll(() => {
    redis = new Redis(REDIS_URL, { lazyConnect: false });
  });
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  });

  it('claims an id once (SET NX EX), with its TTL, until released', async () => {
    const store = await RedisWebhookReplayStore.connect({ url: REDIS_URL, keyPrefix: prefix });
    try {
      expect(await store.claim('default:msg_1', 600)).toBe(true);
      expect(await store.claim('default:msg_1', 600)).toBe(false);
      const ttl = await redis.ttl(`${prefix}default:msg_1`);
      expect(ttl).toBeGreaterThan(590);
      expect(ttl).toBeLessThanOrEqual(600);
      await store.release('default:msg_1');
      expect(await store.claim('default:msg_1', 600)).toBe(true);
    } finally {
      await store.close();
    }
  });

  it('lets exactly one of many concurrent claims of an id win', async () => {
    const store = await RedisWebhookReplayStore.connect({ url: REDIS_URL, keyPrefix: prefix });
    try {
      const results = await Promise.all(
        Array.from({ length: 25 }, () => store.claim('default:msg_race', 60)),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
    } finally {
      await store.close();
    }
  });

  it('refuses a replay sent to another instance sharing the Redis store', async () => {
    const options: WebhooksOptions = {
      ...baseOptions,
      replay: { store: 'redis', url: REDIS_URL, keyPrefix: prefix },
    };
    const [a, b] = [await receiverApp('express', options), await receiverApp('fastify', options)];
    try {
      const id = `msg_${randomUUID()}`;
      const body = JSON.stringify({ type: 'order.paid', data: {} });
      const at = nowSeconds();
      await deliver(a, '/hooks/orders', { id, body, at }).request().expect(204);
      expectRefused(
        await deliver(b, '/hooks/orders', { id, body, at }).request(),
        'Webhook already received',
      );
      expect(await redis.exists(`${prefix}default:${id}`)).toBe(1);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('answers 503 (the sender retries) while Redis is unreachable, never 500 or an unchecked 2xx', async () => {
    const app = await receiverApp('express', {
      ...baseOptions,
      replay: { store: 'redis', url: 'redis://127.0.0.1:1', keyPrefix: prefix, timeoutMs: 200 },
    });
    try {
      const d = deliver(app, '/hooks/orders');
      const res = await d.request();
      expect(res.status).toBe(503);
      expect(res.headers['retry-after']).toBe('5');
      // The problem filter shows no detail for 5xx answers; the status says enough.
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.body).toMatchObject({ status: 503, title: 'Service Unavailable' });
      expect(handled.some((h) => h.startsWith(d.id))).toBe(false);
    } finally {
      await app.close();
    }
  });
});
