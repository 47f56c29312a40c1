import { Inject, Injectable, type NestMiddleware } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Counter, Gauge, Histogram } from 'prom-client';
import { ClsService } from 'nestjs-cls';
import { correlationIdOf, CORRELATION_HEADER, parseTraceparent } from '../context/correlation.js';
import { PROBLEM_CONTENT_TYPE, problem } from '../http/problem-details.js';
import { MONITORING_OPTIONS } from '../monitoring.constants.js';
import type { ResolvedMonitoringOptions } from '../monitoring.options.js';
import { ShutdownService } from '../shutdown/shutdown.service.js';
import { MetricsService } from './metrics.service.js';
import { methodLabel, pathOf, routeOf } from './route.js';

type Labels = 'method' | 'route' | 'status_code';

/**
 * First thing every HTTP request meets: gives it a correlation id (echoed in `x-correlation-id`),
 * opens its context store, counts it (RED metrics by route template) and tracks it for graceful
 * shutdown. Once shutdown is draining, requests on kept-alive connections get a 503 problem.
 */
@Injectable()
export class HttpObserverMiddleware implements NestMiddleware<IncomingMessage, ServerResponse> {
  private readonly requests: Counter<Labels>;
  private readonly duration: Histogram<Labels>;
  private readonly inFlight: Gauge;

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

  use(req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void): void {
    const started = process.hrtime.bigint();
    const correlationId = correlationIdOf(req);
    res.setHeader(CORRELATION_HEADER, correlationId);
    if (this.shutdown.phase === 'draining' || this.shutdown.phase === 'stopped') {
      this.refuse(req, res, correlationId);
      return;
    }
    this.inFlight.inc();
    this.shutdown.requestStarted();
    let finished = false;
    const done = (): void => {
      if (finished) return;
      finished = true;
      this.inFlight.dec();
      this.shutdown.requestFinished();
      const labels = {
        method: methodLabel(req.method),
        route: routeOf(req),
        status_code: String(res.statusCode),
      };
      this.requests.inc(labels);
      this.duration.observe(labels, Number(process.hrtime.bigint() - started) / 1e9);
    };
    res.once('finish', done);
    res.once('close', done);
    const parent = parseTraceparent(req.headers.traceparent);
    this.cls.run({ ifNested: 'override' }, () => {
      this.cls.set('correlationId', correlationId);
      if (parent) {
        this.cls.set('traceId', parent.traceId);
        this.cls.set('spanId', parent.spanId);
      }
      next();
    });
  }

  private refuse(req: IncomingMessage, res: ServerResponse, correlationId: string): void {
    const body = problem(503, {
      detail: 'The service is shutting down; retry on another instance.',
      instance: pathOf((req as { originalUrl?: string }).originalUrl ?? req.url),
      correlationId,
    });
    res.statusCode = 503;
    res.setHeader('content-type', PROBLEM_CONTENT_TYPE);
    res.setHeader('connection', 'close');
    res.setHeader('retry-after', '1');
    res.end(JSON.stringify(body));
    this.requests.inc({ method: methodLabel(req.method), route: routeOf(req), status_code: '503' });
  }
}
