import {
  Inject,
  Module,
  type DynamicModule,
  type INestApplication,
  type MiddlewareConsumer,
  type NestModule,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  type OnModuleInit,
  type Provider,
} from '@nestjs/common';
import { APP_GUARD, APP_INTERCEPTOR, HttpAdapterHost } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { ClsService, ClsServiceManager } from 'nestjs-cls';
import { Logger as PinoNestLogger, LoggerModule } from 'nestjs-pino';
import { extendModule, loadDriver, loadOptional } from '@infrastructure/core';
import { RequestContext } from './context/request-context.js';
import { registerBuiltinIndicators } from './health/builtin-indicators.js';
import { createHealthController } from './health/health.controller.js';
import { HealthRegistry } from './health/health.registry.js';
import { setAccessLogExclusions } from './logging/http-logging.js';
import { secretKeyPattern } from './logging/redact.js';
import { configureRootLogger, getLogger, rootLogger } from './logging/root-logger.js';
import { HttpObserver } from './metrics/http-observer.js';
import { correlationIdOf, CORRELATION_HEADER } from './context/correlation.js';
import { PROBLEM_CONTENT_TYPE } from './http/problem-details.js';
import { createMetricsController } from './metrics/metrics.controller.js';
import { startMetricsServer } from './metrics/metrics-server.js';
import { MetricsService } from './metrics/metrics.service.js';
import { ROUTE_TEMPLATE } from './metrics/route.js';
import { MONITORING_OPTIONS } from './monitoring.constants.js';
import {
  ASYNC_OPTIONS_TYPE,
  ConfigurableModuleClass,
  MONITORING_MODULE_OPTIONS,
  OPTIONS_TYPE,
} from './monitoring.module-definition.js';
import {
  resolveMonitoringOptions,
  type MonitoringExtras,
  type MonitoringOptions,
  type ResolvedMonitoringOptions,
} from './monitoring.options.js';
import { ShutdownService } from './shutdown/shutdown.service.js';
import { TracingGuard } from './tracing/tracing.guard.js';
import { TracingInterceptor } from './tracing/tracing.interceptor.js';
import { shutdownTracing } from './tracing/sdk.js';
import { httpServerSpans, tracingActive } from './tracing/tracer.js';
import { answerClientErrorsAsProblems } from './http/client-errors.js';

type PinoPretty = { default: typeof import('pino-pretty') };

async function resolveAndApply(options: MonitoringOptions): Promise<ResolvedMonitoringOptions> {
  const resolved = resolveMonitoringOptions(options);
  const { logging } = resolved;
  let destination = logging.destination;
  if (!destination && logging.pretty) {
    // pino-pretty is an optional peer: asked for explicitly it must be there; under 'auto'
    // (development, a TTY) the lines stay JSON without it.
    const pretty =
      options.logging?.pretty === true
        ? (await loadDriver<PinoPretty>('pino-pretty', 'MonitoringModule (logging.pretty: true)'))
            .default
        : (await loadOptional<PinoPretty>('pino-pretty'))?.default;
    destination = pretty?.({
      colorize: process.stdout.isTTY === true,
      translateTime: 'SYS:HH:MM:ss.l',
      ignore: 'pid',
      sync: true,
    });
  }
  configureRootLogger({
    level: logging.level,
    destination,
    secretKeys: secretKeyPattern(logging.redactKeys),
    serviceName: resolved.serviceName,
  });
  setAccessLogExclusions(logging.accessLogExclude);
  return resolved;
}

interface FastifyLike {
  addHook(
    name: 'onRequest',
    hook: (
      req: { raw: IncomingMessage; routeOptions?: { url?: string } },
      reply: {
        raw: ServerResponse;
        code(status: number): FastifyLikeReply;
      },
      done: () => void,
    ) => void,
  ): void;
}
interface FastifyLikeReply {
  header(name: string, value: string): FastifyLikeReply;
  send(body: string): unknown;
}

function normalisePath(path: string): string {
  return `/${path.replace(/^\/+|\/+$/g, '')}`;
}

