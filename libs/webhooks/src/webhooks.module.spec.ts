import { inspect } from 'node:util';
import { Controller, Injectable, Module, Post } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import { MemoryWebhookReplayStore } from './stores/memory-webhook-replay.store.js';
import { WebhookEndpoint } from './webhook-endpoint.decorator.js';
import { WebhookReplayStore } from './webhook-replay.store.js';
import { WebhookSender } from './webhook-sender.service.js';
import { generateWebhookSecret } from './webhook-signature.js';
import { WEBHOOKS_OPTIONS } from './webhooks.constants.js';
import { WebhooksModule } from './webhooks.module.js';
import {
  resolveWebhooksOptions,
  type ResolvedWebhooksOptions,
  type WebhooksOptions,
} from './webhooks.options.js';
import { bootTestingModule } from '@infrastructure/testing';

const secret = generateWebhookSecret();
const options: WebhooksOptions = {
  secret,
  endpoints: { billing: { url: 'https://billing.test/hooks' } },
  toleranceSeconds: 120,
};

@Injectable()
class OptionsFactory {
  createWebhooksOptions(): WebhooksOptions {
    return options;
  }
}

@Module({ providers: [OptionsFactory], exports: [OptionsFactory] })
class OptionsModule {}

const boot = (imports: unknown[], controllers: unknown[] = []) =>
  bootTestingModule({ imports: imports as never, controllers: controllers as never });

describe('WebhooksModule', () => {
  it('forRoot() gives the sender, the replay store and the resolved options', async () => {
    const app = await boot([WebhooksModule.forRoot(options)]);
    expect(app.get(WebhookSender)).toBeInstanceOf(WebhookSender);
    expect(app.get(WebhookReplayStore)).toBeInstanceOf(MemoryWebhookReplayStore);
    const resolved = app.get<ResolvedWebhooksOptions>(WEBHOOKS_OPTIONS);
    expect(resolved.receivers.default!.toleranceSeconds).toBe(120);
    expect(resolved.receivers.default!.replayTtlSeconds).toBe(240);
    await app.close();
  });

  it.each([
    ['useFactory', { useFactory: () => options }],
    ['useClass', { useClass: OptionsFactory }],
    ['useExisting', { imports: [OptionsModule], useExisting: OptionsFactory }],
  ])('forRootAsync with %s', async (_name, async) => {
    const app = await boot([WebhooksModule.forRootAsync(async as never)]);
    const resolved = app.get<ResolvedWebhooksOptions>(WEBHOOKS_OPTIONS);
    expect(resolved.endpoints.billing!.url).toBe('https://billing.test/hooks');
    expect(resolved.delivery).toMatchObject({ group: 'webhooks', attemptTimeoutMs: 10_000 });
    await app.close();
  });

  it('uses a replay store given in the options', async () => {
    const store = new MemoryWebhookReplayStore();
    const app = await boot([WebhooksModule.forRoot({ ...options, replay: { store } })]);
    expect(app.get(WebhookReplayStore)).toBe(store);
    await app.close();
  });

  it('refuses to send without MessagingModule, naming it', async () => {
    const app = await boot([WebhooksModule.forRoot(options)]);
    await expect(app.get(WebhookSender).send('billing', 'order.paid', {})).rejects.toThrow(
      'WebhookSender needs the messaging EventBus: import MessagingModule',
    );
    await app.close();
  });

  it('fails the boot when a @WebhookEndpoint names an unknown receiver', async () => {
    @Controller('hooks')
    class HooksController {
      @Post('a')
      @WebhookEndpoint({ receiver: 'payments' })
      a(): void {}
    }
    await expect(boot([WebhooksModule.forRoot(options)], [HooksController])).rejects.toThrow(
      "HooksController.a: @WebhookEndpoint({ receiver: 'payments' }): no such receiver (configured: default)",
    );
  });

  it('fails the boot when @WebhookEndpoint() needs a default secret that is not set', async () => {
    @WebhookEndpoint()
    @Controller('hooks')
    class DefaultHooksController {
      @Post()
      receive(): void {}
    }
    await expect(boot([WebhooksModule.forRoot({})], [DefaultHooksController])).rejects.toThrow(
      'set options.secret (WEBHOOK_SECRET) or options.receivers.default',
    );
  });
});

describe('resolveWebhooksOptions', () => {
  it('applies the delivery and replay defaults', () => {
    expect(resolveWebhooksOptions({})).toMatchObject({
      toleranceSeconds: 300,
      receivers: {},
      delivery: {
        group: 'webhooks',
        retry: { attempts: 10, initialDelayMs: 5000, maxDelayMs: 1_800_000 },
        attemptTimeoutMs: 10_000,
        circuitBreaker: { consecutiveFailures: 5, halfOpenAfterMs: 30_000 },
        maxBodyBytes: 262_144,
        propagateContext: false,
      },
      replay: { store: 'memory', keyPrefix: 'webhooks:replay:' },
    });
  });

  it.each([
    [
      { secret: 'hunter2hunter2' },
      'WebhooksModule: options.secret.0: secret must be whsec_<base64>',
    ],
    [{ endpoints: { b: { url: 'ftp://x.test/secret-path' } } }, 'options.endpoints.b.url'],
    [{ endpoints: { 'bad name': { url: 'https://x.test' } } }, 'options.endpoints'],
    [{ delivery: { attemptTimeoutMs: 0 } }, 'options.delivery.attemptTimeoutMs'],
    [{ delivery: { retry: { attempts: 'x' } } }, 'options.delivery.retry.attempts'],
    [{ receivers: { p: { secret: ['nope'] } } }, 'options.receivers.p.secret'],
    [{ replay: { store: 'redis' } }, "options.replay.url: is required with store 'redis'"],
    [{ replay: { store: 'postgres' } }, "options.replay.store: must be 'memory', 'redis' or"],
    [{ endpoints: { b: { url: 'https://x.test', headers: { 'webhook-id': 'x' } } } }, 'headers'],
    [{ tolerance: 5 }, 'options'],
  ])('refuses %j naming the key', (bad, message) => {
    expect(() => resolveWebhooksOptions(bad as WebhooksOptions)).toThrow(message);
  });

  it('never echoes a secret or a URL path in an error', () => {
    const bad = `whsec_${Buffer.alloc(8, 1).toString('base64')}`;
    let message = '';
    try {
      resolveWebhooksOptions({
        secret: bad,
        endpoints: { b: { url: 'ftp://x.test/T0K3N' } },
      });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('options.secret');
    expect(message).not.toContain(bad.slice(6));
    expect(() =>
      resolveWebhooksOptions({ endpoints: { b: { url: 'ftp://x.test/T0K3N' } } }),
    ).toThrow('got "ftp://x.test/…"');
  });

  it('keeps secrets out of logs and JSON of the resolved options', () => {
    const resolved = resolveWebhooksOptions({ secret: [secret, generateWebhookSecret()] });
    const key = resolved.signing!.keys[0]!;
    expect(key).toHaveLength(32);
    for (const text of [inspect(resolved, { depth: 10 }), JSON.stringify(resolved)]) {
      expect(text).toContain('[2 webhook secret(s)]');
      expect(text).not.toContain(secret.slice(6));
      expect(text).not.toContain(key.toString('base64'));
    }
  });
});
