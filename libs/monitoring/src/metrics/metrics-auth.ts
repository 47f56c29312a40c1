import { createHash, timingSafeEqual } from 'node:crypto';
import type { MetricsAuth } from '../monitoring.options.js';

const digest = (s: string) => createHash('sha256').update(s).digest();
const same = (a: string, b: string) => timingSafeEqual(digest(a), digest(b));

/** True when the Authorization header satisfies the configured protection (or there is none). */
export function metricsAuthorized(
  auth: MetricsAuth | undefined,
  header: string | string[] | undefined,
): boolean {
  if (!auth) return true;
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return false;
  if ('bearerToken' in auth) {
    return value.startsWith('Bearer ') && same(value.slice(7), auth.bearerToken);
  }
  if (!value.startsWith('Basic ')) return false;
  const decoded = Buffer.from(value.slice(6), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return false;
  const userOk = same(decoded.slice(0, colon), auth.username);
  const passOk = same(decoded.slice(colon + 1), auth.password);
  return userOk && passOk;
}

/** The `WWW-Authenticate` challenge for the configured protection. */
export function metricsChallenge(auth: MetricsAuth): string {
  return 'bearerToken' in auth
    ? 'Bearer realm="metrics"'
    : 'Basic realm="metrics", charset="UTF-8"';
}

/** Picks the exposition format from the Accept header. */
export function wantsOpenMetrics(accept: string | string[] | undefined): boolean {
  const value = Array.isArray(accept) ? accept.join(',') : (accept ?? '');
  return value.includes('application/openmetrics-text');
}
