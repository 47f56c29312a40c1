import type { DestinationStream, Level } from 'pino';
import type { Registry } from 'prom-client';
import { z } from 'zod';
import { validateModuleOptions } from '@infrastructure/core';
import { MonitoringOptionsError } from './errors.js';

/** Logging settings. */
export interface LoggingOptions {
  /** Minimum level. @default 'info' */
  level?: Level | 'silent';
  /** Human-readable output instead of JSON. `'auto'`: when NODE_ENV=development or stdout is a TTY. @default 'auto' */
  pretty?: boolean | 'auto';
  /** Where lines go (a pino destination, e.g. `pino.destination('/var/log/app.log')`). @default stdout */
  destination?: DestinationStream;
  /** More keys to redact at any depth, on top of password/secret/token/apiKey/privateKey/authorization/cookie. @default [] */
  redactKeys?: string[];
  /** Paths (prefix match) that get no access log line. @default ['/health', '/metrics'] */
  accessLogExclude?: string[];
}

/** Basic or bearer protection of the metrics endpoint. */
export type MetricsAuth = { username: string; password: string } | { bearerToken: string };

/** Prometheus metrics settings. */
export interface MetricsOptions {
  /** Node process metrics (CPU, memory, GC, event-loop lag). @default true */
  defaultMetrics?: boolean;
  /** Buckets of `http_server_request_duration_seconds`. @default [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] */
  buckets?: number[];
  /** Protect the endpoint. @default none */
  auth?: MetricsAuth;
  /** Serve metrics on this separate port instead of the app's (the app's endpoint then answers 404). @default none */
  port?: number;
  /**
   * Serve metrics on the app port without `auth`. In production they describe the service to
   * anyone who can reach it, so there the app port's endpoint answers 404 unless `auth` or `port`
   * is set or this says `true`.
   * @default true, except in the `production` environment
   */
  public?: boolean;
  /** Host for the separate metrics port. @default '0.0.0.0' */
  host?: string;
  /** Registry to use. @default prom-client's global registry */
  registry?: Registry;
}

/** Tracing settings (the SDK itself starts from `tracing/register.js`, see README). */
export interface TracingOptions {
  /** Spans for controllers (`OrdersController.create`) and `@Span()` methods. @default true */
  enabled?: boolean;
}

/** Health check settings. */
export interface HealthOptions {
  /** Timeout of each check. @default 1000 */
  timeoutMs?: number;
  /** Event-loop delay (p99) above which liveness reports `degraded`. @default 500 */
  eventLoopLagMs?: number;
  /** Heap used above which `/health` reports memory degraded. @default 1 GiB */
  heapUsedBytes?: number;
  /** RSS above which `/health` reports memory degraded. @default 2 GiB */
  rssBytes?: number;
  /** Directory whose disk is checked, and the used ratio above which it is degraded. @default { path: process.cwd(), maxUsedRatio: 0.95 } */
  disk?: { path: string; maxUsedRatio?: number } | false;
  /**
   * Who sees the checks' details (response times, reasons, memory figures, the disk path):
   * `'public'` everyone; `'protected'` only requests with the metrics credentials
   * (`metrics.auth`), everyone else gets each check's `status` alone.
   * @default 'public', except 'protected' in the `production` environment
   */
  details?: 'public' | 'protected';
}

/** Graceful shutdown settings. */
export interface ShutdownOptions {
  /** Handle SIGTERM/SIGINT (readiness 503 → delay → drain → hooks → exit). @default true */
  handleSignals?: boolean;
  /**
   * Treat `unhandledRejection` and `uncaughtException` as fatal: log the error (fatal, with its
   * kind), then run the same graceful shutdown, ending with exit code 1. @default true, except in
   * the `test` environment (the test runner reports those events itself)
   */
  handleFatalErrors?: boolean;
  /** Wait after readiness went 503 so load balancers stop sending. @default 5000 in production, 0 otherwise */
  readinessDelayMs?: number;
  /** Time for in-flight requests and drain hooks before a forced exit 1. @default 25000 */
  timeoutMs?: number;
  /** Call `process.exit` at the end (0, or 1 on timeout). @default true */
  exitProcess?: boolean;
}

/** Options of `MonitoringModule.forRoot` / the factory of `forRootAsync`. */
export interface MonitoringOptions {
  /** Name in logs (`service`) and default metric labels. @default process.env.SERVICE_NAME ?? 'app' */
  serviceName?: string;
  /** Production defaults (shutdown delay). @default process.env.NODE_ENV */
  environment?: string;
  logging?: LoggingOptions;
  metrics?: MetricsOptions;
  tracing?: TracingOptions;
  health?: HealthOptions;
  shutdown?: ShutdownOptions;
}

/** Static extras: they shape routes, so they are known before the options factory runs. */
export interface MonitoringExtras {
  /** Register globally. @default true */
  isGlobal?: boolean;
  /** Path of the metrics endpoint; `false` for none. @default '/metrics' */
  metricsPath?: string | false;
  /** Base path of the health endpoints (`/live`, `/ready`, and itself for details). @default '/health' */
  healthPath?: string;
  /**
   * Mount the span interceptor: a span per handler (`OrdersController.create`). It costs an RxJS
   * pipeline per request, so by default it is mounted only when an OpenTelemetry SDK is running
   * when the module is defined and requests get no HTTP server span; with one (the register entry
   * always has it), a guard names the handler on the server span instead. `false` never mounts it.
   * @default whether a tracer provider is registered and there is no HTTP server instrumentation
   */
  tracingInterceptor?: boolean;
}

