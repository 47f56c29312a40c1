import type { LoggerService } from '@nestjs/common';
import { getLogger } from './root-logger.js';

type Level = 'info' | 'error' | 'warn' | 'debug' | 'trace' | 'fatal';

/**
 * A Nest `LoggerService` over the root pino logger, usable before the app exists:
 * `NestFactory.create(AppModule, { bufferLogs: true, logger: new JsonNestLogger() })`. Nest's own
 * lines at boot, including those it flushes when the app fails to start, are then JSON like every
 * other line, instead of Nest's coloured text. `setupMonitoring` swaps in the DI-aware logger.
 */
export class JsonNestLogger implements LoggerService {
  log(message: unknown, ...rest: unknown[]): void {
    this.write('info', message, rest);
  }
  error(message: unknown, ...rest: unknown[]): void {
    this.write('error', message, rest);
  }
  warn(message: unknown, ...rest: unknown[]): void {
    this.write('warn', message, rest);
  }
  debug(message: unknown, ...rest: unknown[]): void {
    this.write('debug', message, rest);
  }
  verbose(message: unknown, ...rest: unknown[]): void {
    this.write('trace', message, rest);
  }
  fatal(message: unknown, ...rest: unknown[]): void {
    this.write('fatal', message, rest);
  }

  /** Nest passes `(message, context)` or, for errors, `(message, stack, context)`. */
  private write(level: Level, message: unknown, rest: unknown[]): void {
    const strings = rest.filter((r): r is string => typeof r === 'string');
    const context = strings.length > 0 ? strings.at(-1)! : 'Nest';
    const stack = level === 'error' || level === 'fatal' ? strings.at(-2) : undefined;
    const log = getLogger(context);
    if (message instanceof Error) log[level]({ err: message }, message.message);
    else if (typeof message === 'object' && message !== null) log[level](message);
    else log[level](stack ? { stack } : {}, String(message));
  }
}
