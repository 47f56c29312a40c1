import {
  Catch,
  HttpException,
  HttpStatus,
  Logger,
  type ArgumentsHost,
  type ExceptionFilter,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { traitOf } from '@infrastructure/core';
import { UNDECODABLE_PATH } from './client-errors.js';
import { recordError } from '../tracing/tracer.js';
import { requestSpanOf } from '../tracing/tracing.guard.js';
import {
  problem,
  PROBLEM_CONTENT_TYPE,
  type ProblemDetails,
  type ProblemFieldError,
} from './problem-details.js';

/** Errors raised by body parsers (express `entity.parse.failed`, fastify `FST_ERR_CTP_*`) carry a 4xx status. */
function clientErrorStatus(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const e = error as { status?: unknown; statusCode?: unknown };
  const status = typeof e.statusCode === 'number' ? e.statusCode : e.status;
  return typeof status === 'number' && status >= 400 && status < 500 ? status : undefined;
}

/**
 * Errors from other libs may declare their HTTP meaning without depending on Nest (core's
 * `ErrorTraits`): `httpStatus` (400-599) and an optional `publicMessage` safe to show (e.g. the
 * persistence lib's DatabaseUnavailableError → 503). The error's own message is never sent.
 */
function declaredStatus(error: unknown): number | undefined {
  const status = traitOf(error, 'httpStatus');
  return status !== undefined && status >= 400 && status <= 599 ? status : undefined;
}

/**
 * Errors may also declare response headers (`httpHeaders`), e.g. `WWW-Authenticate` on a 401 of
 * the security lib. Only string values of well-formed header names are used.
 */
function declaredHeaders(error: unknown): Array<[string, string]> {
  const headers = traitOf(error, 'httpHeaders');
  if (!headers) return [];
  return Object.entries(headers as Record<string, unknown>).filter(
    (entry): entry is [string, string] =>
      /^[A-Za-z0-9-]{1,64}$/.test(entry[0]) &&
      typeof entry[1] === 'string' &&
      !/[\r\n]/.test(entry[1]),
  );
}

const STANDARD_MEMBERS = new Set([
  'type',
  'title',
  'status',
  'detail',
  'instance',
  'errors',
  'correlationId',
]);

/** Extension members an error declares (`problemExtensions`), minus anything malformed or standard. */
function declaredExtensions(error: unknown): Record<string, string | number | boolean> {
  const extensions = traitOf(error, 'problemExtensions');
  if (!extensions) return {};
  return Object.fromEntries(
    Object.entries(extensions as Record<string, unknown>).filter(
      (entry): entry is [string, string | number | boolean] =>
        /^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(entry[0]) &&
        !STANDARD_MEMBERS.has(entry[0]) &&
        ['string', 'number', 'boolean'].includes(typeof entry[1]),
    ),
  );
}

interface RequestLike {
  url?: string;
  originalUrl?: string;
  headers?: Record<string, unknown>;
}

/**
 * Turns every exception on an HTTP route into an RFC 9457 `application/problem+json` response.
 * Client errors keep their status and message; anything else is a 500 whose body reveals nothing
 * (no message, no stack) and whose error is logged with the request's correlation id.
 */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  private readonly logger = new Logger('ProblemDetails');

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly correlationId: (
      request: RequestLike,
    ) => string | undefined = defaultCorrelationId,
  ) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw exception;
    const http = host.switchToHttp();
    const request = http.getRequest<RequestLike>();
    const response = http.getResponse<unknown>();
    const body = this.toProblem(exception, request);
    // With an HTTP server span the handler has no span of its own (TracingGuard): record here.
    const span = requestSpanOf(request);
    if (span) recordError(span, exception);
    const adapter = this.adapterHost.httpAdapter;
    if (body.status >= 500) {
      this.logger.error(
        { err: exception, correlationId: body.correlationId, path: body.instance },
        'Unhandled error on HTTP route',
      );
    }
    adapter.setHeader(response, 'content-type', PROBLEM_CONTENT_TYPE);
    if (body.status === 503) adapter.setHeader(response, 'retry-after', '5');
    if (exception instanceof HttpException) {
      const retryAfter = (exception.getResponse() as { retryAfter?: unknown }).retryAfter;
      if (typeof retryAfter === 'number')
        adapter.setHeader(response, 'retry-after', String(retryAfter));
    }
    for (const [name, value] of declaredHeaders(exception))
      adapter.setHeader(response, name, value);
    adapter.reply(response, body, body.status);
  }

  private toProblem(exception: unknown, request: RequestLike): ProblemDetails {
    const instance = pathOf(request);
    const correlationId = this.correlationId(request);
    const base = { instance, ...(correlationId ? { correlationId } : {}) };
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      if (status >= 500) return problem(status, base);
      const parserDetail = bodyParserDetail(exception, status) ?? undecodablePathDetail(exception);
      if (parserDetail) return problem(status, { ...base, detail: parserDetail });
      return problem(status, { ...base, ...describeHttpException(exception) });
    }
    const declared = declaredStatus(exception);
    if (declared) {
      const detail = traitOf(exception, 'publicMessage');
      return problem(declared, {
        ...declaredExtensions(exception),
        ...base,
        ...(detail !== undefined ? { detail } : {}),
      });
    }
    const clientStatus = clientErrorStatus(exception);
    if (clientStatus) {
      const detail =
        undecodablePathDetail(exception) ??
        (clientStatus === HttpStatus.BAD_REQUEST
          ? 'Malformed request body'
          : (exception as Error).message);
      return problem(clientStatus, { ...base, detail });
    }
    return problem(HttpStatus.INTERNAL_SERVER_ERROR, base);
  }
}

