import { createHash } from 'node:crypto';

/**
 * Escapes one subject token (or a consumer name) so it holds only `[A-Za-z0-9_-]`: every other
 * character, the token separator `.` included, becomes `~XX` (UTF-8 hex). Group names carry dots
 * (`svc.Handlers.method`), which would otherwise split into several subject tokens.
 */
export function encodeToken(value: string): string {
  if (value === '') return '~';
  let out = '';
  for (const ch of value) {
    if (/^[A-Za-z0-9_-]$/.test(ch)) out += ch;
    else
      for (const byte of Buffer.from(ch, 'utf8')) out += `~${byte.toString(16).padStart(2, '0')}`;
  }
  return out;
}

/** Reverses {@link encodeToken}. */
export function decodeToken(token: string): string {
  if (token === '~') return '';
  const bytes: number[] = [];
  for (let i = 0; i < token.length; i++) {
    if (token[i] === '~') {
      bytes.push(parseInt(token.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(token.charCodeAt(i));
  }
  return Buffer.from(bytes).toString('utf8');
}

/** An event type as subject tokens: its dots stay separators (`orders.OrderPlaced`). */
export function typeSubject(type: string): string {
  return type.split('.').map(encodeToken).join('.');
}

/** Reverses {@link typeSubject}. */
export function typeFromSubject(tokens: readonly string[]): string {
  return tokens.map(decodeToken).join('.');
}

/**
 * A durable consumer name (no dots allowed). Long names end in a hash so they stay under the
 * file-name limits of the server's store.
 */
export function consumerName(...parts: string[]): string {
  const name = parts.map(encodeToken).join('__');
  if (name.length <= 120) return name;
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 16);
  return `${name.slice(0, 100)}__${hash}`;
}

const B64 = '~b64~';

/**
 * NATS header values cannot hold CR/LF and are trimmed on the wire: such values (exception
 * messages, stacks) travel base64-encoded behind a marker and are decoded on receipt.
 */
export function encodeHeaderValue(value: string): string {
  const unsafe = /[\r\n]/.test(value) || value !== value.trim() || value.startsWith(B64);
  return unsafe ? `${B64}${Buffer.from(value, 'utf8').toString('base64')}` : value;
}

/** Reverses {@link encodeHeaderValue}. */
export function decodeHeaderValue(value: string): string {
  return value.startsWith(B64)
    ? Buffer.from(value.slice(B64.length), 'base64').toString('utf8')
    : value;
}
