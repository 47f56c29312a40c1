/** Thrown by {@link withTimeout} when the deadline passes first. */
export class TimeoutError extends Error {
  override readonly name = 'TimeoutError';
}

/**
 * `promise`, or a rejection with `TimeoutError(message)` once `ms` have passed, whichever comes
 * first; the timer never outlives the race. The libs bound every call to a dependency with it
 * (broker pings, Redis commands, health checks), so a hung server never hangs a request.
 * `message` may be a function (built only on timeout).
 */
export function withTimeout<T>(
  promise: Promise<T>,
  ms: number,
  message: string | (() => string),
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new TimeoutError(typeof message === 'function' ? message() : message)),
      ms,
    );
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}
