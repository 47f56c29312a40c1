import type { ErrorTraits } from '@infrastructure/core';

/**
 * Base of the order domain's errors. They carry core's `ErrorTraits` as plain fields — the HTTP
 * status and a message safe to show — so the domain needs neither Nest nor HTTP: the monitoring
 * lib's problem filter answers them as `application/problem+json` with that status and `detail`.
 */
export abstract class OrderError extends Error implements ErrorTraits {
  abstract readonly httpStatus: number;
  readonly publicMessage: string;
  /** Not the dependency's fault: never counted by a circuit breaker, never worth a retry. */
  readonly countsAsFailure = false;
  readonly retryable = false;

  constructor(message: string) {
    super(message);
    this.publicMessage = message;
  }
}

/** No order has this id (404). */
export class OrderNotFoundError extends OrderError {
  override readonly name = 'OrderNotFoundError';
  readonly httpStatus = 404;
  constructor(readonly orderId: string) {
    super(`Order ${orderId} does not exist`);
  }
}

/** `place` on an order that exists already (409). */
export class OrderAlreadyPlacedError extends OrderError {
  override readonly name = 'OrderAlreadyPlacedError';
  readonly httpStatus = 409;
  constructor(readonly orderId: string) {
    super(`Order ${orderId} exists already`);
  }
}

/** `cancel` on an order that is cancelled already (409). */
export class OrderAlreadyCancelledError extends OrderError {
  override readonly name = 'OrderAlreadyCancelledError';
  readonly httpStatus = 409;
  constructor(readonly orderId: string) {
    super(`Order ${orderId} is cancelled already`);
  }
}

/**
 * An order line the domain refuses (422): a quantity that is not a positive integer, a negative or
 * fractional unit price, or a total beyond what cents can exactly represent. The HTTP DTO refuses
 * most of these first (400); this guards every other caller (a message handler, a script).
 */
export class InvalidOrderLineError extends OrderError {
  override readonly name = 'InvalidOrderLineError';
  readonly httpStatus = 422;
}
