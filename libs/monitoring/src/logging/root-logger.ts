import { pino, type DestinationStream, type Level, type Logger } from 'pino';
import { currentContext } from '../context/request-context.js';
import { DEFAULT_SECRET_KEY, redactDeep, serializeError } from './redact.js';

/** Lines are handed to the stdout stream in chunks of about this many characters. */
export const LOG_CHUNK_CHARS = 4096;

/**
 * Collects lines and hands them to `out` joined, once they add up to `chunkChars` characters (and
 * on {@link ChunkedLines.handOver}), in the order written.
 *
 * sonic-boom's own `minLength` buffering also writes many lines per syscall, but on every line it
 * appends to one growing string and measures that string's UTF-8 length again, work that grows
 * with the buffer: 4.1–4.6 µs a 354-byte line against 2.5–2.6 µs this way (`npm run
 * bench:log-write`, CPU of the process, threads included).
 */
export class ChunkedLines {
  private pending: string[] = [];
  private chars = 0;

  constructor(
    private readonly out: { write(chunk: string): unknown },
    private readonly chunkChars = LOG_CHUNK_CHARS,
  ) {}

  write(line: string): void {
    this.pending.push(line);
    this.chars += line.length;
    if (this.chars >= this.chunkChars) this.handOver();
  }

  /** Gives what is collected to `out` now, as one chunk. */
  handOver(): void {
    if (this.pending.length === 0) return;
    const chunk = this.pending.length === 1 ? this.pending[0]! : this.pending.join('');
    this.pending = [];
    this.chars = 0;
    this.out.write(chunk);
  }
}

/**
 * Where log lines go. One per process: every logger writes through it, so the destination can be
 * chosen at boot (stdout, a file, pretty output, a test's capture) after loggers were created.
 * Lines for stdout go out asynchronously about 4 KiB at a time ({@link ChunkedLines}); a timer
 * hands over idle lines every 500 ms and the process flushes synchronously on exit, so lines are
 * not held. Other destinations get each line as it is written.
 */
class SwitchableDestination implements DestinationStream {
  private readonly stdout = pino.destination({ dest: 1, sync: false, minLength: 0 });
  private readonly lines = new ChunkedLines(this.stdout);
  target: DestinationStream = this.stdout;
  private readonly timer = setInterval(() => this.flush(), 500).unref();

  write(line: string): void {
    if (this.target === this.stdout) this.lines.write(line);
    else this.target.write(line);
  }

  private flush(): void {
    this.lines.handOver();
    const t = this.target as { flush?: (cb?: () => void) => void };
    try {
      t.flush?.(() => undefined);
    } catch {
      // not ready yet (still opening): nothing buffered
    }
  }

  /** Writes buffered lines out now (before process.exit). */
  flushSync(): void {
    this.lines.handOver();
    for (const t of new Set([this.target, this.stdout]) as Set<{ flushSync?: () => void }>) {
      try {
        t.flushSync?.();
      } catch {
        // not yet ready (sonic-boom still opening): nothing written, nothing to flush
      }
    }
  }
}

let isoSecond = Number.NaN;
let isoPrefix = '';

/**
 * pino's `timestamp` as `,"time":"2026-12-04T02:30:36.849Z"`, the same text as
 * `pino.stdTimeFunctions.isoTime`. The date and time up to the second is formatted once a second
 * (`toISOString` costs ~0.6 µs a line here); only the milliseconds are added per line.
 */
export function isoTime(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== isoSecond) {
    isoSecond = second;
    isoPrefix = `,"time":"${new Date(second * 1000).toISOString().slice(0, -4)}`;
  }
  const ms = now - second * 1000;
  return `${isoPrefix}${ms < 10 ? '00' : ms < 100 ? '0' : ''}${ms}Z"`;
}

const destination = new SwitchableDestination();
// Whatever way the process ends (process.exit included), buffered lines are written first.
process.once('exit', () => destination.flushSync());
let secretKeys = DEFAULT_SECRET_KEY;
let serviceName: string | undefined;

/**
 * The process's root logger: JSON lines, each carrying the current correlation id, trace id,
 * span id, user and tenant, with secret-looking keys redacted at any depth.
 */
export const rootLogger: Logger = pino(
  {
    level: 'info',
    base: { pid: process.pid },
    timestamp: isoTime,
    messageKey: 'msg',
    // Read at each line (not bound at creation) so loggers made before boot get the settings too.
    mixin: () => {
      const fields = currentContext() as Record<string, unknown>;
      if (serviceName) fields.service = serviceName;
      return fields;
    },
    formatters: {
      level: (label) => ({ level: label }),
      log: (object) => redactDeep(object, secretKeys) as Record<string, unknown>,
    },
    serializers: { err: serializeError },
  },
  destination,
);

/** Settings applied to the root logger at boot. */
export interface RootLoggerSettings {
  level: Level | 'silent';
  destination?: DestinationStream;
  secretKeys?: RegExp;
  serviceName?: string;
}

/** Applies logging settings process-wide (level, destination, redaction, service name). */
export function configureRootLogger(settings: RootLoggerSettings): void {
  rootLogger.level = settings.level;
  if (settings.destination) destination.target = settings.destination;
  if (settings.secretKeys) secretKeys = settings.secretKeys;
  if (settings.serviceName) serviceName = settings.serviceName;
}

/** Flushes buffered log lines; call before `process.exit`. */
export function flushLogs(): void {
  destination.flushSync();
}

/**
 * A logger for code outside Nest DI (the `get_logger(__name__)` of other stacks):
 * `getLogger('Billing').info({ userId }, 'Invoice sent')`. Lines carry the request context.
 */
export function getLogger(context: string): Logger {
  return rootLogger.child({ context });
}
