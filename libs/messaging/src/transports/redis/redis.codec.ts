import type { DeadLetterRecord, OutgoingMessage } from '../transport.js';

/** Stream field names. Headers travel as `h:<name>` fields so they never clash with ours. */
const BODY = 'body';
const KEY = 'key';
const ATTEMPT = 'attempt';
const TYPE = 'type';
const GROUP = 'group';
const HEADER = 'h:';

/** The Redis keys of one namespace. */
export class RedisKeys {
  constructor(readonly namespace: string) {}

  /** The stream every group of `type` reads (one consumer group per group name). */
  events(type: string): string {
    return `${this.namespace}:events:${type}`;
  }

  /** Retries and replays of one (type, group) subscription: only that group reads it. */
  retry(type: string, group: string): string {
    return `${this.namespace}:retry:${type}:${group}`;
  }

  /** Retries waiting for their delay (ZSET scored by due time in ms, Redis clock). */
  delayed(type: string, group: string): string {
    return `${this.namespace}:delayed:${type}:${group}`;
  }

  deadLetters(): string {
    return `${this.namespace}:dead-letters`;
  }

  /** SCAN pattern matching every key of the namespace. */
  pattern(): string {
    return `${this.namespace.replace(/[*?[\]\\]/g, '\\$&')}:*`;
  }
}

/** A stream entry as read back: its id and its fields. */
export interface StreamEntry {
  id: string;
  /** `null` when the entry was deleted (trimmed) while pending. */
  fields: Record<string, string> | null;
}

/** Fields of an event entry (`attempt` only on retry-stream entries). */
export function encodeMessage(message: OutgoingMessage, attempt?: number): string[] {
  const fields = [BODY, message.body];
  if (message.key !== undefined) fields.push(KEY, message.key);
  if (attempt !== undefined) fields.push(ATTEMPT, String(attempt));
  for (const [name, value] of Object.entries(message.headers)) fields.push(HEADER + name, value);
  return fields;
}

/** A delivery decoded from an entry's fields. */
export interface DecodedMessage {
  body: string;
  headers: Record<string, string>;
  key?: string;
  /** The attempt the entry's first delivery counts as (1 for published events). */
  baseAttempt: number;
}

export function decodeMessage(fields: Record<string, string>): DecodedMessage {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(fields)) {
    if (name.startsWith(HEADER)) headers[name.slice(HEADER.length)] = value;
  }
  const base = Number(fields[ATTEMPT] ?? '1');
  return {
    body: fields[BODY] ?? '',
    headers,
    ...(fields[KEY] !== undefined ? { key: fields[KEY] } : {}),
    baseAttempt: Number.isInteger(base) && base >= 1 ? base : 1,
  };
}

/** The outgoing message an entry was made from (to re-enqueue it on the retry stream). */
export function toOutgoing(type: string, decoded: DecodedMessage): OutgoingMessage {
  return {
    type,
    body: decoded.body,
    headers: decoded.headers,
    ...(decoded.key !== undefined ? { key: decoded.key } : {}),
  };
}

export function encodeDeadLetter(letter: Omit<DeadLetterRecord, 'id'>): string[] {
  const fields = [TYPE, letter.type, GROUP, letter.group, BODY, letter.body];
  for (const [name, value] of Object.entries(letter.headers)) fields.push(HEADER + name, value);
  return fields;
}

export function decodeDeadLetter(entry: StreamEntry): DeadLetterRecord {
  const fields = entry.fields ?? {};
  const { body, headers } = decodeMessage(fields);
  return { id: entry.id, type: fields[TYPE] ?? '', group: fields[GROUP] ?? '', body, headers };
}

function isStringish(value: unknown): value is string | Buffer {
  return typeof value === 'string' || Buffer.isBuffer(value);
}

/** `[k, v, k, v]` → record (RESP2 field list). */
export function fieldsToRecord(list: unknown): Record<string, string> | null {
  if (!Array.isArray(list)) return null;
  const record: Record<string, string> = {};
  for (let i = 0; i + 1 < list.length; i += 2) {
    const k: unknown = list[i];
    const v: unknown = list[i + 1];
    if (isStringish(k) && isStringish(v)) record[String(k)] = String(v);
  }
  return record;
}

/** `[[id, fields], ...]` (XRANGE, XCLAIM, the middle of XAUTOCLAIM). */
export function parseEntries(reply: unknown): StreamEntry[] {
  if (!Array.isArray(reply)) return [];
  const entries: StreamEntry[] = [];
  for (const item of reply) {
    if (!Array.isArray(item) || !isStringish(item[0])) continue;
    entries.push({ id: String(item[0]), fields: fieldsToRecord(item[1]) });
  }
  return entries;
}

/**
 * XREAD/XREADGROUP reply → entries per stream key. Accepts the RESP2 shape `[[key, entries], ...]`
 * and the flattened RESP3 map `[key, entries, key, entries]`; `null` (timeout) gives an empty map.
 */
export function parseStreamsReply(reply: unknown): Map<string, StreamEntry[]> {
  const byStream = new Map<string, StreamEntry[]>();
  if (!Array.isArray(reply)) return byStream;
  if (reply.length > 0 && isStringish(reply[0])) {
    for (let i = 0; i + 1 < reply.length; i += 2) {
      byStream.set(String(reply[i]), parseEntries(reply[i + 1]));
    }
    return byStream;
  }
  for (const item of reply) {
    if (Array.isArray(item) && isStringish(item[0])) {
      byStream.set(String(item[0]), parseEntries(item[1]));
    }
  }
  return byStream;
}

/** XAUTOCLAIM reply (Redis ≥ 7: `[cursor, entries, deletedIds]`; 6.2: `[cursor, entries]`). */
export function parseAutoClaim(reply: unknown): { cursor: string; entries: StreamEntry[] } {
  if (!Array.isArray(reply) || !isStringish(reply[0])) return { cursor: '0-0', entries: [] };
  return { cursor: String(reply[0]), entries: parseEntries(reply[1]) };
}

/** XPENDING extended form → delivery count by entry id. */
export function parsePendingCounts(reply: unknown): Map<string, number> {
  const counts = new Map<string, number>();
  if (!Array.isArray(reply)) return counts;
  for (const item of reply) {
    if (Array.isArray(item) && isStringish(item[0])) counts.set(String(item[0]), Number(item[3]));
  }
  return counts;
}

/**
 * The attempt a delivery counts as: the entry's base attempt plus the deliveries before this one
 * (`deliveryCount` is Redis's counter after this delivery, so 1 on a first read).
 */
export function attemptOf(baseAttempt: number, deliveryCount: number): number {
  return baseAttempt + Math.max(1, deliveryCount) - 1;
}
