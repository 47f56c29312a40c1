import {
  Inject,
  Module,
  RequestMethod,
  type DynamicModule,
  type INestApplication,
  type MiddlewareConsumer,
  type NestModule,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  type OnModuleInit,
  type Provider,
} from '@nestjs/common';
import { APP_INTERCEPTOR, HttpAdapterHost } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';
import type { Server } from 'node:http';
import { ClsModule } from 'nestjs-cls';
import { Logger as PinoNestLogger, LoggerModule } from 'nestjs-pino';
import { RequestContext } from './context/request-context.js';
import { registerBuiltinIndicators } from './health/builtin-indicators.js';
import { createHealthController } from './health/health.controller.js';
import { HealthRegistry } from './health/health.registry.js';
import { httpLoggingOptions, setAccessLogExclusions } from './logging/http-logging.js';
import { secretKeyPattern } from './logging/redact.js';
import { configureRootLogger } from './logging/root-logger.js';
import { HttpObserverMiddleware } from './metrics/http-observer.middleware.js';
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
import { TracingInterceptor } from './tracing/tracing.interceptor.js';
import { shutdownTracing } from './tracing/sdk.js';

async function resolveAndApply(options: MonitoringOptions): Promise<ResolvedMonitoringOptions> {
  const resolved = resolveMonitoringOptions(options);
  const { logging } = resolved;
  let destination = logging.destination;
  if (!destination && logging.pretty) {
    const { default: pretty } = await import('pino-pretty');
    destination = pretty({
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

function normalisePath(path: string): string {
  return `/${path.replace(/^\/+|\/+$/g, '')}`;
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
    RequestContext,
    HealthRegistry,
    ShutdownService,
    HttpObserverMiddleware,
    { provide: APP_INTERCEPTOR, useClass: TracingInterceptor },
  ];
  return {
    ...module,
    imports: [
      ...(module.imports ?? []),
      ClsModule.forRoot({ global: true, middleware: { mount: false } }),
      LoggerModule.forRoot({
        pinoHttp: httpLoggingOptions(),
        forRoutes: [{ path: '{*path}', method: RequestMethod.ALL }],
      }),
      TerminusModule.forRoot({ logger: false }),
    ],
    controllers: [
      ...(module.controllers ?? []),
      createHealthController(healthPath),
      ...(metricsPath ? [createMetricsController(metricsPath)] : []),
    ],
    providers: [...(module.providers ?? []), ...providers],
    exports: [
      ...(module.exports ?? []),
      MONITORING_OPTIONS,
      MetricsService,
      RequestContext,
      HealthRegistry,
      ShutdownService,
      ClsModule,
      LoggerModule,
    ],
  };
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
  ) {
    super();
  }

  static override forRoot(options: typeof OPTIONS_TYPE = {}): DynamicModule {
    return withMonitoring(super.forRoot(options), options);
  }

  static override forRootAsync(options: typeof ASYNC_OPTIONS_TYPE): DynamicModule {
    return withMonitoring(super.forRootAsync(options), options);
  }

  configure(consumer: MiddlewareConsumer): void {
    const adapter = this.adapterHost.httpAdapter;
    if (adapter?.getType() === 'fastify') {
      // Fastify knows the matched route before Nest's middleware runs; keep it on the raw request.
      const fastify = adapter.getInstance() as {
        addHook(
          name: 'onRequest',
          hook: (
            req: { raw: object; routeOptions?: { url?: string } },
            reply: unknown,
            done: () => void,
          ) => void,
        ): void;
      };
      fastify.addHook('onRequest', (req, _reply, done) => {
        const url = req.routeOptions?.url;
        if (url) (req.raw as Record<symbol, string>)[ROUTE_TEMPLATE] = url;
        done();
      });
    }
    consumer
      .apply(HttpObserverMiddleware)
      .forRoutes({ path: '{*path}', method: RequestMethod.ALL });
  }

  onModuleInit(): void {
    this.registry.setDefaultTimeout(this.options.health.timeoutMs);
    this.stopBuiltins = registerBuiltinIndicators(this.registry, this.options);
    if (this.options.metrics.defaultMetrics) this.metrics.enableDefaultMetrics();
  }

  async onApplicationBootstrap(): Promise<void> {
    const { port, host, auth } = this.options.metrics;
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
 * through pino, and graceful shutdown may close the app. Use instead of `app.enableShutdownHooks()`.
 */
export function setupMonitoring(app: INestApplication): INestApplication {
  app.useLogger(app.get(PinoNestLogger));
  app.get(ShutdownService).attach(app);
  return app;
}
