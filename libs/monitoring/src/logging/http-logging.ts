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

/** Per route template: its segment count and the positions of secret-named parameters. */
interface RouteSecrets {
  segments: number;
  secret: readonly number[];
}
const routeSecrets = new Map<string, RouteSecrets>();

function secretsOf(route: string): RouteSecrets {
  let found = routeSecrets.get(route);
  if (!found) {
    const template = route.split('/');
    const secret: number[] = [];
    template.forEach((part, i) => {
      const param = /^:(\w+)/.exec(part)?.[1];
      if (param !== undefined && DEFAULT_SECRET_KEY.test(param)) secret.push(i);
    });
    found = { segments: template.length, secret };
    // Route templates are few; an unbounded set of strings here would be a leak.
    if (routeSecrets.size < 1000) routeSecrets.set(route, found);
  }
  return found;
}

/**
 * `path` with the segments that may carry a credential replaced by `[REDACTED]`: those bound to a
 * route parameter named like a secret (`/reset/:token`, `:apiKey`, `:password`, by the logger's
 * default secret-key pattern) and, matched or not, any segment shaped like a JWT (`eyJ….….…`).
 * The common case (no secret-named parameter, no `eyJ` in the path) returns `path` without
 * splitting it.
 */
export function loggablePath(path: string, route: string): string {
  const { segments: count, secret } = secretsOf(route);
  const jwt = path.includes('eyJ');
  if (!jwt && secret.length === 0) return path;
  const segments = path.split('/');
  const aligned = count === segments.length;
  let changed = false;
  for (let i = 0; i < segments.length; i++) {
    if ((aligned && secret.includes(i)) || (jwt && JWT_SEGMENT.test(segments[i]!))) {
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
