import type { IncomingMessage } from 'node:http';

/** Set on the raw request by the Fastify `onRequest` hook: the matched route template. */
export const ROUTE_TEMPLATE = Symbol.for('infrastructure.routeTemplate');

/** Label of requests that matched no route (scanners, typos): keeps cardinality bounded. */
export const UNMATCHED_ROUTE = 'unmatched';

/** Catch-all patterns middleware is mounted on (`{*path}`, `{/*splat}`, `*`). */
const CATCH_ALL = /^\/?(\{\/?\*\w*\}|\*|\(\.\*\))$/;

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** The route template of a request (`/v1/orders/:id`), never the raw URL; `unmatched` when none. */
export function routeOf(req: IncomingMessage): string {
  const r = req as IncomingMessage & { [ROUTE_TEMPLATE]?: string; route?: { path?: unknown } };
  const template = r[ROUTE_TEMPLATE] ?? r.route?.path;
  // Express leaves req.route at the last route that ran: for a 404 that is a catch-all middleware.
  if (typeof template !== 'string' || template.length === 0 || CATCH_ALL.test(template))
    return UNMATCHED_ROUTE;
  return template;
}

/** The method as a bounded label value. */
export function methodLabel(method: string | undefined): string {
  const m = (method ?? '').toUpperCase();
  return METHODS.has(m) ? m : 'OTHER';
}

/** The path of a request URL without its query string. */
export function pathOf(url: string | undefined): string {
  if (!url) return '/';
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}
