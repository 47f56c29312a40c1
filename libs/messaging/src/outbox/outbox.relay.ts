import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { context, ROOT_CONTEXT } from '@opentelemetry/api';
import type { Counter } from 'prom-client';
import { getLogger, type MetricsService } from '@infrastructure/monitoring';
import type { OutgoingMessage } from '../transports/transport.js';
import type { OutboxStats, OutboxStore } from './outbox.store.js';

/** The relay each outbox gauge reads from when scraped. */
const scrapedBy = new WeakMap<object, OutboxRelay>();

/** Relay settings (see the module's `outbox` options). */
export interface OutboxRelaySettings {
  batchSize: number;
  pollIntervalMs: number;
  leaseMs: number;
  retentionMs: number;
  inboxRetentionMs: number;
  cleanupIntervalMs: number;
}

/**
 * Moves committed outbox rows to the transport: claims a batch (lease), publishes it with broker
 * confirms, marks it sent, repeats until the table is drained. Woken right after each commit that
 * wrote rows, and by a poll timer (rows of other instances, crashed relays, broker outages).
 * Several instances may run it at once: leases and `SKIP LOCKED` give each row to one relay, and
 * a key's rows are never split across two relays at once, so per-key order holds.
 */
export class OutboxRelay {
  readonly id = `${hostname().slice(0, 30)}-${process.pid}-${randomBytes(4).toString('hex')}`;
  private readonly log = getLogger('OutboxRelay');
  private running?: Promise<void>;
  private again = false;
  private stopped = true;
  private pollTimer?: NodeJS.Timeout;
  private cleanupTimer?: NodeJS.Timeout;
  private lastFailureLog = 0;
  private published?: Counter<'transport'>;
  private stats?: Promise<OutboxStats | undefined>;
  private failures?: Counter;

  constructor(
    private readonly store: OutboxStore,
    private readonly send: (messages: readonly OutgoingMessage[]) => Promise<void>,
    private readonly settings: OutboxRelaySettings,
    private readonly transportName: string,
  ) {}

  /** Registers the outbox metrics. */
  instrument(metrics: MetricsService): void {
    this.published = metrics.counter({
      name: 'outbox_published_total',
      help: 'Outbox rows published by this instance.',
      labelNames: ['transport'],
    });
    // Both read when scraped (not after every drain: one query less per commit that wrote rows),
    // by the relay that instrumented the gauge last (a registry may outlive an application).
    const pending = metrics.gauge({
      name: 'outbox_pending',
      help: 'Outbox rows not yet published.',
      collect: async () => {
        const stats = await scrapedBy.get(pending)?.scrapeStats();
        if (stats) pending.set(stats.pending);
      },
    });
    const lag = metrics.gauge({
      name: 'outbox_relay_lag_seconds',
      help: 'Age of the oldest unpublished outbox row; 0 when drained.',
      collect: async () => {
        const stats = await scrapedBy.get(lag)?.scrapeStats();
        if (!stats) return;
        lag.set(
          stats.oldestCreatedAt === null
            ? 0
            : Math.max(0, Date.now() - stats.oldestCreatedAt) / 1000,
        );
      },
    });
    scrapedBy.set(pending, this);
    scrapedBy.set(lag, this);
    this.failures = metrics.counter({
      name: 'outbox_publish_failures_total',
      help: 'Relay batches that failed to publish (retried on the next poll).',
    });
  }

  /** The outbox's stats, one query for concurrent callers (the two gauges); undefined when unreadable. */
  private scrapeStats(): Promise<OutboxStats | undefined> {
    this.stats ??= this.store
      .stats()
      .catch(() => undefined)
      .finally(() => {
        this.stats = undefined;
      });
    return this.stats;
  }

  /** Starts polling and cleanup, and drains what is already there. */
  start(): void {
    this.stopped = false;
    this.pollTimer = setInterval(() => this.wake(), this.settings.pollIntervalMs);
    this.pollTimer.unref();
    this.cleanupTimer = setInterval(() => void this.cleanup(), this.settings.cleanupIntervalMs);
    this.cleanupTimer.unref();
    this.wake();
  }

  /** Asks for a drain (after a commit that wrote rows); coalesces concurrent requests. */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    // Detached from the caller's trace (the request whose commit woke it): a drain sends other
    // requests' rows too, each under a span of its own trace (see MessagingRuntime.relaySend).
    this.running = context
      .with(ROOT_CONTEXT, () => this.drain())
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.wake();
        }
      });
  }

  /** Resolves when the current drain (if any) has finished. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  /** Stops the timers and publishes what is pending, once (shutdown flush). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.pollTimer);
    clearInterval(this.cleanupTimer);
    await this.idle();
    await context.with(ROOT_CONTEXT, () => this.drain());
  }

  private claim() {
    return this.store.claim(this.id, this.settings.batchSize, this.settings.leaseMs);
  }

  /**
   * Publishes batch after batch, in order. The database work overlaps with the broker's: the next
   * batch is claimed while the current one is being published, and a published batch is marked
   * sent while the next one is published. Publishing itself stays strictly sequential.
   */
  private async drain(): Promise<void> {
    let marking: Promise<void> = Promise.resolve();
    try {
      let next = this.claim();
      for (;;) {
        const rows = await next;
        if (rows.length === 0) break;
        const more = rows.length >= this.settings.batchSize;
        next = more ? this.claim() : Promise.resolve([]);
        const positions = rows.map((r) => r.position);
        try {
          await this.send(rows);
        } catch (error) {
          this.failures?.inc();
          const prefetched = await next.catch(() => []);
          await this.store
            .release(
              this.id,
              [...positions, ...prefetched.map((r) => r.position)],
              errorText(error),
            )
            .catch(() => undefined);
          this.warn(error, 'outbox publish failed; rows stay pending and are retried');
          break;
        }
        await marking;
        marking = this.store.markSent(this.id, positions).then(() => {
          this.published?.inc({ transport: this.transportName }, rows.length);
        });
        if (!more) break;
      }
      await marking;
    } catch (error) {
      await marking.catch(() => undefined);
      this.warn(error, 'outbox relay could not read the outbox; retrying on the next poll');
    }
  }

  private async cleanup(): Promise<void> {
    try {
      const deleted = await this.store.cleanup(
        this.settings.retentionMs,
        this.settings.inboxRetentionMs,
      );
      if (deleted > 0) this.log.debug({ deleted }, 'outbox/inbox cleanup');
    } catch (error) {
      this.warn(error, 'outbox cleanup failed');
    }
  }

  /** One warning per 30 s at most: an outage must not flood the log. */
  private warn(error: unknown, message: string): void {
    const now = Date.now();
    if (now - this.lastFailureLog < 30_000) return;
    this.lastFailureLog = now;
    this.log.warn({ err: error }, message);
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