/**
 * How handlers show up in traces; decided when the module is defined (the
 * `--import .../tracing/register.js` entry starts the SDK before that). No SDK: nothing. An HTTP
 * server span per request (our entry, or the HTTP instrumentation): a guard names the handler on
 * it. Otherwise the interceptor makes a span per handler; interceptors put every request through
 * an RxJS pipeline (~10-15 µs a request on Node 24: bench/README.md "tracing").
 */
function tracingProviders(extras: MonitoringExtras): Provider[] {
  const active = tracingActive();
  const interceptor = extras.tracingInterceptor ?? (active && !httpServerSpans());
  if (interceptor) return [{ provide: APP_INTERCEPTOR, useClass: TracingInterceptor }];
  return active ? [{ provide: APP_GUARD, useClass: TracingGuard }] : [];
}

function withMonitoring(module: DynamicModule, extras: MonitoringExtras): DynamicModule {
  const metricsPath =
    extras.metricsPath === false ? false : normalisePath(extras.metricsPath ?? '/metrics');
  const healthPath = normalisePath(extras.healthPath ?? '/health');
  const providers: Provider[] = [
    {
      provide: MONITORING_OPTIONS,
      useFactory: resolveAndApply,
      inject: [MONITORING_MODULE_OPTIONS],
    },
    {
      provide: MetricsService,
      useFactory: (o: ResolvedMonitoringOptions) => new MetricsService(o.metrics.registry),
      inject: [MONITORING_OPTIONS],
    },
    { provide: 'MONITORING:METRICS_PATH', useValue: metricsPath },
    // The process-wide ClsService of nestjs-cls, without ClsModule.forRoot: that module always
    // mounts a global guard and interceptor (no-ops unless enabled), which put every request
    // through Nest's guard and RxJS interceptor pipelines. Apps that import ClsModule themselves
    // share the same store.
    { provide: ClsService, useFactory: () => ClsServiceManager.getClsService() },
    RequestContext,
    HealthRegistry,
    ShutdownService,
    HttpObserver,
    ...tracingProviders(extras),
  ];
  return extendModule(module, {
    imports: [
      // nestjs-pino gives the Nest LoggerService and the injectable PinoLogger over our root
      // logger. Its per-request pino-http middleware is not mounted: HttpObserverMiddleware writes
      // the access line and holds the request context (one middleware, one AsyncLocalStorage),
      // which measured about twice as fast per request on Node 20.
      LoggerModule.forRoot({ pinoHttp: { logger: rootLogger, autoLogging: false }, forRoutes: [] }),
      TerminusModule.forRoot({ logger: false }),
    ],
    controllers: [
      createHealthController(healthPath),
      ...(metricsPath ? [createMetricsController(metricsPath)] : []),
    ],
    providers,
    exports: [
      MONITORING_OPTIONS,
      MetricsService,
      RequestContext,
      HealthRegistry,
      ShutdownService,
      ClsService,
      LoggerModule,
    ],
  });
}

/**
 * Observability for a Nest app in one import: JSON logs with correlation ids (nestjs-pino +
 * nestjs-cls), Prometheus RED metrics by route template, spans for handlers, liveness/readiness
 * probes with a registry for other libs' checks, and graceful shutdown.
 */
