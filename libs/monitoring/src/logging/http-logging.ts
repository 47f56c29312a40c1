import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { pathOf, routeOf } from '../metrics/route.js';

/** Path prefixes that get no access log line (set at boot). */
let excluded: readonly string[] = ['/health', '/metrics'];

/** Sets the path prefixes that get no access log line. */
export function setAccessLogExclusions(prefixes: readonly string[]): void {
  excluded = prefixes;
}

/** Fastify's middleware runner rewrites `url` below the mount point; `originalUrl` keeps the full path. */
export function fullPath(req: IncomingMessage): string {
  return pathOf((req as IncomingMessage & { originalUrl?: string }).originalUrl ?? req.url);
}

/** True when the path gets no access line. */
export function isAccessLogExcluded(path: string): boolean {
  return excluded.some((p) => path === p || path.startsWith(p.endsWith('/') ? p : `${p}/`));
}

/**
 * Writes the one access line of a request: method, path (no query string: tokens live there),
 * route template, status, duration and correlation id; `warn` for 4xx, `error` for 5xx. No
 * headers are logged. The correlation id comes from the context store via the logger's mixin.
 */
export function logAccess(
  logger: Logger,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  durationMs: number,
  correlationId: string,
): void {
  const status = res.statusCode;
  const level = status >= 500 ? 'error' : status >= 400 ? 'warn' : 'info';
  if (!logger.isLevelEnabled(level)) return;
  const route = routeOf(req);
  const aborted = !res.writableFinished;
  logger[level](
    {
      method: req.method,
      path,
      route,
      statusCode: status,
      durationMs: Math.round(durationMs * 10) / 10,
      correlationId,
      ...(aborted ? { aborted: true } : {}),
    },
    `${req.method} ${route} ${status} ${Math.round(durationMs)}ms${aborted ? ' (client went away)' : ''}`,
  );
}
