import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { pathOf, routeOf } from '../metrics/route.js';
import { DEFAULT_SECRET_KEY } from './redact.js';

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

const JWT_SEGMENT = /^eyJ[\w-]*\.[\w-]+\.[\w-]*$/;

/**
 * `path` with the segments that may carry a credential replaced by `[REDACTED]`: those bound to a
 * route parameter named like a secret (`/reset/:token`, `:apiKey`, `:password`, by the logger's
 * default secret-key pattern) and, matched or not, any segment shaped like a JWT (`eyJ….….…`).
 */
export function loggablePath(path: string, route: string): string {
  const segments = path.split('/');
  const template = route.split('/');
  const aligned = template.length === segments.length;
  let changed = false;
  for (let i = 0; i < segments.length; i++) {
    const param = aligned ? /^:(\w+)/.exec(template[i]!)?.[1] : undefined;
    const segment = segments[i]!;
    if ((param !== undefined && DEFAULT_SECRET_KEY.test(param)) || JWT_SEGMENT.test(segment)) {
      segments[i] = '[REDACTED]';
      changed = true;
    }
  }
  return changed ? segments.join('/') : path;
}

/**
 * Writes the one access line of a request: method, path (no query string: tokens live there;
 * credential-shaped segments redacted, see {@link loggablePath}),
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
      path: loggablePath(path, route),
      route,
      statusCode: status,
      durationMs: Math.round(durationMs * 10) / 10,
      correlationId,
      ...(aborted ? { aborted: true } : {}),
    },
    `${req.method} ${route} ${status} ${Math.round(durationMs)}ms${aborted ? ' (client went away)' : ''}`,
  );
}
