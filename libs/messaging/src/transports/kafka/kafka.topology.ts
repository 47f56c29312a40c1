import { createHash } from 'node:crypto';
import { MessagingConfigError } from '../../errors.js';

/** Where and how to connect, parsed from `options.url`. */
export interface KafkaConnection {
  brokers: string[];
  ssl: boolean;
  sasl?: {
    mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512';
    username: string;
    password: string;
  };
  /** The URL with the password masked, for logs and errors. */
  display: string;
}

const SCHEMES = new Set(['kafka', 'kafkas', 'kafka+ssl']);
const MECHANISMS = new Set(['plain', 'scram-sha-256', 'scram-sha-512']);

/**
 * Parses `kafka://host:port,host2:port` (or a plain `host:port,host2:port` list).
 * `kafkas://` (or `kafka+ssl://`, or `?ssl=true`) turns TLS on; `user:password@` turns SASL on
 * (`?sasl=plain|scram-sha-256|scram-sha-512`, default `plain`). A missing port means 9092.
 */
export function parseKafkaUrl(url: string): KafkaConnection {
  const fail = (why: string): never => {
    throw new MessagingConfigError(
      `MessagingModule: options.url must be kafka://host:port[,host:port...] (${why}), got "${maskKafkaUrl(url)}"`,
    );
  };
  let rest = url.trim();
  let scheme = 'kafka';
  const schemeMatch = /^([a-z][a-z0-9+.-]*):\/\/(.*)$/i.exec(rest);
  if (schemeMatch) {
    scheme = schemeMatch[1]!.toLowerCase();
    rest = schemeMatch[2]!;
    if (!SCHEMES.has(scheme)) fail(`unknown scheme "${scheme}"`);
  }
  const [beforeQuery = '', query = ''] = rest.split('?', 2);
  const params = new URLSearchParams(query);
  let authority = beforeQuery.replace(/\/+$/, '');
  let sasl: KafkaConnection['sasl'];
  const at = authority.lastIndexOf('@');
  if (at >= 0) {
    const userinfo = authority.slice(0, at);
    authority = authority.slice(at + 1);
    const colon = userinfo.indexOf(':');
    const username = decodeURIComponent(colon >= 0 ? userinfo.slice(0, colon) : userinfo);
    const password = decodeURIComponent(colon >= 0 ? userinfo.slice(colon + 1) : '');
    const mechanism = (params.get('sasl') ?? 'plain').toLowerCase();
    if (!MECHANISMS.has(mechanism)) fail(`unknown sasl mechanism "${mechanism}"`);
    sasl = {
      mechanism: mechanism as NonNullable<KafkaConnection['sasl']>['mechanism'],
      username,
      password,
    };
  }
  const brokers = authority
    .split(',')
    .map((b) => b.trim())
    .filter((b) => b.length > 0)
    .map((b) => {
      const m = /^(\[[0-9a-f:.]+\]|[^:\s/[\]]+)(?::(\d{1,5}))?$/i.exec(b);
      if (!m) return fail(`bad broker "${b}"`);
      return `${m[1]}:${m[2] ?? '9092'}`;
    });
  if (brokers.length === 0) fail('no broker');
  const ssl = scheme !== 'kafka' || params.get('ssl') === 'true';
  const credentials = sasl ? `${encodeURIComponent(sasl.username)}:***@` : '';
  return {
    brokers,
    ssl,
    ...(sasl ? { sasl } : {}),
    display: `${ssl ? 'kafkas' : 'kafka'}://${credentials}${brokers.join(',')}`,
  };
}

/** The URL with any password replaced by `***` (safe to log). */
export function maskKafkaUrl(url: string): string {
  return url.replace(/(\/\/[^:/@,]*:)[^@]*@/, '$1***@').replace(/^([^/]*:)[^@/]*@/, '$1***@');
}

/**
 * A legal topic name (`[a-zA-Z0-9._-]`, at most 249 characters) from its parts joined by `.`.
 * A name that had to change gets a short hash of the original, so two types that differ only in
 * illegal characters never share a topic.
 */
export function topicName(...parts: string[]): string {
  const raw = parts.join('.');
  const safe = raw.replace(/[^a-zA-Z0-9._-]/g, '_');
  if (safe === raw && raw.length <= 249) return raw;
  const hash = createHash('sha256').update(raw).digest('hex').slice(0, 8);
  return `${safe.slice(0, 240)}-${hash}`;
}

/**
 * Kafka's murmur2 (the Java client's `Utils.murmur2`): with {@link javaPartition} it puts a key on
 * the partition Java and librdkafka (`murmur2_random`) producers put it on.
 */
export function murmur2(data: Buffer): number {
  const length = data.length;
  const m = 0x5bd1e995;
  let h = (0x9747b28c ^ length) | 0;
  const whole = length & ~3;
  for (let i = 0; i < whole; i += 4) {
    let k = data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = Math.imul(h, m) ^ k;
  }
  const tail = length & 3;
  if (tail >= 3) h ^= data[whole + 2]! << 16;
  if (tail >= 2) h ^= data[whole + 1]! << 8;
  if (tail >= 1) {
    h ^= data[whole]!;
    h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

/** The Java client's partition of a keyed record: `toPositive(murmur2(key)) % partitions`. */
export function javaPartition(key: Buffer, partitions: number): number {
  return (murmur2(key) & 0x7fffffff) % partitions;
}

/** Headers the transport adds for itself; never handed to handlers or listed with dead letters. */
export const HEADER = {
  /** Retry topic: the event type (the retry topic carries every type of one group). */
  type: 'x-kafka-type',
  /** Retry topic: the attempt number of the next delivery. */
  attempt: 'x-kafka-attempt',
  /** Retry topic: epoch milliseconds before which the record must not be handled. */
  dueAt: 'x-kafka-due-at',
  /** Dead-letter topic: type and group of the letter. */
  letterType: 'x-kafka-dl-type',
  letterGroup: 'x-kafka-dl-group',
} as const;

const INTERNAL_PREFIX = 'x-kafka-';

/**
 * Header values as strings (the last of repeated names), internal ones dropped. The client hands
 * headers over as a Map of Buffers (its default no-op deserialisers).
 */
export function decodeHeaders(headers: Iterable<[Buffer | string, Buffer | string]> | undefined): {
  visible: Record<string, string>;
  internal: Record<string, string>;
} {
  const visible: Record<string, string> = {};
  const internal: Record<string, string> = {};
  for (const [rawName, raw] of headers ?? []) {
    const name = typeof rawName === 'string' ? rawName : rawName.toString('utf8');
    const text = typeof raw === 'string' ? raw : raw.toString('utf8');
    if (name.startsWith(INTERNAL_PREFIX)) internal[name] = text;
    else visible[name] = text;
  }
  return { visible, internal };
}

/** Headers as the client sends them (Buffers, UTF-8). */
export function encodeHeaders(headers: Record<string, string>): Map<Buffer, Buffer> {
  const out = new Map<Buffer, Buffer>();
  for (const [name, value] of Object.entries(headers)) {
    out.set(Buffer.from(name, 'utf8'), Buffer.from(value, 'utf8'));
  }
  return out;
}