/**
 * A body the HTTP adapter's parser refused (Express's body-parser: `type: 'entity.*'` and friends;
 * Fastify's content-type parser: `FST_ERR_CTP_*`), which Nest wraps in an HttpException with the
 * parser's message. That message may quote the input, so the client gets a fixed text instead.
 */
function bodyParserDetail(exception: HttpException, status: number): string | undefined {
  const cause = exception.cause as { type?: unknown; code?: unknown } | undefined;
  const fromParser =
    (typeof cause?.type === 'string' && /^(entity|encoding|charset|request)\./.test(cause.type)) ||
    (typeof cause?.code === 'string' && cause.code.startsWith('FST_ERR_CTP_'));
  if (!fromParser) return undefined;
  if (status === 413) return 'Request body too large';
  if (status === 415) return 'Unsupported request body encoding or media type';
  return 'Malformed request body';
}

/**
 * Express's router refuses a path parameter that is not valid percent-encoding with "Failed to
 * decode param '<the input>'": the client gets the fixed text Fastify's router errors get.
 */
function undecodablePathDetail(exception: unknown): string | undefined {
  for (let e: unknown = exception, depth = 0; e && depth < 3; depth++) {
    const message = (e as { message?: unknown }).message;
    if (typeof message === 'string' && message.startsWith('Failed to decode param'))
      return UNDECODABLE_PATH;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

function describeHttpException(exception: HttpException): Partial<ProblemDetails> {
  const response = exception.getResponse();
  if (typeof response === 'string') return { detail: response };
  const r = response as Record<string, unknown>;
  const out: Partial<ProblemDetails> = {};
  if (typeof r.type === 'string') out.type = r.type;
  if (typeof r.title === 'string') out.title = r.title;
  if (typeof r.detail === 'string') out.detail = r.detail;
  if (Array.isArray(r.errors)) out.errors = r.errors as ProblemFieldError[];
  else if (Array.isArray(r.message)) {
    out.detail ??= 'Request validation failed';
    out.errors = r.message.map((m) => ({ pointer: '', detail: String(m) }));
  } else if (typeof r.message === 'string' && out.detail === undefined) out.detail = r.message;
  return out;
}

function pathOf(request: RequestLike): string | undefined {
  const url = request.originalUrl ?? request.url;
  return url?.split('?')[0];
}

function defaultCorrelationId(request: RequestLike): string | undefined {
  const header = request.headers?.['x-correlation-id'] ?? request.headers?.['x-request-id'];
  return typeof header === 'string' && /^[A-Za-z0-9._:-]{1,128}$/.test(header) ? header : undefined;
}
