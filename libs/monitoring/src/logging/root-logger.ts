import { pino, type DestinationStream, type Level, type Logger } from 'pino';
import { currentContext } from '../context/request-context.js';
import { DEFAULT_SECRET_KEY, redactDeep, serializeError } from './redact.js';

/**
 * Where log lines go. One per process: every logger writes through it, so the destination can be
 * chosen at boot (stdout, a file, pretty output, a test's capture) after loggers were created.
 */
class SwitchableDestination implements DestinationStream {
  // Buffered (4 KiB) asynchronous stdout: a write syscall per 4 KiB instead of per line. A timer
  // flushes idle buffers every 500 ms and shutdown flushes synchronously, so lines are not held.
  target: DestinationStream = pino.destination({ dest: 1, sync: false, minLength: 4096 });
  private readonly timer = setInterval(() => this.flush(), 500).unref();

  private flush(): void {
    const t = this.target as { flush?: (cb?: () => void) => void };
    try {
      t.flush?.(() => undefined);
    } catch {
      // not ready yet (still opening): nothing buffered
    }
  }

  write(line: string): void {
    this.target.write(line);
  }

  /** Flushes buffered lines (before process.exit). */
  flushSync(): void {
    const t = this.target as { flushSync?: () => void };
    try {
      t.flushSync?.();
    } catch {
      // not yet ready (sonic-boom still opening): nothing written, nothing to flush
    }
  }
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
    timestamp: pino.stdTimeFunctions.isoTime,
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
