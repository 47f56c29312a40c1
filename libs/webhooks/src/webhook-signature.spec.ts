import { describe, expect, it } from 'vitest';
import { WebhookVerificationError } from './errors.js';
import {
  generateWebhookSecret,
  signWebhook,
  verifyWebhook,
  webhookHeaders,
  webhookSecretKey,
  webhookSecretProblem,
  type VerifyWebhookInput,
} from './webhook-signature.js';

// The example of the Standard Webhooks / Svix documentation: an independent check of the format.
const SPEC_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const SPEC_ID = 'msg_p5jXN8AQM9LWM0D4loKWxJek';
const SPEC_TS = 1614265330;
const SPEC_BODY = '{"test": 2432232314}';
const SPEC_SIGNATURE = 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=';

const secret = generateWebhookSecret();
const other = generateWebhookSecret();
const now = 1_700_000_000;
const body = JSON.stringify({ type: 'order.paid', data: { id: 'o-1', amount: 1200 } });

function signed(
  secrets = [secret],
  at = now,
  id = 'msg_1',
): Pick<VerifyWebhookInput, 'headers' | 'body'> {
  return { headers: webhookHeaders(secrets, id, at, body), body };
}

function reasonOf(input: VerifyWebhookInput): string {
  try {
    verifyWebhook(input);
    return 'accepted';
  } catch (error) {
    return error instanceof WebhookVerificationError ? error.reason : String(error);
  }
}

describe('signWebhook', () => {
  it('reproduces the signature of the Standard Webhooks example', () => {
    expect(signWebhook(SPEC_SECRET, SPEC_ID, SPEC_TS, SPEC_BODY)).toBe(SPEC_SIGNATURE);
  });

  it('signs the exact bytes: a Buffer and its string give the same signature', () => {
    expect(signWebhook(secret, 'msg_1', now, Buffer.from(body))).toBe(
      signWebhook(secret, 'msg_1', now, body),
    );
  });

  it('puts one signature per secret in the header during a rotation', () => {
    const headers = webhookHeaders([secret, other], 'msg_1', now, body);
    expect(headers['webhook-signature'].split(' ')).toEqual([
      signWebhook(secret, 'msg_1', now, body),
      signWebhook(other, 'msg_1', now, body),
    ]);
    expect(headers).toMatchObject({ 'webhook-id': 'msg_1', 'webhook-timestamp': String(now) });
  });
});

