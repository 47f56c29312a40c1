import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import {
  Inject,
  Injectable,
  Optional,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { getLogger } from '@infrastructure/monitoring';
import {
  WebhookRawBodyMissingError,
  WebhooksConfigError,
  WebhookVerificationError,
} from './errors.js';
import type { WebhookEndpointOptions } from './webhook-endpoint.decorator.js';
import { WebhookReplayStore } from './webhook-replay.store.js';
import { verifyWebhook } from './webhook-signature.js';
import { WEBHOOK_ENDPOINT, WEBHOOKS_OPTIONS } from './webhooks.constants.js';
import { WebhookMetrics } from './webhooks.metrics.js';
import type { ResolvedWebhooksOptions } from './webhooks.options.js';

interface RawRequest {
  headers: IncomingHttpHeaders;
  rawBody?: Buffer;
}

/** Content types Nest's body parsers read (and keep raw with `rawBody: true`) on both adapters. */
const PARSED_BODY = /^(application\/([\w.+-]+\+)?json|application\/x-www-form-urlencoded)\b/i;

function hasBody(headers: IncomingHttpHeaders): boolean {
  const length = headers['content-length'];
  return headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/**
 * Verifies incoming Standard Webhooks before the handler runs (apply it with
 * `@WebhookEndpoint()`): headers present, timestamp within the receiver's tolerance (both
 * directions), one `v1` signature over the **raw body** matching one of the receiver's secrets
 * (constant-time), and the id not seen before (replay store; released again when the handler
 * does not succeed, so the sender's retry is accepted). Refusals are 401 problem bodies with a
 * short reason (409 for an id already received); a missing `req.rawBody` (app created without `rawBody: true`) is a loud 500.
 */
@Injectable()
export class WebhookSignatureGuard implements CanActivate {
  private readonly log = getLogger('WebhookSignatureGuard');

  constructor(
    private readonly reflector: Reflector,
    @Inject(WEBHOOKS_OPTIONS) private readonly options: ResolvedWebhooksOptions,
    private readonly replayStore: WebhookReplayStore,
    @Optional() private readonly metrics?: WebhookMetrics,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const endpoint =
      this.reflector.getAllAndOverride<WebhookEndpointOptions | undefined>(WEBHOOK_ENDPOINT, [
        context.getHandler(),
        context.getClass(),
      ]) ?? {};
    const name = endpoint.receiver ?? 'default';
    const receiver = this.options.receivers[name];
    if (!receiver) throw new WebhooksConfigError(missingReceiver(name, this.options));
    const http = context.switchToHttp();
    const req = http.getRequest<RawRequest>();
    try {
      const verified = verifyWebhook({
        headers: req.headers,
        body: this.rawBodyOf(req),
        secrets: receiver.keys.keys,
        toleranceSeconds: receiver.toleranceSeconds,
      });
      if (this.options.replay !== false && endpoint.replay !== false) {
        const key = `${name}:${verified.id}`;
        if (!(await this.replayStore.claim(key, receiver.replayTtlSeconds))) {
          throw new WebhookVerificationError('replay');
        }
        this.releaseUnlessHandled(http.getResponse<unknown>(), key);
      }
      this.metrics?.recordReceived(name, 'accepted');
      return true;
    } catch (error) {
      if (error instanceof WebhookVerificationError) {
        this.metrics?.recordReceived(name, error.reason);
        this.log.debug({ receiver: name, reason: error.reason }, 'webhook refused');
      }
      throw error;
    }
  }

  private rawBodyOf(req: RawRequest): Buffer {
    if (Buffer.isBuffer(req.rawBody)) return req.rawBody;
    if (!hasBody(req.headers)) return Buffer.alloc(0);
    // Nest parsed this body but did not keep its bytes: the app lacks `rawBody: true`.
    if (PARSED_BODY.test(req.headers['content-type'] ?? '')) throw new WebhookRawBodyMissingError();
    throw new WebhookVerificationError('unsupported_body');
  }

  /**
   * Forgets the claimed id when the handler fails (status ≥ 400) or the connection drops before
   * the answer is complete: the sender retries with the same id, which must then be accepted.
   */
  private releaseUnlessHandled(response: unknown, key: string): void {
    const raw =
      (response as { raw?: ServerResponse } | undefined)?.raw ??
      (response as ServerResponse | undefined);
    if (typeof raw?.once !== 'function') return;
    raw.once('close', () => {
      if (raw.statusCode < 400 && raw.writableFinished) return;
      void this.replayStore.release(key).catch((error: unknown) => {
        this.log.warn({ err: error, receiver: key.split(':')[0] }, 'could not release webhook id');
      });
    });
  }
}

/** The boot/request error of a `@WebhookEndpoint` naming a receiver that is not configured. */
export function missingReceiver(name: string, options: ResolvedWebhooksOptions): string {
  const known = Object.keys(options.receivers).join(', ') || 'none';
  return name === 'default'
    ? `@WebhookEndpoint() verifies with the default secret, but WebhooksModule has none: set options.secret (WEBHOOK_SECRET) or options.receivers.default (configured receivers: ${known})`
    : `@WebhookEndpoint({ receiver: '${name}' }): no such receiver (configured: ${known}); add it under options.receivers`;
}
