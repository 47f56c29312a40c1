import { maskUrlsInText } from '@infrastructure/core';
import { pino } from 'pino';

/** Header names whose values never reach the logs. */
export const REDACTED_HEADERS = [
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'x-api-key',
];

/** Keys whose values never reach the logs, wherever they appear in a logged object. */
export const DEFAULT_SECRET_KEY =
  /pass(word|wd|phrase)?|secret|token|api[-_]?key|private[-_]?key|credential|authorization|cookie/i;

const CENSOR = '[REDACTED]';
const MAX_DEPTH = 8;

/**
 * Returns `value` with the value of every key matching `pattern` replaced by `[REDACTED]`, at any
 * depth (8 levels; cycles are cut), and URL passwords and secret query parameters masked in
 * every string (`/cb?code=***`, core's `maskUrlsInText`). Copies only the objects it changes; leaves Errors' own
 * serialisation to pino.
 */
export function redactDeep(
  value: unknown,
  pattern: RegExp,
  depth = 0,
  seen = new WeakSet<object>(),
): unknown {
  // URLs in string values keep their shape with passwords and secret query parameters masked.
  if (typeof value === 'string') return maskUrlsInText(value);
  if (value === null || typeof value !== 'object' || depth > MAX_DEPTH) return value;
  if (seen.has(value)) return '[Circular]';
  seen.add(value);
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const next = redactDeep(value[i], pattern, depth + 1, seen);
      if (next !== value[i]) (copy ??= [...value])[i] = next;
    }
    return copy ?? value;
  }
  // Only plain data is walked: class instances (sockets, requests, Errors, Buffers) are left to
  // pino's serializers, and walking them would be slow and could follow huge object graphs.
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) return value;
  let copy: Record<string, unknown> | undefined;
  for (const key of Object.keys(value)) {
    const current = (value as Record<string, unknown>)[key];
    let next: unknown;
    if (pattern.test(key)) {
      next = current === undefined || current === null ? current : CENSOR;
    } else {
      next = redactDeep(current, pattern, depth + 1, seen);
    }
    if (next !== current) (copy ??= { ...(value as Record<string, unknown>) })[key] = next;
  }
  return copy ?? value;
}

/** A key pattern: the default secret keys plus `extraKeys` (exact names, case-insensitive). */
export function secretKeyPattern(extraKeys: readonly string[] = []): RegExp {
  if (extraKeys.length === 0) return DEFAULT_SECRET_KEY;
  const escaped = extraKeys.map((k) => k.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`${DEFAULT_SECRET_KEY.source}|^(${escaped.join('|')})$`, 'i');
}

/**
 * pino's `err` serializer, then URL passwords and secret query parameters masked in the message,
 * the stack (causes included) and every string field: driver errors often quote the URL they
 * could not reach.
 */
export function serializeError(error: unknown): unknown {
  const out = pino.stdSerializers.err(error as Error) as unknown;
  if (out === null || typeof out !== 'object') return out;
  const fields = out as Record<string, unknown>;
  for (const key of Object.keys(fields)) {
    const value = fields[key];
    if (typeof value === 'string') fields[key] = maskUrlsInText(value);
  }
  return fields;
}
