import {
  Injectable,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { context, propagation, ROOT_CONTEXT, SpanKind, trace } from '@opentelemetry/api';
import { Observable } from 'rxjs';
import { correlationIdOf } from '../context/correlation.js';
import { routeOf } from '../metrics/route.js';
import { recordError, tracer, tracingActive } from './tracer.js';
import { rawRequest } from './tracing.guard.js';

/**
 * Names a span after the Nest handler (`OrdersController.create`), records the route template
 * and any exception, on Express and Fastify. (The OpenTelemetry Nest instrumentation does not
 * support Nest 12.) It also names the HTTP server span `GET /v1/orders/:id`.
 */
@Injectable()
export class TracingInterceptor implements NestInterceptor {
  private active: boolean | undefined;

  intercept(ctx: ExecutionContext, next: CallHandler): Observable<unknown> {
    this.active ??= tracingActive();
    if (!this.active || ctx.getType() !== 'http') return next.handle();
    const req = rawRequest(ctx.switchToHttp().getRequest());
    const route = routeOf(req);
    const name = `${ctx.getClass().name}.${ctx.getHandler().name}`;
    const server = trace.getActiveSpan();
    if (server) {
      server.setAttribute('http.route', route);
      server.updateName(`${req.method ?? 'GET'} ${route}`);
    }
    // Without HTTP auto-instrumentation there is no server span: continue the caller's trace.
    const parent = server ? context.active() : propagation.extract(ROOT_CONTEXT, req.headers);
    const span = tracer().startSpan(
      name,
      {
        kind: server ? SpanKind.INTERNAL : SpanKind.SERVER,
        attributes: {
          'http.route': route,
          'http.request.method': req.method ?? 'GET',
          'code.function': ctx.getHandler().name,
          'code.namespace': ctx.getClass().name,
          'correlation.id': correlationIdOf(req),
        },
      },
      parent,
    );
    const spanContext = trace.setSpan(parent, span);
    return new Observable((subscriber) =>
      context.with(spanContext, () =>
        next.handle().subscribe({
          next: (value) => subscriber.next(value),
          error: (error: unknown) => {
            recordError(span, error);
            span.end();
            subscriber.error(error);
          },
          complete: () => {
            span.end();
            subscriber.complete();
          },
        }),
      ),
    );
  }
}
