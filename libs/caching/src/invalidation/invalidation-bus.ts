import type { RedisClient } from '@infrastructure/core';
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';

/** What one instance tells the others to drop from their L1. */
export interface InvalidationMessage {
  /** Normalised keys (without the Redis prefix). */
  keys?: string[];
  /** Tags whose entries to drop. */
  tags?: string[];
  /** Drop everything (used after a reconnect, when messages may have been missed). */
  all?: boolean;
}

type Listener = (message: InvalidationMessage, remote: boolean) => void;

/**
 * Keeps the L1 caches of several instances coherent: a write or delete on one instance is
 * published on a Redis channel, every other instance drops the keys from its L1. Pub/sub is
 * fire-and-forget, so: a subscriber that reconnects clears its whole L1 (it may have missed
 * messages), and L1 entries live at most `l1.ttlMs` anyway.
 */
export class InvalidationBus {
  readonly origin = randomUUID();
  private readonly listeners = new Set<Listener>();
  private subscriber?: Redis;
  private connectedOnce = false;
  private subscribed: Promise<void> = Promise.resolve();

  private readonly publisher: Redis | undefined;

  constructor(
    publisher: RedisClient | undefined,
    private readonly channel: string,
  ) {
    this.publisher = publisher as Redis | undefined;
  }

  /** Subscribes (store 'redis'); memory stores only notify local listeners. */
  async start(): Promise<void> {
    if (!this.publisher) return;
    const sub = this.publisher.duplicate({
      // Subscribing must survive a Redis that is down at boot: queue it until the connection is up.
      enableOfflineQueue: true,
      maxRetriesPerRequest: null,
      connectionName: `${this.publisher.options.connectionName ?? 'cache'}:sub`,
    });
    this.subscriber = sub;
    sub.on('error', () => {});
    sub.on('ready', () => {
      // After a reconnect we may have missed messages: drop everything.
      if (this.connectedOnce) this.emit({ all: true }, true);
      this.connectedOnce = true;
    });
    sub.on('message', (channel: string, raw: string) => {
      if (channel !== this.channel) return;
      let parsed: InvalidationMessage & { o?: string };
      try {
        parsed = JSON.parse(raw) as InvalidationMessage & { o?: string };
      } catch {
        return;
      }
      if (parsed.o === this.origin) return;
      this.emit({ keys: parsed.keys, tags: parsed.tags, all: parsed.all }, true);
    });
    // Not awaited here: a Redis that is down at boot must not block the boot.
    this.subscribed = sub.subscribe(this.channel).then(
      () => undefined,
      () => undefined,
    );
  }

  /** Resolves once the subscription is active (tests, and boot when Redis is up). */
  ready(): Promise<void> {
    return this.subscribed;
  }

  /** Tells the local listeners (not remote) and the other instances. */
  publish(
    message: InvalidationMessage,
    send: (channel: string, payload: string) => Promise<unknown>,
  ): Promise<void> {
    this.emit(message, false);
    if (!this.publisher) return Promise.resolve();
    return send(this.channel, JSON.stringify({ o: this.origin, ...message })).then(() => undefined);
  }

  on(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.listeners.clear();
    this.subscriber?.disconnect();
  }

  private emit(message: InvalidationMessage, remote: boolean): void {
    for (const l of this.listeners) l(message, remote);
  }
}
