import { describe, expect, it } from 'vitest';
import { MemoryWebhookReplayStore } from './memory-webhook-replay.store.js';

describe('MemoryWebhookReplayStore', () => {
  it('claims an id once until its TTL passes', async () => {
    let now = 1_000_000;
    const store = new MemoryWebhookReplayStore(() => now);
    expect(await store.claim('r:msg_1', 10)).toBe(true);
    expect(await store.claim('r:msg_1', 10)).toBe(false);
    now += 9_999;
    expect(await store.claim('r:msg_1', 10)).toBe(false);
    now += 1;
    expect(await store.claim('r:msg_1', 10)).toBe(true);
  });

  it('accepts an id again after release', async () => {
    const store = new MemoryWebhookReplayStore();
    expect(await store.claim('r:msg_2', 60)).toBe(true);
    await store.release('r:msg_2');
    expect(await store.claim('r:msg_2', 60)).toBe(true);
  });

  it('sweeps expired ids as it is used', async () => {
    let now = 0;
    const store = new MemoryWebhookReplayStore(() => now, 1000);
    for (let i = 0; i < 100; i++) await store.claim(`r:${i}`, 1);
    expect(store.size).toBe(100);
    now = 5000;
    await store.claim('r:fresh', 1);
    expect(store.size).toBe(1);
  });
});
