import { applyDecorators, SetMetadata, UseGuards } from '@nestjs/common';
import { WebhookSignatureGuard } from './webhook-signature.guard.js';
import { WEBHOOK_ENDPOINT } from './webhooks.constants.js';

/** Options of {@link WebhookEndpoint}. */
export interface WebhookEndpointOptions {
  /**
   * Name of the receiver under `options.receivers` whose secret(s) and tolerance apply.
   * @default 'default' (the module's `secret`, WEBHOOK_SECRET)
   */
  receiver?: string;
  /** Refuse a webhook id seen before (replay store). @default true (unless `options.replay` is false) */
  replay?: boolean;
}

/**
 * Marks a route (or every route of a controller) as a Standard Webhooks receiver: applies
 * {@link WebhookSignatureGuard}, which checks the signature over the raw body, the timestamp
 * and replays before the handler runs. Needs the app created with `{ rawBody: true }`.
 *
 * @example
 * @Post('payments')
 * @WebhookEndpoint({ receiver: 'payments' })
 * @HttpCode(204)
 * onPayment(@Body() event: PaymentEvent, @Headers('webhook-id') id: string) { ... }
 */
export function WebhookEndpoint(
  options: WebhookEndpointOptions = {},
): MethodDecorator & ClassDecorator {
  return applyDecorators(SetMetadata(WEBHOOK_ENDPOINT, options), UseGuards(WebhookSignatureGuard));
}
