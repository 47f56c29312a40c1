import { describe, expect, it } from 'vitest';
import { generateWebhookSecret } from './webhook-signature.js';
import { webhooksConfig, webhooksOptionsFrom } from './webhooks.config.js';

const values = {
  secret: undefined as string | undefined,
  secretFile: undefined as string | undefined,
  toleranceSeconds: 300,
  replayRedisUrl: undefined as string | undefined,
  replayRedisTlsCaFile: undefined as string | undefined,
  attemptTimeoutMs: 10_000,
  maxAttempts: 10,
  urlEncryptionKey: undefined as string | undefined,
};

describe('webhooksConfig', () => {
  it('declares WEBHOOK_* variables, WEBHOOK_SECRET as a secret', () => {
    expect(webhooksConfig.namespace).toBe('webhooks');
    expect(Object.values(webhooksConfig.fields).map((f) => f.env)).toEqual([
      'WEBHOOK_SECRET',
      'WEBHOOK_SECRET_FILE',
      'WEBHOOK_TOLERANCE_SECONDS',
      'WEBHOOK_REPLAY_REDIS_URL',
      'WEBHOOK_REPLAY_REDIS_TLS_CA_FILE',
      'WEBHOOK_ATTEMPT_TIMEOUT_MS',
      'WEBHOOK_MAX_ATTEMPTS',
      'WEBHOOK_URL_ENCRYPTION_KEY',
    ]);
    expect(webhooksConfig.fields.secret.secret).toBe(true);
    expect(webhooksConfig.fields.urlEncryptionKey.secret).toBe(true);
    expect(webhooksConfig.fields.replayRedisUrl.maskUrlPassword).toBe(true);
  });

  it('maps values to options: rotated secrets, Redis replay store, delivery bounds', () => {
    const [a, b] = [generateWebhookSecret(), generateWebhookSecret()];
    expect(
      webhooksOptionsFrom({
        ...values,
        secret: `${a} ${b}`,
        replayRedisUrl: 'redis://127.0.0.1:6379',
        maxAttempts: 4,
      }),
    ).toEqual({
      secret: [a, b],
      toleranceSeconds: 300,
      replay: { store: 'redis', url: 'redis://127.0.0.1:6379' },
      delivery: { attemptTimeoutMs: 10_000, retry: { attempts: 4 } },
    });
  });

  it('maps WEBHOOK_URL_ENCRYPTION_KEY (several during a rotation) to urlEncryptionKey', () => {
    const [a, b] = ['A'.repeat(43) + '=', 'B'.repeat(43) + '='];
    expect(webhooksOptionsFrom({ ...values, urlEncryptionKey: a }).urlEncryptionKey).toBe(a);
    expect(
      webhooksOptionsFrom({ ...values, urlEncryptionKey: `${a},${b}` }).urlEncryptionKey,
    ).toEqual([a, b]);
    expect(webhooksOptionsFrom(values)).not.toHaveProperty('urlEncryptionKey');
  });

  it('leaves the secret and the replay store unset when the variables are', () => {
    const options = webhooksOptionsFrom(values, { endpoints: { a: { url: 'https://a.test' } } });
    expect(options).not.toHaveProperty('secret');
    expect(options).not.toHaveProperty('replay');
    expect(options.endpoints).toEqual({ a: { url: 'https://a.test' } });
  });
});
