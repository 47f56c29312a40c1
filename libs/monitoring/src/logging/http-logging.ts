import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Options } from 'pino-http';
import { correlationIdOf } from '../context/correlation.js';
import { pathOf, routeOf } from '../metrics/route.js';
import { pino } from 'pino';
import { rootLogger } from './root-logger.js';

const rootLoggerErr = pino.stdSerializers.err;

// nestjs-pino keeps one pino-http middleware per process, built from the first options it sees;
// these settings are therefore read at request time so each boot's configuration applies.
let excluded: readonly string[] = ['/health', '/metrics'];

/** Sets the path prefixes that get no access log line. */
export function setAccessLogExclusions(prefixes: readonly string[]): void {
  excluded = prefixes;
}

/** Middie (Fastify) rewrites `url` below the mount point; `originalUrl` keeps the full path. */
function fullUrl(req: { url?: string; originalUrl?: string }): string | undefined {
  return req.originalUrl ?? req.url;
}

function isExcluded(url: string | undefined): boolean {
  const path = pathOf(url);
  return excluded.some((p) => path === p || path.startsWith(p.endsWith('/') ? p : `${p}/`));
}

function accessFields(
  req: IncomingMessage & { originalUrl?: string },
  res: ServerResponse,
  value: Record<string, unknown>,
): Record<string, unknown> {
  return {
    ...value,
    method: req.method,
    path: pathOf(fullUrl(req)),
    route: routeOf(req),
    statusCode: res.statusCode,
    correlationId: correlationIdOf(req),
  };
}

/**
 * pino-http options for one access log line per request: method, route template, status,
 * duration and correlation id; no headers, no query string (tokens live there).
 */
export function httpLoggingOptions(): Options<IncomingMessage, ServerResponse> {
  return {
    logger: rootLogger,
    genReqId: (req) => correlationIdOf(req),
    autoLogging: { ignore: (req) => isExcluded(fullUrl(req)) },
    customAttributeKeys: { responseTime: 'durationMs' },
    wrapSerializers: false,
    // No request/response objects on the line: headers and query strings carry secrets. The
    // line gets flat fields at finish instead (after routing, with the full path known).
    serializers: { req: () => undefined, res: () => undefined, err: rootLoggerErr },
    customLogLevel: (_req, res, err) =>
      err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info',
    customSuccessObject: (req, res, value: Record<string, unknown>) =>
      accessFields(req, res, value),
    customErrorObject: (req, res, _err, value: Record<string, unknown>) =>
      accessFields(req, res, value),
    customSuccessMessage: (req, res, ms) =>
      `${req.method} ${routeOf(req)} ${res.statusCode} ${Math.round(ms)}ms`,
    customErrorMessage: (req, res) => `${req.method} ${routeOf(req)} ${res.statusCode} failed`,
  };
}
