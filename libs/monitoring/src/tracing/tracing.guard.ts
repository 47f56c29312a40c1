import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { SpanKind, trace, type Span } from '@opentelemetry/api';
import type { IncomingMessage } from 'node:http';
import { correlationIdOf } from '../context/correlation.js';
import { routeOf } from '../metrics/route.js';

/** Where the guard leaves the request's span, for the problem filter to record an exception on. */
export const REQUEST_SPAN = Symbol.for('@infrastructure/monitoring.requestSpan');

/** The raw Node request behind an Express or Fastify request. */
export function rawRequest(req: unknown): IncomingMessage {
  return ((req as { raw?: IncomingMessage }).raw ?? req) as IncomingMessage;
}

/** The span the guard annotated for `request` (Express or Fastify request), if any. */
export function requestSpanOf(request: unknown): Span | undefined {
  return (request as { [REQUEST_SPAN]?: Span } | undefined)?.[REQUEST_SPAN];
}

/**
 * Names the Nest handler on the request's active span when the HTTP instrumentation already gives
 * every request a server span: `code.namespace` / `code.function` (`OrdersController.create`),
 * `http.route` and `correlation.id`, and the server span is renamed `GET /v1/orders/:id`. No span
 * of its own and no RxJS pipeline, unlike {@link TracingInterceptor} (mounted instead when there is
 * no server span to annotate). The problem filter records a handler's exception on this span.
 */
@Injectable()
export class TracingGuard implements CanActivate {
  canActivate(ctx: ExecutionContext): boolean {
    if (ctx.getType() !== 'http') return true;
    const span = trace.getActiveSpan();
    if (span === undefined || !span.isRecording()) return true;
    const request = ctx.switchToHttp().getRequest<object>();
    const req = rawRequest(request);
    const route = routeOf(req);
    span.setAttributes({
      'http.route': route,
      'code.function': ctx.getHandler().name,
      'code.namespace': ctx.getClass().name,
      'correlation.id': correlationIdOf(req),
    });
    // Express (no layer spans): the active span is the server span. Fastify: @fastify/otel's
    // request span, whose route the HTTP instrumentation puts in the server span's name itself.
    if ((span as { kind?: SpanKind }).kind === SpanKind.SERVER) {
      span.updateName(`${req.method ?? 'GET'} ${route}`);
    }
    (request as { [REQUEST_SPAN]?: Span })[REQUEST_SPAN] = span;
    return true;
  }
}
