import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Controller, Headers, HttpCode, Post, type INestApplication } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MonitoringModule, ProblemDetailsFilter } from '@infrastructure/monitoring';
import { DirectorySecretsProvider } from '@infrastructure/security';
import {
  createTestApp,
  kubeletWrite,
  testMonitoringOptions,
  TestHttpServer,
} from '@infrastructure/testing';
import { WebhookDispatcher } from '../src/webhook-dispatcher.service.js';
import { WebhookEndpoint } from '../src/webhook-endpoint.decorator.js';
import { WebhookRequested } from '../src/webhook-requested.event.js';
import {
  generateWebhookSecret,
  signWebhook,
  verifyWebhook,
  webhookHeaders,
} from '../src/webhook-signature.js';
import { WebhooksModule } from '../src/webhooks.module.js';

@Controller('hooks')
class PaymentsController {
  @Post('payments')
  @WebhookEndpoint({ receiver: 'payments' })
  @HttpCode(204)
  payments(@Headers('webhook-id') id: string): void {
    void id;
  }
}

const dir = mkdtempSync(join(tmpdir(), 'webhook-rotation-'));
const [signOld, signNew, payOld, payNew] = [1, 2, 3, 4].map(() => generateWebhookSecret());
let secrets: DirectorySecretsProvider;
let server: TestHttpServer;
let app: INestApplication;

beforeAll(async () => {
  kubeletWrite(dir, { WEBHOOK_SECRET: signOld!, PAYMENTS_SECRET: payOld! });
  secrets = new DirectorySecretsProvider({ directory: dir, pollIntervalMs: 0 });
  server = await TestHttpServer.start();
  server.handle((_req, res) => res.writeHead(204).end());
  const t = await createTestApp(
    {
      imports: [
        MonitoringModule.forRoot(testMonitoringOptions()),
        WebhooksModule.forRoot({
          endpoints: { partner: { url: `${server.url}/partner/hooks` } },
          receivers: { payments: { secret: payOld! } },
          replay: false,
          rotation: {
            secrets,
            overlapSeconds: 3600,
            secret: 'WEBHOOK_SECRET',
            receivers: { payments: 'PAYMENTS_SECRET' },
          },
        }),
      ],
      controllers: [PaymentsController],
    },
    {
      appOptions: { rawBody: true, logger: false },
      configure: (a) => a.useGlobalFilters(new ProblemDetailsFilter(a.get(HttpAdapterHost))),
    },
  );
  app = t.app;
});

afterAll(async () => {
  await app?.close();
  await server?.close();
  secrets?.close();
  rmSync(dir, { recursive: true, force: true });
});

function post(secret: string) {
  const body = JSON.stringify({ type: 'payment.settled' });
  const headers = webhookHeaders(
    [secret],
    `msg_${randomUUID()}`,
    Math.floor(Date.now() / 1000),
    body,
  );
  let req = supertest(app.getHttpServer())
    .post('/hooks/payments')
    .set('content-type', 'application/json');
  for (const [k, v] of Object.entries(headers)) req = req.set(k, v);
  return req.send(body);
}

/** Delivers one webhook to the partner endpoint and returns what the partner received. */
async function sendToPartner() {
  const id = `msg_${randomUUID()}`;
  const body = JSON.stringify({ type: 'order.paid' });
  const seen = server.nextRequest();
  await app
    .get(WebhookDispatcher)
    .deliver(
      new WebhookRequested(
        id,
        'order.paid',
        `${server.url}/partner/hooks`,
        body,
        { endpoint: 'partner' },
        {},
      ),
    );
  const req = await seen;
  return { id, body, headers: req.headers, signatures: String(req.headers['webhook-signature']) };
}

describe('webhook secrets rotated by a ..data swap', () => {
  it('accepts old and new inbound secrets side by side, and signs outbound with the new one first', async () => {
    await post(payOld!).expect(204);
    await post(payNew!).expect(401);
    const before = await sendToPartner();
    expect(before.signatures.split(' ')).toHaveLength(1);
    expect(() =>
      verifyWebhook({ headers: before.headers, body: before.body, secrets: [signOld!] }),
    ).not.toThrow();

    // The module subscribed at boot, so its listeners have run when this one runs.
    const rotated = new Promise<void>((resolve) => {
      const off = secrets.onChange('PAYMENTS_SECRET', () => {
        off();
        resolve();
      });
    });
    kubeletWrite(dir, { WEBHOOK_SECRET: signNew!, PAYMENTS_SECRET: payNew! });
    await rotated;

    await post(payNew!).expect(204);
    await post(payOld!).expect(204); // the overlap window
    await post(generateWebhookSecret()).expect(401);

    const after = await sendToPartner();
    const signatures = after.signatures.split(' ');
    const timestamp = Number(after.headers['webhook-timestamp']);
    expect(signatures).toEqual([
      signWebhook(signNew!, after.id, timestamp, after.body),
      signWebhook(signOld!, after.id, timestamp, after.body),
    ]);
  });
});
