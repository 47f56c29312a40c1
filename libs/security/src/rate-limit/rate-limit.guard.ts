import { hash } from 'node:crypto';
import { Inject, Injectable, Optional, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import {
  InjectThrottlerOptions,
  InjectThrottlerStorage,
  ThrottlerGuard,
  type ThrottlerLimitDetail,
  type ThrottlerModuleOptions,
  type ThrottlerStorage,
} from '@nestjs/throttler';
import { AuditActions } from '../audit/audit-actions.js';
import { SECURITY_AUDIT, type AuthAudit } from '../http/auth.guard.js';
import type { Principal } from '../http/principal.js';
import { clientIp, DEFAULT_IPV6_PREFIX, rateLimitBucket } from './client-ip.js';

export const RATE_LIMIT_TRUSTED_PROXIES = 'SECURITY:TRUSTED_PROXIES';

/**
 * @nestjs/throttler's guard with what a shared API needs: limits per user (the authenticated
 * principal), per API key, else per client IP (behind `trustedProxies` proxies only; every
 * spelling of one IPv4 address is one client, IPv6 clients are grouped by their
 * `rateLimit.ipv6Prefix` network, /64 by default), and the
 * IETF `RateLimit-Limit` / `RateLimit-Remaining` / `RateLimit-Reset` headers plus `Retry-After`
 * on 429. Runs after the AuthGuard. `@Throttle({ default: { limit, ttl } })` and
 * `@SkipThrottle()` work as usual.
 */
@Injectable()
export class RateLimitGuard extends ThrottlerGuard {
  constructor(
    @InjectThrottlerOptions() options: ThrottlerModuleOptions,
    @InjectThrottlerStorage() storage: ThrottlerStorage,
    reflector: Reflector,
    @Inject(RATE_LIMIT_TRUSTED_PROXIES) private readonly trustedProxies: number,
    @Optional()
    @Inject('SECURITY:OPTIONS')
    private readonly security?: { rateLimit?: false | { ipv6Prefix?: number } },
    @Optional() @Inject(SECURITY_AUDIT) private readonly audit?: AuthAudit,
  ) {
    super(options, storage, reflector);
    const prefix = security?.rateLimit ? security.rateLimit.ipv6Prefix : undefined;
    if (prefix !== undefined && !(Number.isInteger(prefix) && prefix >= 1 && prefix <= 128)) {
      throw new RangeError(
        `SecurityModule: options.rateLimit.ipv6Prefix must be an integer 1-128, got ${String(prefix)}`,
      );
    }
    this.ipv6Prefix = prefix ?? DEFAULT_IPV6_PREFIX;
  }

  private readonly ipv6Prefix: number;

  override async onModuleInit(): Promise<void> {
    await super.onModuleInit();
    this.headerPrefix = 'RateLimit';
  }

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http' || this.security?.rateLimit === false) return true;
    return super.canActivate(context);
  }

  /** A rejection is audited (`http.rate_limited`, denied) before the 429 leaves. */
  protected override async throwThrottlingException(
    context: ExecutionContext,
    detail: ThrottlerLimitDetail,
  ): Promise<void> {
    const request = context
      .switchToHttp()
      .getRequest<{ method?: string; originalUrl?: string; url?: string }>();
    const path = (request.originalUrl ?? request.url ?? '/').split('?')[0];
    void this.audit
      ?.record({
        action: AuditActions.rateLimited,
        actor: detail.tracker,
        target: `${request.method ?? 'GET'} ${path}`,
        outcome: 'denied',
        metadata: { limit: detail.limit, ttlMs: detail.ttl, hits: detail.totalHits },
      })
      .catch(() => undefined);
    return super.throwThrottlingException(context, detail);
  }

  /**
   * @nestjs/throttler's key, unchanged (SHA-256 hex of `<Class>-<handler>-<throttler>-<tracker>`:
   * the same counters in Redis across versions), with a one-shot `crypto.hash` instead of a Hash
   * object per request.
   */
  protected override generateKey(context: ExecutionContext, suffix: string, name: string): string {
    const prefix = `${context.getClass().name}-${context.getHandler().name}-${name}`;
    return hash('sha256', `${prefix}-${suffix}`, 'hex');
  }

  protected override async getTracker(req: Record<string, unknown>): Promise<string> {
    const principal = req.principal as Principal | undefined;
    if (principal) return `${principal.kind}:${principal.subject}`;
    return `ip:${rateLimitBucket(clientIp(req as never, this.trustedProxies), this.ipv6Prefix)}`;
  }
}
