import type { TestingModule } from '@nestjs/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MonitoringModule } from '@infrastructure/monitoring';
import {
  bootTestingModule,
  LogCapture,
  TcpProxy,
  testMonitoringOptions,
} from '@infrastructure/testing';
import { generateWebhookSecret, WebhookReplayStore, WebhooksModule } from '../src/index.js';

const LOST = 'WebhooksModule (replay store): Redis connection error; reconnecting';
const BACK = 'WebhooksModule (replay store): Redis connection restored';

describe('the Redis webhook replay store when Redis goes away', () => {
  const proxy = new TcpProxy(6379);
  const logs = new LogCapture();
  let ref: TestingModule;

  beforeAll(async () => {
    await proxy.listen();
    ref = await bootTestingModule({
      imports: [
        MonitoringModule.forRoot(
          testMonitoringOptions({ logging: { level: 'info', destination: logs } }),
        ),
        WebhooksModule.forRoot({
          secret: generateWebhookSecret(),
          replay: { store: 'redis', url: proxy.url('redis'), keyPrefix: `outage-${Date.now()}:` },
        }),
      ],
    });
  });
  afterAll(async () => {
    await ref?.close();
    await proxy.stop();
  });

  it('logs the outage once (claims answer 503 meanwhile) and the recovery', async () => {
    const store = ref.get(WebhookReplayStore);
    expect(await store.claim('default:before', 60)).toBe(true);
    logs.clear();
    const lost = logs.next((r) => r.msg === LOST);
    await proxy.cut();
    expect(await lost).toMatchObject({ level: 'warn' });
    const back = logs.next((r) => r.msg === BACK);
    await proxy.restore();
    await back;
    expect(logs.records.filter((r) => r.msg === LOST)).toHaveLength(1);
    expect(await store.claim('default:after', 60)).toBe(true);
  });
});
