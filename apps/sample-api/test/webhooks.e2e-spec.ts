import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateWebhookSecret, verifyWebhook } from '@infrastructure/webhooks';
import { createTestApp, type TestApp } from '@infrastructure/testing';
import { AppModule } from '../src/app.module.js';
import { configureApp } from '../src/bootstrap.js';
import { bearer } from './auth.js';

interface Hook {
  headers: IncomingHttpHeaders;
  body: string;
  type: string;
  data: { orderId: string };
}

/** A webhook receiver that records what it gets; `next(match)` awaits a matching webhook. */
class Receiver {
  readonly hooks: Hook[] = [];
  private waiters: Array<{ match: (h: Hook) => boolean; resolve: (h: Hook) => void }> = [];
  readonly server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      const { type, data } = JSON.parse(body) as Pick<Hook, 'type' | 'data'>;
      const hook: Hook = { headers: req.headers, body, type, data };
      this.hooks.push(hook);
      this.waiters = this.waiters.filter((w) => (w.match(hook) ? (w.resolve(hook), false) : true));
      res.writeHead(204).end();
    });
  });

  next(match: (h: Hook) => boolean): Promise<Hook> {
    const seen = this.hooks.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => this.waiters.push({ match, resolve }));
  }
}

const env = (extra: Record<string, string>) => ({
  NODE_ENV: 'test',
  LOG_LEVEL: 'fatal',
  LOG_PRETTY: 'false',
  DATABASE_URL: 'sqlite::memory:',
  ...extra,
});

describe('sample API order webhooks (ORDER_WEBHOOK_URL)', () => {
  const receiver = new Receiver();
  const secret = generateWebhookSecret();
  let t: TestApp;

  beforeAll(async () => {
    receiver.server.listen(0, '127.0.0.1');
    await once(receiver.server, 'listening');
    const { port } = receiver.server.address() as { port: number };
    t = await createTestApp(
      {
        imports: [
          AppModule.forRoot({
            env: env({
              ORDER_WEBHOOK_URL: `http://127.0.0.1:${port}/hooks/orders`,
              WEBHOOK_SECRET: secret,
            }),
            envFiles: false,
          }),
        ],
      },
      { configure: configureApp },
    );
  });
  afterAll(async () => {
    await t?.close();
    receiver.server.closeAllConnections();
    receiver.server.close();
  });

  it('sends order.placed then order.paid, signed with WEBHOOK_SECRET, ids from the events', async () => {
    const placed = await t.request
      .post('/v1/orders')
      .set('authorization', await bearer(t))
      .send({ customerId: 'hook-1', sku: 'H-1', quantity: 1, unitPriceCents: 700 })
      .expect(201);
    const orderId = placed.body.id as string;
    const first = await receiver.next(
      (h) => h.type === 'order.placed' && h.data.orderId === orderId,
    );
    const paid = await receiver.next((h) => h.type === 'order.paid' && h.data.orderId === orderId);
    for (const hook of [first, paid]) {
      const verified = verifyWebhook({ headers: hook.headers, body: hook.body, secrets: [secret] });
      expect(verified.id).toMatch(/^evt_[0-9a-f-]{36}$/);
    }
    expect(first.data).toMatchObject({ orderId, customerId: 'hook-1', totalCents: 700 });
    expect(first.headers['webhook-id']).not.toBe(paid.headers['webhook-id']);
  });
});

describe('sample API order webhooks configuration', () => {
  it('fails boot naming WEBHOOK_SECRET when ORDER_WEBHOOK_URL is set without it', async () => {
    await expect(
      createTestApp({
        imports: [
          AppModule.forRoot({
            env: env({ ORDER_WEBHOOK_URL: 'https://hooks.example.com/orders' }),
            envFiles: false,
          }),
        ],
      }),
    ).rejects.toThrow(/WEBHOOK_SECRET: required when ORDER_WEBHOOK_URL is set/);
  });
});
