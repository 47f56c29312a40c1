import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { WebhookSender } from './webhook-sender.service.js';
import { generateWebhookSecret } from './webhook-signature.js';
import { SEALED_URL_PREFIX, WebhookUrlSealer } from './webhook-url-sealer.js';
import { resolveWebhooksOptions } from './webhooks.options.js';
import type { WebhookRequested } from './webhook-requested.event.js';

const URL_WITH_TOKEN = 'https://hook.test/x?token=s3cret';

describe('WebhookUrlSealer', () => {
  it('seals a URL so that it is not readable, and opens it for the same subscription', () => {
    const sealer = new WebhookUrlSealer([randomBytes(32)]);
    const sealed = sealer.seal(URL_WITH_TOKEN, 'sub-1');
    expect(sealed.startsWith(SEALED_URL_PREFIX)).toBe(true);
    expect(sealed).not.toContain('s3cret');
    expect(sealer.seal(URL_WITH_TOKEN, 'sub-1')).not.toBe(sealed); // a fresh IV each time
    expect(sealer.open(sealed, 'sub-1')).toBe(URL_WITH_TOKEN);
  });

  it('refuses a sealed URL moved to another subscription, tampered with, or under unknown keys', () => {
    const key = randomBytes(32);
    const sealed = new WebhookUrlSealer([key]).seal(URL_WITH_TOKEN, 'sub-1');
    const sealer = new WebhookUrlSealer([key]);
    expect(() => sealer.open(sealed, 'sub-2')).toThrow(
      'cannot open the sealed URL of subscription sub-2',
    );
    expect(() => sealer.open(`${sealed.slice(0, -2)}AA`, 'sub-1')).toThrow('cannot open');
    expect(() => new WebhookUrlSealer([randomBytes(32)]).open(sealed, 'sub-1')).toThrow(
      'cannot open',
    );
    expect(() => sealer.open(SEALED_URL_PREFIX, 'sub-1')).toThrow('cannot open');
  });

  it('opens with any key of a rotation and seals with the first', () => {
    const [fresh, old] = [randomBytes(32), randomBytes(32)];
    const pending = new WebhookUrlSealer([old]).seal(URL_WITH_TOKEN, 's');
    const rotating = new WebhookUrlSealer([fresh, old]);
    expect(rotating.open(pending, 's')).toBe(URL_WITH_TOKEN);
    expect(new WebhookUrlSealer([fresh]).open(rotating.seal(URL_WITH_TOKEN, 's'), 's')).toBe(
      URL_WITH_TOKEN,
    );
  });

  it('shows no key when printed', () => {
    const key = randomBytes(32);
    const sealer = new WebhookUrlSealer([key]);
    for (const text of [inspect(sealer), JSON.stringify({ sealer })]) {
      expect(text).toContain('[1 webhook URL key(s)]');
      expect(text).not.toContain(key.toString('base64'));
    }
  });
});

describe('the URL key in the options', () => {
  it('takes urlEncryptionKey (base64 or hex), else derives one from secret, else has none', () => {
    const key = randomBytes(32);
    const sealed = new WebhookUrlSealer([key]).seal(URL_WITH_TOKEN, 'a');
    for (const raw of [key.toString('base64'), key.toString('hex')]) {
      expect(resolveWebhooksOptions({ urlEncryptionKey: raw }).urlSealer!.open(sealed, 'a')).toBe(
        URL_WITH_TOKEN,
      );
    }
    const secret = generateWebhookSecret();
    const derived = resolveWebhooksOptions({ secret }).urlSealer!;
    expect(
      resolveWebhooksOptions({ secret }).urlSealer!.open(derived.seal('https://x', 'a'), 'a'),
    ).toBe('https://x');
    expect(resolveWebhooksOptions({}).urlSealer).toBeUndefined();
  });

  it('refuses a key that is not 32 bytes, naming the option and not echoing the key', () => {
    expect(() => resolveWebhooksOptions({ urlEncryptionKey: 'c2hvcnQ=' })).toThrow(
      'options.urlEncryptionKey.0: must be 32 bytes as base64 (44 chars) or hex (64)',
    );
    expect(() => resolveWebhooksOptions({ urlEncryptionKey: 'c2hvcnQ=' })).not.toThrow('c2hvcnQ');
  });
});

describe('WebhookSender', () => {
  const published: WebhookRequested[] = [];
  const bus = {
    publish: (e: WebhookRequested) => {
      published.push(e);
      return Promise.resolve();
    },
  };
  const sender = (options: Parameters<typeof resolveWebhooksOptions>[0]) =>
    new WebhookSender(resolveWebhooksOptions(options), bus as never);

  it('publishes an endpoint by name only and a subscription URL sealed', async () => {
    const s = sender({
      secret: generateWebhookSecret(),
      endpoints: { hook: { url: URL_WITH_TOKEN } },
    });
    await s.send('hook', 'order.paid', {});
    await s.send({ id: 'sub-1', url: 'https://sub.test/in?api_key=s3cret' }, 'order.paid', {});
    const [toEndpoint, toSubscription] = published.splice(0);
    expect(toEndpoint).toMatchObject({ url: '', target: { endpoint: 'hook' } });
    expect(toSubscription!.url.startsWith(SEALED_URL_PREFIX)).toBe(true);
    expect(JSON.stringify([toEndpoint, toSubscription])).not.toContain('s3cret');
  });

  it('refuses a subscription when there is no key to seal its URL with', async () => {
    const s = sender({ subscriptionSecret: () => generateWebhookSecret() });
    await expect(
      s.send({ id: 'sub-1', url: 'https://sub.test/in' }, 'order.paid', {}),
    ).rejects.toThrow(
      'set options.urlEncryptionKey (WEBHOOK_URL_ENCRYPTION_KEY) or options.secret (WEBHOOK_SECRET)',
    );
    expect(published).toEqual([]);
  });
});