/** Options with every default applied. */
export interface ResolvedMonitoringOptions {
  serviceName: string;
  environment: string;
  logging: Required<Omit<LoggingOptions, 'destination'>> & { destination?: DestinationStream };
  metrics: Required<Omit<MetricsOptions, 'auth' | 'port' | 'registry'>> &
    Pick<MetricsOptions, 'auth' | 'port' | 'registry'>;
  tracing: Required<TracingOptions>;
  health: Required<Omit<HealthOptions, 'disk'>> & {
    disk: { path: string; maxUsedRatio: number } | false;
  };
  shutdown: Required<ShutdownOptions>;
}

const level = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);
const schema = z
  .object({
    serviceName: z.string().min(1).optional(),
    environment: z.string().min(1).optional(),
    logging: z
      .object({
        level: level.optional(),
        pretty: z.union([z.boolean(), z.literal('auto')]).optional(),
        destination: z
          .custom<DestinationStream>(
            (v) => typeof (v as DestinationStream)?.write === 'function',
            'a stream with write()',
          )
          .optional(),
        redactKeys: z.array(z.string().min(1)).optional(),
        accessLogExclude: z.array(z.string().startsWith('/')).optional(),
      })
      .strict()
      .optional(),
    metrics: z
      .object({
        defaultMetrics: z.boolean().optional(),
        buckets: z.array(z.number().positive()).min(1).optional(),
        auth: z
          .union([
            z.object({ username: z.string().min(1), password: z.string().min(8) }).strict(),
            z.object({ bearerToken: z.string().min(16) }).strict(),
          ])
          .optional(),
        port: z.number().int().min(0).max(65535).optional(),
        public: z.boolean().optional(),
        host: z.string().min(1).optional(),
        registry: z
          .custom<Registry>(
            (v) => typeof (v as Registry)?.metrics === 'function',
            'a prom-client Registry',
          )
          .optional(),
      })
      .strict()
      .optional(),
    tracing: z.object({ enabled: z.boolean().optional() }).strict().optional(),
    health: z
      .object({
        timeoutMs: z.number().int().positive().optional(),
        eventLoopLagMs: z.number().positive().optional(),
        heapUsedBytes: z.number().positive().optional(),
        rssBytes: z.number().positive().optional(),
        details: z.enum(['public', 'protected']).optional(),
        disk: z
          .union([
            z.literal(false),
            z
              .object({ path: z.string().min(1), maxUsedRatio: z.number().gt(0).lte(1).optional() })
              .strict(),
          ])
          .optional(),
      })
      .strict()
      .optional(),
    shutdown: z
      .object({
        handleSignals: z.boolean().optional(),
        handleFatalErrors: z.boolean().optional(),
        readinessDelayMs: z.number().int().min(0).optional(),
        timeoutMs: z.number().int().positive().optional(),
        exitProcess: z.boolean().optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

/** Validates options (naming the bad key) and applies every default. */
export function resolveMonitoringOptions(
  options: MonitoringOptions = {},
): ResolvedMonitoringOptions {
  validateModuleOptions('MonitoringModule', schema, options, MonitoringOptionsError);
  const environment = options.environment ?? process.env.NODE_ENV ?? 'development';
  const l = options.logging ?? {};
  const m = options.metrics ?? {};
  const h = options.health ?? {};
  const s = options.shutdown ?? {};
  const pretty = l.pretty ?? 'auto';
  return {
    serviceName: options.serviceName ?? process.env.SERVICE_NAME ?? 'app',
    environment,
    logging: {
      level: l.level ?? 'info',
      pretty:
        pretty === 'auto'
          ? !l.destination && (environment === 'development' || process.stdout.isTTY === true)
          : pretty,
      destination: l.destination,
      redactKeys: l.redactKeys ?? [],
      accessLogExclude: l.accessLogExclude ?? ['/health', '/metrics'],
    },
    metrics: {
      defaultMetrics: m.defaultMetrics ?? true,
      buckets: m.buckets ?? [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      auth: m.auth,
      port: m.port,
      public: m.public ?? environment !== 'production',
      host: m.host ?? '0.0.0.0',
      registry: m.registry,
    },
    tracing: { enabled: options.tracing?.enabled ?? true },
    health: {
      timeoutMs: h.timeoutMs ?? 1000,
      eventLoopLagMs: h.eventLoopLagMs ?? 500,
      heapUsedBytes: h.heapUsedBytes ?? 1024 ** 3,
      rssBytes: h.rssBytes ?? 2 * 1024 ** 3,
      details: h.details ?? (environment === 'production' ? 'protected' : 'public'),
      disk:
        h.disk === false
          ? false
          : { path: h.disk?.path ?? process.cwd(), maxUsedRatio: h.disk?.maxUsedRatio ?? 0.95 },
    },
    shutdown: {
      handleSignals: s.handleSignals ?? true,
      handleFatalErrors: s.handleFatalErrors ?? environment !== 'test',
      readinessDelayMs: s.readinessDelayMs ?? (environment === 'production' ? 5000 : 0),
      timeoutMs: s.timeoutMs ?? 25_000,
      exitProcess: s.exitProcess ?? true,
    },
  };
}
