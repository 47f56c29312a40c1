/**
 * What an error may declare about itself for the libs' pipelines, as plain fields, so a lib's
 * errors need no dependency on Nest, the HTTP filter or the resilience pipeline to be understood
 * by them. Every field is optional; an absent field means the pipeline's default.
 */
export interface ErrorTraits {
  /**
   * The HTTP status the problem-details filter answers with (400-599; anything else is ignored
   * and the error is a 500). E.g. 503 for a database that cannot be reached.
   */
  httpStatus?: number;
  /**
   * Text safe to show the client as the problem's `detail` when `httpStatus` is set. The error's
   * own `message` is never sent.
   */
  publicMessage?: string;
  /**
   * Response headers sent with the problem (e.g. `WWW-Authenticate` on a 401). Only string values
   * of well-formed header names are used.
   */
  httpHeaders?: Record<string, string>;
  /**
   * Extension members of the problem when `httpStatus` is set (RFC 9457 §3.2), e.g. the OAuth
   * `error` code a token endpoint must answer with (RFC 6749 §5.2). Only string, number and
   * boolean values of names matching `[A-Za-z_][A-Za-z0-9_]{0,63}` are used, and never one of the
   * standard members (`type`, `title`, `status`, `detail`, `instance`, `errors`, `correlationId`).
   */
  problemExtensions?: Record<string, string | number | boolean>;
  /**
   * `false`: the resilience pipeline (the http-client lib's retry policy) must not retry this call: a
   * retry would fail the same way (a 4xx, a refused address, a missing object). Absent or `true`:
   * retried when the policy allows. It says nothing about a message: it is not "poison" (a message
   * that can never be handled and goes straight to dead letters); a consumer may still redeliver.
   */
  retryable?: boolean;
  /**
   * `false`: the circuit breaker does not count this failure (the caller's fault, not the
   * dependency's: a 404, a validation error). Absent or `true`: it counts.
   */
  countsAsFailure?: boolean;
}

/** Which type each trait has, for the runtime checks of {@link errorTraits}. */
const TRAIT_TYPES = {
  httpStatus: 'number',
  publicMessage: 'string',
  httpHeaders: 'object',
  problemExtensions: 'object',
  retryable: 'boolean',
  countsAsFailure: 'boolean',
} as const satisfies Record<keyof ErrorTraits, string>;

/**
 * One trait of `error` (any thrown value), or undefined when the error does not declare it or
 * declares it with the wrong type (`httpStatus: '503'` is ignored, not trusted).
 */
export function traitOf<K extends keyof ErrorTraits>(
  error: unknown,
  trait: K,
): ErrorTraits[K] | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const value = (error as Record<string, unknown>)[trait];
  if (typeof value !== TRAIT_TYPES[trait] || value === null) return undefined;
  return value as ErrorTraits[K];
}

/** The traits `error` declares (type-checked as by {@link traitOf}); `{}` for anything else. */
export function errorTraits(error: unknown): ErrorTraits {
  const traits: ErrorTraits = {};
  for (const key of Object.keys(TRAIT_TYPES) as Array<keyof ErrorTraits>) {
    const value = traitOf(error, key);
    if (value !== undefined) (traits as Record<string, unknown>)[key] = value;
  }
  return traits;
}
