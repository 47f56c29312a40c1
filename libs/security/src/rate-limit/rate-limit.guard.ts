import { Inject, Injectable, Optional, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import {
  InjectThrottlerOptions,
  InjectThrottlerStorage,
  ThrottlerGuard,
  type ThrottlerModuleOptions,
  type ThrottlerStorage,
} from '@nestjs/throttler';
import type { Principal } from '../http/principal.js';
import { clientIp } from './client-ip.js';

export const RATE_LIMIT_TRUSTED_PROXIES = 'SECURITY:TRUSTED_PROXIES';

/**
 * @nestjs/throttler's guard with what a shared API needs: limits per user (the authenticated
 * principal), per API key, else per client IP (behind `trustedProxies` proxies only), and the
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
    @Optional() @Inject('SECURITY:OPTIONS') private readonly security?: { rateLimit?: unknown },
  ) {
    super(options, storage, reflector);
  }

  override async onModuleInit(): Promise<void> {
    await super.onModuleInit();
    this.headerPrefix = 'RateLimit';
  }

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http' || this.security?.rateLimit === false) return true;
    return super.canActivate(context);
  }

  protected override async getTracker(req: Record<string, unknown>): Promise<string> {
    const principal = req.principal as Principal | undefined;
    if (principal) return `${principal.kind}:${principal.subject}`;
    return `ip:${clientIp(req as never, this.trustedProxies)}`;
  }
}