describe('verifyWebhook', () => {
  it('accepts the Standard Webhooks example', () => {
    const headers = {
      'webhook-id': SPEC_ID,
      'webhook-timestamp': String(SPEC_TS),
      'webhook-signature': SPEC_SIGNATURE,
    };
    expect(
      verifyWebhook({ headers, body: SPEC_BODY, secrets: [SPEC_SECRET], now: SPEC_TS + 10 }),
    ).toEqual({ id: SPEC_ID, timestamp: SPEC_TS });
  });

  it('accepts a valid signature and returns id and timestamp', () => {
    expect(verifyWebhook({ ...signed(), secrets: [secret], now })).toEqual({
      id: 'msg_1',
      timestamp: now,
    });
  });

  it('rejects a tampered body', () => {
    const input = { ...signed(), body: body.replace('1200', '1') };
    expect(reasonOf({ ...input, secrets: [secret], now })).toBe('signature');
  });

  it('rejects a tampered id or timestamp (both are signed)', () => {
    const { headers } = signed();
    expect(
      reasonOf({ headers: { ...headers, 'webhook-id': 'msg_2' }, body, secrets: [secret], now }),
    ).toBe('signature');
    expect(
      reasonOf({
        headers: { ...headers, 'webhook-timestamp': String(now + 1) },
        body,
        secrets: [secret],
        now,
      }),
    ).toBe('signature');
  });

  it('rejects the wrong secret', () => {
    expect(reasonOf({ ...signed([other]), secrets: [secret], now })).toBe('signature');
  });

  it.each([
    ['older', -301],
    ['newer', 301],
  ])('rejects a timestamp %s than the tolerance', (_label, offset) => {
    expect(reasonOf({ ...signed([secret], now + offset), secrets: [secret], now })).toBe(
      'timestamp',
    );
  });

  it('accepts a timestamp right at the tolerance, in both directions', () => {
    expect(reasonOf({ ...signed([secret], now - 300), secrets: [secret], now })).toBe('accepted');
    expect(reasonOf({ ...signed([secret], now + 300), secrets: [secret], now })).toBe('accepted');
  });

  it('honours a custom tolerance', () => {
    const input = { ...signed([secret], now - 30), secrets: [secret], now };
    expect(reasonOf({ ...input, toleranceSeconds: 10 })).toBe('timestamp');
    expect(reasonOf({ ...input, toleranceSeconds: 60 })).toBe('accepted');
  });

  it('accepts when any of several signatures matches', () => {
    const { headers } = signed([secret]);
    const mixed = `v1,${Buffer.alloc(32, 7).toString('base64')} v1a,xyz ${headers['webhook-signature'] as string}`;
    expect(
      reasonOf({
        headers: { ...headers, 'webhook-signature': mixed },
        body,
        secrets: [secret],
        now,
      }),
    ).toBe('accepted');
  });

  it('accepts the old and the new secret during a rotation, and nothing else', () => {
    expect(reasonOf({ ...signed([other]), secrets: [secret, other], now })).toBe('accepted');
    expect(reasonOf({ ...signed([secret, other]), secrets: [other], now })).toBe('accepted');
    expect(reasonOf({ ...signed([generateWebhookSecret()]), secrets: [secret, other], now })).toBe(
      'signature',
    );
  });

  it('ignores other signature versions and malformed entries', () => {
    const { headers } = signed();
    const sig = (headers['webhook-signature'] as string).slice(3);
    expect(
      reasonOf({
        headers: { ...headers, 'webhook-signature': `v2,${sig} garbage v1,${sig.slice(4)}` },
        body,
        secrets: [secret],
        now,
      }),
    ).toBe('signature');
  });

  it.each(['webhook-id', 'webhook-timestamp', 'webhook-signature'])(
    'rejects a request without %s',
    (name) => {
      const { headers } = signed();
      const rest = Object.fromEntries(Object.entries(headers).filter(([k]) => k !== name));
      expect(reasonOf({ headers: rest, body, secrets: [secret], now })).toBe('missing_headers');
    },
  );

  it('rejects a timestamp that is not unix seconds', () => {
    const { headers } = signed();
    expect(
      reasonOf({
        headers: { ...headers, 'webhook-timestamp': '2023-11-14T22:13:20Z' },
        body,
        secrets: [secret],
        now,
      }),
    ).toBe('timestamp');
  });

  it('answers 401 with a short public reason', () => {
    const error = new WebhookVerificationError('signature');
    expect(error.getStatus()).toBe(401);
    expect(error.getResponse()).toMatchObject({ status: 401, detail: 'Invalid webhook signature' });
    expect(error).toMatchObject({ httpStatus: 401, publicMessage: 'Invalid webhook signature' });
  });
});

describe('webhook secrets', () => {
  it('generates whsec_ secrets of 32 random bytes', () => {
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(webhookSecretKey(secret)).toHaveLength(32);
    expect(secret).not.toBe(other);
  });

  it('accepts a secret without the whsec_ prefix', () => {
    expect(webhookSecretKey(secret.slice(6))).toEqual(webhookSecretKey(secret));
  });

  it.each([
    ['not base64', 'whsec_***not-base64***', 'must be whsec_<base64>'],
    ['too short', `whsec_${Buffer.alloc(8).toString('base64')}`, 'got 8'],
  ])('refuses a secret that is %s, without echoing it', (_label, value, message) => {
    expect(webhookSecretProblem(value)).toContain(message);
    expect(() => webhookSecretKey(value)).toThrow(message);
    expect(() => webhookSecretKey(value)).not.toThrow(value);
  });
});
