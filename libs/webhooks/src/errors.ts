import { HttpException } from '@nestjs/common';
import { PoisonMessageError } from '@infrastructure/messaging';

/** Bad `WebhooksModule` options; the message names the key (`options.delivery.attemptTimeoutMs`), never a secret. */
export class WebhooksConfigError extends Error {
  override readonly name = 'WebhooksConfigError';
}

/** Why an incoming webhook was refused (what {@link WebhookVerificationError} carries). */
export type WebhookRejection =
  'missing_headers' | 'timestamp' | 'signature' | 'replay' | 'unsupported_body';

/** The short public reason of each rejection: no more than that leaves the process. */
const PUBLIC_REASON: Record<WebhookRejection, string> = {
  missing_headers: 'Missing or malformed webhook headers',
  timestamp: 'Webhook timestamp outside the accepted window',
  signature: 'Invalid webhook signature',
  replay: 'Webhook already received',
  unsupported_body: 'Webhook body must be JSON or form data',
};

const STATUS: Record<WebhookRejection, number> = {
  missing_headers: 401,
  timestamp: 401,
  signature: 401,
  replay: 409,
  unsupported_body: 415,
};
const TITLE: Record<number, string> = {
  401: 'Unauthorized',
  409: 'Conflict',
  415: 'Unsupported Media Type',
};

/**
 * An incoming webhook failed verification: 401 with a problem body naming a short `reason`;
 * 409 for an id already received (a replay, or the sender retrying a delivery whose answer it
 * missed: our `WebhookDispatcher` counts a 409 as delivered); 415 for a body the guard cannot
 * read raw. An `HttpException`, so the status holds with or without the monitoring lib's problem
 * filter (which also honours `httpStatus` / `publicMessage`).
 */
export class WebhookVerificationError extends HttpException {
  override readonly name = 'WebhookVerificationError';
  readonly httpStatus: number;
  readonly publicMessage: string;

  constructor(readonly reason: WebhookRejection) {
    const status = STATUS[reason];
    const detail = PUBLIC_REASON[reason];
    super(
      {
        type: 'about:blank',
        title: TITLE[status]!,
        status,
        detail,
      },
      status,
    );
    this.httpStatus = status;
    this.publicMessage = detail;
    this.message = detail;
  }
}

/**
 * The replay store did not answer (Redis down or slow): the webhook is refused with 503 so the
 * sender retries later, instead of being accepted unchecked or failing with a 500.
 */
export class WebhookReplayStoreUnavailableError extends HttpException {
  override readonly name = 'WebhookReplayStoreUnavailableError';
  readonly httpStatus = 503;
  readonly publicMessage = 'Webhook verification temporarily unavailable';

  constructor(options?: { cause?: unknown }) {
    super(
      {
        type: 'about:blank',
        title: 'Service Unavailable',
        status: 503,
        detail: 'Webhook verification temporarily unavailable',
      },
      503,
      options,
    );
    this.message = 'Webhook replay store unavailable; webhook refused with 503';
  }
}

/**
 * `WebhookSignatureGuard` found no `req.rawBody`: the app was created without `rawBody: true`,
 * so the exact bytes the signature covers are gone (a re-serialised `req.body` differs). A server
 * misconfiguration: answers 500 and is logged; fix it in `main.ts`.
 */
export class WebhookRawBodyMissingError extends Error {
  override readonly name = 'WebhookRawBodyMissingError';
  readonly httpStatus = 500;

  constructor() {
    super(
      'WebhookSignatureGuard: req.rawBody is missing, so the signature cannot be checked. ' +
        'Create the app with NestFactory.create(AppModule, { rawBody: true }) ' +
        '(or createNestApplication(adapter, { rawBody: true }) in tests).',
    );
  }
}

/** What delivery errors carry: the webhook and where it went (origin only: paths may hold tokens). */
export interface WebhookDeliveryInfo {
  webhookId: string;
  eventType: string;
  /** `https://host:port` of the target; the path is left out on purpose. */
  origin: string;
}

/**
 * One delivery attempt failed in a way a retry may fix (5xx, 408, 429, timeout, network error,
 * open breaker): the messaging retry policy redelivers it with backoff, then dead-letters it.
 */
export class WebhookDeliveryError extends Error {
  override readonly name = 'WebhookDeliveryError';
  readonly retryable = true;
  readonly webhookId: string;
  readonly eventType: string;
  readonly origin: string;

  constructor(
    info: WebhookDeliveryInfo,
    /** The receiver's status, when it answered. */
    readonly status: number | undefined,
    /** What went wrong without an answer (`ECONNREFUSED`, `attempt timeout`, `circuit open`). */
    readonly problem?: string,
    /** The receiver's `Retry-After` (429, 503): the messaging pipeline waits at least this long. */
    readonly retryAfterMs?: number,
  ) {
    super(
      `webhook ${info.webhookId} (${info.eventType}) to ${info.origin} failed: ${status === undefined ? (problem ?? 'no answer') : `answered ${status}`}; will be retried`,
    );
    this.webhookId = info.webhookId;
    this.eventType = info.eventType;
    this.origin = info.origin;
  }
}

/**
 * The receiver refused the webhook for good (a 4xx other than 408/429, or a redirect): it is
 * dead-lettered at once, without retries (a `PoisonMessageError` for the messaging pipeline).
 * Replay it from the dead letters once the receiver is fixed.
 */
export class WebhookRejectedError extends PoisonMessageError {
  readonly retryable = false;
  readonly webhookId: string;
  readonly eventType: string;
  readonly origin: string;

  constructor(
    info: WebhookDeliveryInfo,
    /** The receiver's answer; undefined when the webhook was not sent (`reason`). */
    readonly status: number | undefined,
    reason?: string,
  ) {
    super(
      `webhook ${info.webhookId} (${info.eventType}) to ${info.origin} ${status === undefined ? `was not sent: ${reason}` : `was refused with ${status}`}; not retried (dead-lettered)`,
    );
    // PoisonMessageError fixes `name` as a literal type; the dead letter's x-exception-type says ours.
    Object.defineProperty(this, 'name', { value: 'WebhookRejectedError', enumerable: false });
    this.webhookId = info.webhookId;
    this.eventType = info.eventType;
    this.origin = info.origin;
  }
}
