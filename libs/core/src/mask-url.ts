/**
 * Query (and fragment) parameter names whose values never appear in errors, logs, metrics or
 * configuration dumps: anything containing `token`, `secret`, `pass`/`password`/`passwd`,
 * `pwd`, `signature`, `key`, `auth`, `credential` or `session` (so `access_token`, `api_key`,
 * `apikey`, `X-Amz-Signature`, `X-Amz-Credential`, `client_secret`), and exactly `sig` or `code`
 * (OAuth authorization codes; `zipcode` is left alone). Case-insensitive.
 */
export const SECRET_QUERY_PARAM =
  /token|secret|pass(word|wd|phrase)?|pwd|signature|^sig$|key|auth|credential|session|^code$/i;

const MASK = '***';
const USERINFO_PASSWORD = /^([a-z][a-z0-9+.-]*:\/\/[^:/@?#]*:)[^@/?#]*@/i;

function decodedName(raw: string): string {
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    return raw;
  }
}

/** `a=1&token=x` → `a=1&token=***` for names matching `pattern`; the rest kept as written. */
function maskParams(params: string, pattern: RegExp): string {
  if (!params.includes('=')) return params;
  return params
    .split('&')
    .map((part) => {
      const eq = part.indexOf('=');
      if (eq === -1) return part;
      const name = part.slice(0, eq);
      return pattern.test(decodedName(name)) ? `${name}=${MASK}` : part;
    })
    .join('&');
}

/** Masks secret parameters in the query and the fragment (`#access_token=…`) of `value`. */
function maskQueryAndFragment(value: string, pattern: RegExp): string {
  const hash = value.indexOf('#');
  const beforeHash = hash === -1 ? value : value.slice(0, hash);
  const fragment = hash === -1 ? undefined : value.slice(hash + 1);
  const q = beforeHash.indexOf('?');
  const head = q === -1 ? beforeHash : beforeHash.slice(0, q + 1);
  const query = q === -1 ? '' : maskParams(beforeHash.slice(q + 1), pattern);
  return `${head}${query}${fragment === undefined ? '' : `#${maskParams(fragment, pattern)}`}`;
}

/**
 * Masks the password of a URL (`postgres://app:***@db:5432/app`) and the values of its
 * secret-looking query parameters ({@link SECRET_QUERY_PARAM}: `?sig=***`), leaving everything
 * else as written. Works on paths with a query (`/cb?code=***`); other non-URLs are returned as
 * they are. For connection URLs and configured URLs in errors, logs and configuration dumps.
 */
export function maskUrlPassword(value: string, pattern: RegExp = SECRET_QUERY_PARAM): string {
  const masked = value.replace(USERINFO_PASSWORD, `$1${MASK}@`);
  return masked.includes('?') || masked.includes('#')
    ? maskQueryAndFragment(masked, pattern)
    : masked;
}

/**
 * `url` with any userinfo (password, or a lone user that is often a token) and the values of
 * secret-looking query and fragment parameters ({@link SECRET_QUERY_PARAM}) replaced by `***`.
 * A path (`/cb?code=123`) is masked as a path. Unparseable input gives `[unparseable URL]`
 * rather than echoing it. For URLs that reach errors, logs and metrics at run time.
 */
export function maskUrl(url: string | URL, pattern: RegExp = SECRET_QUERY_PARAM): string {
  const text = String(url);
  const relative = text.startsWith('/') && !text.startsWith('//');
  let u: URL;
  try {
    u = relative ? new URL(text, 'http://relative.invalid') : new URL(text);
  } catch {
    return '[unparseable URL]';
  }
  if (u.password) u.password = MASK;
  if (u.username && !u.password) u.username = MASK;
  const href = relative ? `${u.pathname}${u.search}${u.hash}` : u.href;
  return maskQueryAndFragment(href, pattern);
}

/**
 * `text` with {@link maskUrlPassword} applied to every URL-looking word in it (a word holding
 * `?`, `#` or `@`): `GET /cb?code=***`, `cannot reach amqp://app:***@mq`. For free text that may
 * embed URLs: log fields, validation messages.
 */
export function maskUrlsInText(text: string, pattern: RegExp = SECRET_QUERY_PARAM): string {
  if (!/[?#@]/.test(text)) return text;
  return text.replace(/[^\s"'<>`]+/g, (word) => {
    if (!/[?#@]/.test(word)) return word;
    // Trailing punctuation belongs to the sentence, not the URL: `(see /cb?code=1).`
    const end = /[)\]}.,;:!]*$/.exec(word)!.index;
    return maskUrlPassword(word.slice(0, end), pattern) + word.slice(end);
  });
}