@Module({})
export class MonitoringModule
  extends ConfigurableModuleClass
  implements NestModule, OnModuleInit, OnApplicationBootstrap, OnApplicationShutdown
{
  private stopBuiltins?: () => void;
  private metricsServer?: Server;

  constructor(
    @Inject(MONITORING_OPTIONS) private readonly options: ResolvedMonitoringOptions,
    @Inject('MONITORING:METRICS_PATH') private readonly metricsPath: string | false,
    private readonly adapterHost: HttpAdapterHost,
    private readonly registry: HealthRegistry,
    private readonly metrics: MetricsService,
    private readonly observer: HttpObserver,
  ) {
    super();
  }

  static override forRoot(options: typeof OPTIONS_TYPE = {}): DynamicModule {
    return withMonitoring(super.forRoot(options), options);
  }

  static override forRootAsync(options: typeof ASYNC_OPTIONS_TYPE): DynamicModule {
    return withMonitoring(super.forRootAsync(options), options);
  }

  configure(_consumer: MiddlewareConsumer): void {
    this.mountHttpObserver();
  }

  private observerMounted = false;

  /**
   * Puts the HTTP observer in front of everything on the adapter. `setupMonitoring(app)` calls it
   * right after `NestFactory.create`, so routes mounted on the raw adapter before `init` (Swagger's
   * `/docs`, `app.use(...)`, `httpAdapter.get(...)`) are observed too; otherwise it runs when Nest
   * registers middleware, at `init`. Idempotent.
   */
  mountHttpObserver(): void {
    const adapter = this.adapterHost.httpAdapter;
    if (!adapter || this.observerMounted) return;
    this.observerMounted = true;
    const observer = this.observer;
    if (adapter.getType() === 'fastify') {
      const fastify = adapter.getInstance() as FastifyLike;
      fastify.addHook('onRequest', (req, reply, done) => {
        // Fastify knows the matched route before anything runs; keep it on the raw request.
        const url = req.routeOptions?.url;
        if (url) (req.raw as unknown as Record<symbol, string>)[ROUTE_TEMPLATE] = url;
        if (observer.refusing) {
          const correlationId = correlationIdOf(req.raw);
          observer.countRefused(req.raw);
          reply
            .code(503)
            .header('content-type', PROBLEM_CONTENT_TYPE)
            .header('connection', 'close')
            .header('retry-after', '1')
            .header(CORRELATION_HEADER, correlationId)
            .send(JSON.stringify(observer.refusal(req.raw, correlationId)));
          return;
        }
        observer.handle(req.raw, reply.raw, done);
      });
    } else if (adapter.getType() === 'express') {
      const express = adapter.getInstance() as {
        use(fn: (req: IncomingMessage, res: ServerResponse, next: () => void) => void): void;
      };
      express.use((req, res, next) => observer.handle(req, res, next));
    }
  }

  onModuleInit(): void {
    this.registry.setDefaultTimeout(this.options.health.timeoutMs);
    this.stopBuiltins = registerBuiltinIndicators(this.registry, this.options);
    if (this.options.metrics.defaultMetrics) this.metrics.enableDefaultMetrics();
  }

  async onApplicationBootstrap(): Promise<void> {
    const { port, host, auth } = this.options.metrics;
    if (this.metricsPath && port === undefined && !auth && !this.options.metrics.public) {
      getLogger('Metrics').warn(
        { path: this.metricsPath },
        'metrics are not served on the app port (production): set metrics.port (METRICS_PORT), ' +
          'metrics.auth (METRICS_BEARER_TOKEN) or metrics.public (METRICS_PUBLIC=true)',
      );
    }
    if (port !== undefined && this.metricsPath) {
      this.metricsServer = await startMetricsServer(this.metrics, {
        port,
        host,
        path: this.metricsPath,
        auth,
      });
    }
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopBuiltins?.();
    if (this.metricsServer) {
      const server = this.metricsServer;
      this.metricsServer = undefined;
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    await shutdownTracing();
  }

  /** The port the separate metrics server listens on (when `metrics.port` is set). */
  get metricsPort(): number | undefined {
    const address = this.metricsServer?.address();
    return typeof address === 'object' && address ? address.port : undefined;
  }
}

/**
 * Finishes wiring an app after `NestFactory.create(..., { bufferLogs: true })`: Nest's own logs go
 * through pino, graceful shutdown may close the app, the HTTP observer (correlation id, RED
 * metrics, access line) is mounted first, in front of anything mounted on the adapter afterwards,
 * and what Node's HTTP parser refuses (headers over 16 KiB, a malformed request line, a 408) is
 * answered as a problem too ({@link answerClientErrorsAsProblems}). Call it before any `app.use`
 * or Swagger setup. Use instead of `app.enableShutdownHooks()`.
 */
export function setupMonitoring(app: INestApplication): INestApplication {
  app.useLogger(app.get(PinoNestLogger));
  app.get(MonitoringModule).mountHttpObserver();
  answerClientErrorsAsProblems(app.getHttpServer());
  app.get(ShutdownService).attach(app);
  return app;
}
