import { loadConfiguration } from '@infrastructure/configuration';
import { describe, expect, it } from 'vitest';
import { messagingConfig, messagingOptionsFrom } from './messaging.config.js';
import { OUTBOX_LEASE_MS, resolveMessagingOptions } from './messaging.options.js';

function load(env: Record<string, string>) {
  return loadConfiguration([messagingConfig], { env }).values.messaging;
}

describe('messagingConfig / messagingOptionsFrom: OUTBOX_LEASE_MS', () => {
  it('unset → the lib default lease (30000), and no outbox options for an app that has none', () => {
    const config = load({});
    expect(config.outboxLeaseMs).toBe(30_000);
    expect(OUTBOX_LEASE_MS.default).toBe(30_000);
    const options = messagingOptionsFrom(config);
    expect(options.outbox).toBeUndefined();
    expect(resolveMessagingOptions(options).outbox).toMatchObject({
      leaseMs: 30_000,
      explicit: false,
    });
  });

  it('set → outbox.leaseMs, merged with the outbox options the app passes', () => {
    const options = messagingOptionsFrom(load({ OUTBOX_LEASE_MS: '2000' }), {
      outbox: { createTables: false },
    });
    expect(options.outbox).toEqual({ leaseMs: 2000, createTables: false });
    expect(resolveMessagingOptions(options).outbox).toMatchObject({
      leaseMs: 2000,
      createTables: false,
    });
  });

  it('set without outbox options from the app → outbox.leaseMs alone; outbox: false stays false', () => {
    expect(messagingOptionsFrom(load({ OUTBOX_LEASE_MS: '45000' })).outbox).toEqual({
      leaseMs: 45_000,
    });
    expect(messagingOptionsFrom(load({ OUTBOX_LEASE_MS: '45000' }), { outbox: false }).outbox).toBe(
      false,
    );
  });

  it('the default with outbox options from the app → they carry the default lease', () => {
    expect(messagingOptionsFrom(load({}), { outbox: { createTables: false } }).outbox).toEqual({
      leaseMs: 30_000,
      createTables: false,
    });
  });

  it.each(['999', '0', '-5', '1.5', 'soon'])(
    'OUTBOX_LEASE_MS=%j fails naming OUTBOX_LEASE_MS',
    (value) => {
      expect(() => load({ OUTBOX_LEASE_MS: value })).toThrow(/OUTBOX_LEASE_MS/);
    },
  );

  it('the floor (1000) is accepted', () => {
    expect(load({ OUTBOX_LEASE_MS: '1000' }).outboxLeaseMs).toBe(1000);
  });
});
