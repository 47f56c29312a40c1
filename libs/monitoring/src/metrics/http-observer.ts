import { Inject, Injectable } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Counter, Gauge, Histogram } from 'prom-client';
import { ClsService } from 'nestjs-cls';
import { correlationIdOf, CORRELATION_HEADER, parseTraceparent } from '../context/correlation.js';
import type { RequestContextStore } from '../context/request-context.js';
import { PROBLEM_CONTENT_TYPE, problem } from '../http/problem-details.js';
import { MONITORING_OPTIONS } from '../monitoring.constants.js';
import type { ResolvedMonitoringOptions } from '../monitoring.options.js';
import { ShutdownService } from '../shutdown/shutdown.service.js';
import { fullPath, isAccessLogExcluded, logAccess } from '../logging/http-logging.js';
import { getLogger } from '../logging/root-logger.js';
import { MetricsService } from './metrics.service.js';
import {
  counterSeries,
  histogramSeries,
  type CounterSeries,
  type HistogramSeries,
} from './series.js';
import { methodLabel, routeOf } from './route.js';

type Labels = 'method' | 'route' | 'status_code';

/**
 * First thing every HTTP request meets: gives it a correlation id (echoed in `x-correlation-id`),
 * opens its context store, counts it (RED metrics by route template), writes its access line and
 * tracks it for graceful shutdown. Once shutdown is draining, requests on kept-alive connections
 * get a 503 problem.
 *
 * Mounted on the adapter itself (Express `app.use`, Fastify `onRequest` hook) rather than as a
 * Nest middleware: a Nest middleware is a routed layer with its own wrapper, which measured at
 * about a fifth of a hello-world request on Node 20.
 */
@Injectable()
export class HttpObserver {
  private readonly requests: Counter<Labels>;
  private readonly duration: Histogram<Labels>;
  private readonly inFlight: Gauge;
  private readonly accessLog = getLogger('HttpAccess');
  /** Series handles per method/route/status: no label hashing per request (series.ts). */
  private readonly series = new Map<string, { count: CounterSeries; time: HistogramSeries }>();

  constructor(
    metrics: MetricsService,
    private readonly cls: ClsService,
    private readonly shutdown: ShutdownService,
    @Inject(MONITORING_OPTIONS) options: ResolvedMonitoringOptions,
  ) {
    const labelNames = ['method', 'route', 'status_code'] as const;
    this.requests = metrics.counter({
      name: 'http_server_requests_total',
      help: 'HTTP requests handled, by method, route template and status code.',
      labelNames,
    });
    this.duration = metrics.histogram({
      name: 'http_server_request_duration_seconds',
      help: 'Time from request received to response finished, by method, route template and status code.',
      labelNames,
      buckets: options.metrics.buckets,
    });
    this.inFlight = metrics.gauge({
      name: 'http_server_requests_in_flight',
      help: 'HTTP requests being handled now.',
    });
  }

  handle(req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void): void {
    const started = performance.now();
    const correlationId = correlationIdOf(req);
    res.setHeader(CORRELATION_HEADER, correlationId);
    if (this.refusing) {
      this.refuse(req, res, correlationId);
      return;
    }
    const path = fullPath(req);
    this.inFlight.inc();
    this.shutdown.requestStarted();
    let finished = false;
    const done = (): void => {
      if (finished) return;
      finished = true;
      const durationMs = performance.now() - started;
      this.inFlight.dec();
      this.shutdown.requestFinished();
      const series = this.seriesFor(methodLabel(req.method), routeOf(req), res.statusCode);
      series.count.inc();
      series.time.observe(durationMs / 1000);
      if (!isAccessLogExcluded(path))
        logAccess(this.accessLog, req, res, path, durationMs, correlationId);
    };
    res.once('finish', done);
    res.once('close', done);
    const parent = parseTraceparent(req.headers.traceparent);
    const store: RequestContextStore = parent
      ? { correlationId, traceId: parent.traceId, spanId: parent.spanId }
      : { correlationId };
    this.cls.runWith(store as Record<string, unknown>, next);
  }

  private seriesFor(
    method: string,
    route: string,
    status: number,
  ): { count: CounterSeries; time: HistogramSeries } {
    const key = `${method} ${status} ${route}`;
    let series = this.series.get(key);
    if (!series) {
      const labels = { method, route, status_code: String(status) };
      series = {
        count: counterSeries(this.requests, labels),
        time: histogramSeries(this.duration, labels),
      };
      // Bounded: routes are templates, methods and statuses are small sets.
      if (this.series.size < 10_000) this.series.set(key, series);
    }
    return series;
  }

  /** True once shutdown is draining: new requests are answered 503. */
  get refusing(): boolean {
    return this.shutdown.phase === 'draining' || this.shutdown.phase === 'stopped';
  }

  /** The 503 problem sent to requests that arrive while draining. */
  refusal(req: IncomingMessage, correlationId: string) {
    return problem(503, {
      detail: 'The service is shutting down; retry on another instance.',
      instance: fullPath(req),
      correlationId,
    });
  }

  /** Counts a refused request. */
  countRefused(req: IncomingMessage): void {
    this.seriesFor(methodLabel(req.method), routeOf(req), 503).count.inc();
  }

  private refuse(req: IncomingMessage, res: ServerResponse, correlationId: string): void {
    const body = this.refusal(req, correlationId);
    res.statusCode = 503;
    res.setHeader('content-type', PROBLEM_CONTENT_TYPE);
    res.setHeader('connection', 'close');
    res.setHeader('retry-after', '1');
    res.end(JSON.stringify(body));
    this.countRefused(req);
  }
}
