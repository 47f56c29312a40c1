import { Test, type TestingModule } from '@nestjs/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeadLetters, MessagingModule } from '@infrastructure/messaging';
import { MonitoringModule } from '@infrastructure/monitoring';
import { PersistenceModule } from '@infrastructure/persistence';
import {
  MessagingTestHarness,
  testMonitoringOptions,
  TestHttpServer,
} from '@infrastructure/testing';
import { WebhookRequested } from '../src/webhook-requested.event.js';
import { WebhookSender } from '../src/webhook-sender.service.js';
import { generateWebhookSecret } from '../src/webhook-signature.js';
import { WebhooksModule } from '../src/webhooks.module.js';

// Subscriptions are URLs users register: by default a webhook to one that resolves to a private,
// loopback or link-local address is dead-lettered without a connection (SSRF). Endpoints from
// the configuration are the operator's and may be internal.
let server: TestHttpServer;
let app: TestingModule;
let harness: MessagingTestHarness;

beforeAll(async () => {
  server = await TestHttpServer.start();
  server.handle((_req, res) => TestHttpServer.json(res, 200, {}));
  app = await Test.createTestingModule({
    imports: [
      MonitoringModule.forRoot(testMonitoringOptions()),
      PersistenceModule.forRoot({ url: 'sqlite::memory:' }),
      MessagingModule.forRoot({ serviceName: 'webhooks-ssrf', outbox: { pollIntervalMs: 50 } }),
      WebhooksModule.forRoot({
        secret: generateWebhookSecret(),
        endpoints: { internal: { url: `${server.url}/internal/hooks` } },
        delivery: { retry: { attempts: 3, initialDelayMs: 5, maxDelayMs: 20 } },
      }),
    ],
  }).compile();
  await app.init();
  harness = new MessagingTestHarness(app);
});
afterAll(async () => {
  harness?.close();
  await app?.close();
  await server?.close();
});

describe('webhooks to private addresses (allowPrivateNetworks: false, the default)', () => {
  it('dead-letters a subscription to a private IP or a name resolving to one at once, unsent', async () => {
    const port = new URL(server.url).port;
    const webhooks = app.get(WebhookSender);
    for (const url of [`${server.url}/hooks`, `http://localhost:${port}/hooks`]) {
      const id = await webhooks.send({ id: 'user-sub', url }, 'order.paid', { n: 1 });
      await harness.consumed(WebhookRequested, {
        group: 'webhooks',
        outcome: 'dead_letter',
        match: (e) => e.webhookId === id,
      });
      const [letter] = await app.get(DeadLetters).list((l) => l.body.includes(id));
      expect(letter!.headers).toMatchObject({
        'x-exception-type': 'WebhookRejectedError',
        'x-attempts': '1',
      });
      expect(letter!.headers['x-exception-message']).toContain(
        'was not sent: the URL resolves to a private address',
      );
    }
    expect(server.hits).toBe(0);
  });

  it('delivers to a configured endpoint on the same private address', async () => {
    const id = await app.get(WebhookSender).send('internal', 'order.paid', { n: 2 });
    await harness.consumed(WebhookRequested, {
      group: 'webhooks',
      match: (e) => e.webhookId === id,
    });
    expect(server.requests.map((r) => r.url)).toEqual(['/internal/hooks']);
  });
});
