import { Clock } from '../application/ports/clock.js';

/** The `Clock` port on the system time. */
export class SystemClock extends Clock {
  now(): Date {
    return new Date();
  }
}
