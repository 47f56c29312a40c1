import { describe, expect, it } from 'vitest';
import { generateWebhookSecret, webhookSecretKey } from './webhook-signature.js';
import { resolveWebhooksOptions, WebhookKeys } from './webhooks.options.js';

const [a, b, c] = [1, 2, 3].map(() => generateWebhookSecret()) as [string, string, string];
const key = (s: string) => webhookSecretKey(s);

/** A source holding fixed values (the real SecretsProvider is tested in the int-spec). */
const source = (values: Record<string, string>) => ({
  get: (name: string) => (name in values ? { reveal: () => values[name]! } : undefined),
  onChange: () => () => undefined,
});

/** Resolves options with a rotation over a source holding one bad value. */
const bad =
  (rotation: object, extra: object = {}) =>
  () =>
    resolveWebhooksOptions({
      secret: a,
      ...extra,
      rotation: { secrets: source({ BAD: 'nope' }), ...rotation },
    });

describe('WebhookKeys.rotate', () => {
  it('keeps the replaced key after the new one for the overlap window, then drops it', () => {
    let now = 1_000_000;
    const keys = new WebhookKeys(a, () => now);
    keys.rotate(b, 60);
    expect(keys.keys).toEqual([key(b), key(a)]);
    now += 59_999;
    expect(keys.keys).toEqual([key(b), key(a)]);
    now += 1;
    expect(keys.keys).toEqual([key(b)]);
    expect(JSON.stringify({ keys })).toBe('{"keys":"[1 webhook secret(s)]"}');
  });

  it('drops keys replaced by an earlier rotation, and refuses an unusable secret unchanged', () => {
    const keys = new WebhookKeys(a);
    keys.rotate(b, 60);
    keys.rotate([c, b], 60);
    expect(keys.keys).toEqual([key(c), key(b)]);
    expect(() => keys.rotate('whsec_short', 60)).toThrow(TypeError);
    expect(keys.keys).toEqual([key(c), key(b)]);
  });
});

describe('options.rotation', () => {
  it('takes the current value from the source at boot, over the configured one', () => {
    const resolved = resolveWebhooksOptions({
      secret: a,
      receivers: { payments: { secret: a } },
      rotation: {
        secrets: source({ MAIN: `${b} ${c}`, PAY: c }),
        secret: 'MAIN',
        receivers: { payments: 'PAY' },
      },
    });
    expect(resolved.signing!.keys).toEqual([key(b), key(c)]);
    expect(resolved.receivers.payments!.keys.keys).toEqual([key(c)]);
    expect(resolved.rotation).toMatchObject({ overlapSeconds: 86_400 });
    expect(resolved.rotation!.bindings.map((x) => [x.name, x.option])).toEqual([
      ['MAIN', 'secret'],
      ['PAY', 'receivers.payments'],
    ]);
  });

  it('fails the boot naming an unknown receiver, a missing secret or a bad value (never the value)', () => {
    expect(bad({ receivers: { nope: 'X' } })).toThrow(
      'options.rotation.receivers.nope: no such receiver in options.receivers',
    );
    expect(bad({ secret: 'BAD' })).toThrow(/secret "BAD" \(for options.secret\) must /);
    expect(bad({ secret: 'BAD' })).not.toThrow(/nope/);
    expect(() =>
      resolveWebhooksOptions({ rotation: { secrets: source({}), secret: 'MISSING' } }),
    ).toThrow('names secret "MISSING" for options.secret, but neither');
    expect(() => resolveWebhooksOptions({ rotation: { secrets: {} as never } })).toThrow(
      'options.rotation.secrets: must be a SecretsProvider',
    );
  });
});
