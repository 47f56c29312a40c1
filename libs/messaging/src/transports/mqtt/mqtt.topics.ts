import { createHash } from 'node:crypto';

/**
 * Escapes one topic level: `/`, `+`, `#`, `~`, NUL and a leading `$` (reserved by brokers) become
 * `~XX`, so a group or event type stays one level and is never read as a wildcard.
 */
export function encodeLevel(value: string): string {
  if (value === '') return '~';
  let out = '';
  for (const [i, ch] of [...value].entries()) {
    if (/^[/+#~\0]$/.test(ch) || (i === 0 && ch === '$')) {
      out += `~${ch.charCodeAt(0).toString(16).padStart(2, '0')}`;
    } else out += ch;
  }
  return out;
}

/** Reverses {@link encodeLevel}. */
export function decodeLevel(level: string): string {
  if (level === '~') return '';
  return level.replace(/~([0-9a-f]{2})/g, (_, hex: string) =>
    String.fromCharCode(parseInt(hex, 16)),
  );
}

/** A share name of `$share/<name>/...`: no `/`, `+` or `#`. */
export function shareName(namespace: string, group: string): string {
  return `${namespace}.${encodeLevel(group)}`;
}

/** A client id that stays readable and bounded (brokers may limit its length). */
export function clientIdOf(parts: readonly string[]): string {
  const id = parts.join(':');
  if (id.length <= 100) return id;
  return `${id.slice(0, 80)}:${createHash('sha256').update(id).digest('hex').slice(0, 16)}`;
}

/** Dead-letter ids sort by time (oldest first) and are unique. */
export function sortableId(now = Date.now()): string {
  return `${String(now).padStart(14, '0')}-${Math.random().toString(36).slice(2, 10).padEnd(8, '0')}`;
}

const B64 = '~b64~';

/**
 * MQTT strings must not carry control characters (Mosquitto drops the connection): such
 * user-property values (multi-line exception messages) travel base64-encoded behind a marker.
 */
export function encodeProperty(value: string): string {
  // eslint-disable-next-line no-control-regex
  const unsafe = /[\u0000-\u001f\u007f]/.test(value) || value.startsWith(B64);
  return unsafe ? `${B64}${Buffer.from(value, 'utf8').toString('base64')}` : value;
}

/** Reverses {@link encodeProperty}. */
export function decodeProperty(value: string): string {
  return value.startsWith(B64)
    ? Buffer.from(value.slice(B64.length), 'base64').toString('utf8')
    : value;
}
