import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { Server } from 'node:http';
import type { Logger } from 'pino';
import { flushLogs, getLogger } from '../logging/root-logger.js';
import { MONITORING_OPTIONS } from '../monitoring.constants.js';
import type { ResolvedMonitoringOptions } from '../monitoring.options.js';

/** Where shutdown is: `running` → `stopping` (readiness 503) → `draining` (no new work) → `stopped`. */
export type ShutdownPhase = 'running' | 'stopping' | 'draining' | 'stopped';

interface DrainHook {
  name: string;
  fn: () => Promise<void> | void;
}

const SIGNALS = ['SIGTERM', 'SIGINT'] as const;
const PHASES: readonly ShutdownPhase[] = ['running', 'stopping', 'draining', 'stopped'];

/**
 * Graceful shutdown: on SIGTERM/SIGINT readiness flips to 503 at once, then after
 * `readinessDelayMs` the server stops accepting connections, in-flight requests finish, drain hooks
 * run in reverse order of registration, Nest closes and the process exits 0. Past `timeoutMs` it
 * logs what was still open and exits 1.
 */
@Injectable()
export class ShutdownService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log: Logger = getLogger('Shutdown');
  private readonly hooks: DrainHook[] = [];
  private phaseValue: ShutdownPhase = 'running';
  private inFlightCount = 0;
  private idleWaiters: Array<() => void> = [];
  private running?: Promise<void>;
  private readonly onSignal = (signal: NodeJS.Signals) => void this.shutdown(signal);
  /** Set by a fatal error: shutdown still drains, and ends with exit code 1. */
  private fatal = false;
  private readonly onUnhandledRejection = (reason: unknown) =>
    this.onFatal('unhandledRejection', reason);
  private readonly onUncaughtException = (error: unknown) =>
    this.onFatal('uncaughtException', error);

  constructor(
    @Inject(MONITORING_OPTIONS) private readonly options: ResolvedMonitoringOptions,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  /** Current phase. */
  get phase(): ShutdownPhase {
    return this.phaseValue;
  }

  /** The exit code shutdown ended with (0 clean, 1 timed out or failed); undefined before the end. */
  exitCode: number | undefined;

  private resolveExited!: (code: number) => void;
  /** Resolves with the exit code when shutdown ends (before `process.exit`, if enabled). */
  readonly exited: Promise<number> = new Promise((resolve) => (this.resolveExited = resolve));

  private phaseWaiters: Array<{ phase: ShutdownPhase; resolve: () => void }> = [];

  /** Resolves when shutdown reaches `phase` (or has passed it). */
  whenPhase(phase: ShutdownPhase): Promise<void> {
    if (PHASES.indexOf(this.phaseValue) >= PHASES.indexOf(phase)) return Promise.resolve();
    return new Promise((resolve) => this.phaseWaiters.push({ phase, resolve }));
  }

  private setPhase(phase: ShutdownPhase): void {
    this.phaseValue = phase;
    const reached = this.phaseWaiters.filter(
      (w) => PHASES.indexOf(phase) >= PHASES.indexOf(w.phase),
    );
    this.phaseWaiters = this.phaseWaiters.filter((w) => !reached.includes(w));
    for (const w of reached) w.resolve();
  }

  /** Requests being handled now. */
  get inFlight(): number {
    return this.inFlightCount;
  }

  /**
   * Registers work to finish on shutdown (stop consumers, flush an outbox relay, close pools).
   * Hooks run after in-flight requests, in reverse order of registration.
   */
  registerDrainHook(name: string, fn: () => Promise<void> | void): void {
    this.hooks.push({ name, fn });
  }

  /** @internal called by the HTTP observer. */
  requestStarted(): void {
    this.inFlightCount++;
  }

  /** @internal called by the HTTP observer. */
  requestFinished(): void {
    this.inFlightCount--;
    if (this.inFlightCount === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  onApplicationBootstrap(): void {
    if (this.options.shutdown.handleFatalErrors) {
      process.on('unhandledRejection', this.onUnhandledRejection);
      process.on('uncaughtException', this.onUncaughtException);
    }
    if (!this.options.shutdown.handleSignals) return;
    for (const signal of SIGNALS) process.on(signal, this.onSignal);
  }

  onApplicationShutdown(): void {
    for (const signal of SIGNALS) process.removeListener(signal, this.onSignal);
    process.removeListener('unhandledRejection', this.onUnhandledRejection);
    process.removeListener('uncaughtException', this.onUncaughtException);
  }

  /**
   * An error nothing handled: the process may be in a state nobody planned for, so it stops, but
   * through the graceful path (readiness 503, in-flight requests finish, drain hooks run) and
   * with exit code 1 so the orchestrator sees a failure.
   */
  private onFatal(kind: 'unhandledRejection' | 'uncaughtException', error: unknown): void {
    this.fatal = true;
    this.log.fatal({ err: error, kind }, `${kind}: shutting down (exit code 1)`);
    void this.shutdown(kind);
  }

  /** Runs the shutdown sequence once; later calls return the same promise. */
  shutdown(reason = 'shutdown'): Promise<void> {
    this.running ??= this.run(reason);
    return this.running;
  }

  private async run(reason: string): Promise<void> {
    const { readinessDelayMs, timeoutMs, exitProcess } = this.options.shutdown;
    const started = Date.now();
    this.setPhase('stopping');
    this.log.info(
      { reason, readinessDelayMs, inFlight: this.inFlightCount },
      'Shutdown started: readiness is now 503',
    );
    let current = 'readiness delay';
    const timer = setTimeout(() => {
      this.log.error(
        { reason, timeoutMs, stillOpen: current, inFlight: this.inFlightCount },
        `Shutdown timed out after ${timeoutMs} ms waiting for ${current}; exiting 1`,
      );
      this.finish(1, exitProcess);
    }, timeoutMs);
    timer.unref();
    try {
      if (readinessDelayMs > 0) await new Promise((r) => setTimeout(r, readinessDelayMs));
      this.setPhase('draining');
      current = `${this.inFlightCount} in-flight request(s)`;
      const server = this.httpServer();
      const closed = server ? new Promise<void>((r) => server.close(() => r())) : Promise.resolve();
      await this.whenIdle();
      server?.closeIdleConnections?.();
      for (const hook of this.hooks.toReversed()) {
        current = `drain hook "${hook.name}"`;
        await hook.fn();
      }
      current = 'the HTTP server to close';
      await closed;
      current = 'Nest to close (onModuleDestroy / onApplicationShutdown hooks)';
      await this.app?.close();
      clearTimeout(timer);
      this.setPhase('stopped');
      this.log.info({ reason, durationMs: Date.now() - started }, 'Shutdown complete');
      this.finish(0, exitProcess);
    } catch (error) {
      clearTimeout(timer);
      this.log.error({ err: error, reason, stillOpen: current }, 'Shutdown failed; exiting 1');
      this.finish(1, exitProcess);
    }
  }

  private app?: { close(): Promise<void> };

  /**
   * Lets shutdown close the Nest app at the end (running `onModuleDestroy`,
   * `beforeApplicationShutdown`, `onApplicationShutdown`). Call once in `main.ts`:
   * `app.get(ShutdownService).attach(app)`. Use this instead of `app.enableShutdownHooks()`.
   */
  attach(app: { close(): Promise<void> }): this {
    this.app = app;
    return this;
  }

  private whenIdle(): Promise<void> {
    if (this.inFlightCount <= 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private httpServer(): Server | undefined {
    try {
      const server = this.adapterHost.httpAdapter?.getHttpServer() as Server | undefined;
      return server?.listening ? server : undefined;
    } catch {
      return undefined;
    }
  }

  private finish(code: number, exitProcess: boolean): void {
    if (this.exitCode !== undefined) return;
    if (this.fatal) code = 1;
    this.exitCode = code;
    this.resolveExited(code);
    flushLogs();
    if (exitProcess) process.exit(code);
  }
}
