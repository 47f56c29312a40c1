/** Query parameters whose values never appear in errors, logs or health output. */
export const SECRET_QUERY_PARAM =
  /token|secret|pass(word|wd|phrase)?|pwd|signature|^sig$|key|auth|credential|session|^code$/i;

const MASK = '***';

/**
 * `url` with the values of secret-looking query parameters (`token`, `api_key`, `signature`,
 * `password`...) and any userinfo password replaced by `***`. Unparseable input gives
 * `[unparseable URL]` rather than echoing it.
 */
export function maskUrl(url: string | URL, pattern: RegExp = SECRET_QUERY_PARAM): string {
  let u: URL;
  try {
    u = new URL(String(url));
  } catch {
    return '[unparseable URL]';
  }
  if (u.password) u.password = MASK;
  if (u.username && !u.password) u.username = MASK;
  if (!u.search) return u.toString();
  const params = [...u.searchParams];
  if (!params.some(([k]) => pattern.test(k))) return u.toString();
  const masked = params
    .map(([k, v]) => `${encodeURIComponent(k)}=${pattern.test(k) ? MASK : encodeURIComponent(v)}`)
    .join('&');
  return `${u.origin}${u.pathname}?${masked}${u.hash}`;
}
