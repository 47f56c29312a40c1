import { OidcUnavailableError } from './errors.js';

const MAX_BODY_BYTES = 1_048_576;

/** GETs a JSON document with a deadline and a size cap; any failure is an OidcUnavailableError. */
export async function fetchJson(
  url: string,
  what: string,
  timeoutMs: number,
  fetchFn: typeof fetch,
): Promise<Record<string, unknown>> {
  let response: Response;
  try {
    response = await fetchFn(url, {
      headers: { accept: 'application/json' },
      signal: AbortSignal.timeout(timeoutMs),
      redirect: 'error',
    });
  } catch (e) {
    throw new OidcUnavailableError(`${what} ${url} could not be fetched: ${(e as Error).message}`, {
      cause: e,
    });
  }
  let text: string;
  try {
    text = await response.text();
  } catch (e) {
    throw new OidcUnavailableError(`${what} ${url}: reading the body failed`, { cause: e });
  }
  if (!response.ok) {
    throw new OidcUnavailableError(`${what} ${url} answered HTTP ${response.status}`);
  }
  if (text.length > MAX_BODY_BYTES) {
    throw new OidcUnavailableError(`${what} ${url} is larger than ${MAX_BODY_BYTES} bytes`);
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new OidcUnavailableError(`${what} ${url} is not JSON`);
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new OidcUnavailableError(`${what} ${url} is not a JSON object`);
  }
  return body as Record<string, unknown>;
}
