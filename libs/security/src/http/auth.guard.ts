import {
  Inject,
  Injectable,
  Optional,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Counter } from 'prom-client';
import { RouteMemo, PUBLIC_ROUTE } from '@infrastructure/core';
import {
  counterSeries,
  getLogger,
  MetricsService,
  RequestContext,
  type CounterSeries,
} from '@infrastructure/monitoring';
import { AuditActions } from '../audit/audit-actions.js';
import { ApiKeys } from './api-keys.js';
import { AccessDeniedError, AuthenticationError } from './auth-errors.js';
import { REQUIRED_ROLES, REQUIRED_SCOPES } from './decorators.js';
import type { Principal, TokenVerifier } from './principal.js';

export const TOKEN_VERIFIERS = 'SECURITY:TOKEN_VERIFIERS';
const SECURITY_OPTIONS = 'SECURITY:OPTIONS';
export const SECURITY_AUDIT = 'SECURITY:AUDIT';

/** What the guard needs of an audit logger (the security lib's `AuditLogger` fits). */
export interface AuthAudit {
  record(entry: {
    action: string;
    actor?: string;
    target?: string;
    outcome: 'success' | 'failure' | 'denied';
    metadata?: Record<string, unknown>;
  }): Promise<unknown>;
}

interface HttpRequest {
  headers: Record<string, string | string[] | undefined>;
  url?: string;
  originalUrl?: string;
  method?: string;
  query?: Record<string, unknown>;
  principal?: Principal;
}

/** What a route's decorators ask of the caller: read once per controller class and handler. */
interface RoutePolicy {
  isPublic: boolean;
  scopes: string[];
  roles: string[];
}

const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;
const MAX_AUTHORIZATION_LENGTH = 16 * 1024;

/**
 * The global guard: every HTTP route needs a valid bearer token (or API key in `x-api-key`)
 * unless it is `@Public()` (then credentials are not looked at). 401 with an RFC 6750
 * `WWW-Authenticate` challenge when credentials are missing or do not verify;
 * 403 when `@Scopes()` (all needed) or `@Roles()` (one needed) are not met. The principal goes to
 * `request.principal` (`@CurrentUser()`) and its id/tenant into the logging/trace context.
 * Tokens in the query string are refused (they leak into logs and caches).
 */
@Injectable()
export class AuthGuard implements CanActivate {
  private readonly log = getLogger('AuthGuard');
  private readonly results?: Counter<'result' | 'method'>;
  /** `auth_requests_total{result="allowed"}` by method: no label hashing per allowed request. */
  private readonly allowed = new Map<string, CounterSeries>();
  /** Route policies, read once per class and handler (not six metadata lookups per request). */
  private readonly policies = new RouteMemo<RoutePolicy>((classRef, handler) => {
    const targets = [handler, classRef] as Parameters<Reflector['getAllAndOverride']>[1];
    return {
      isPublic: this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, targets) ?? false,
      scopes: this.reflector.getAllAndMerge<string[]>(REQUIRED_SCOPES, targets) ?? [],
      roles: this.reflector.getAllAndOverride<string[]>(REQUIRED_ROLES, targets) ?? [],
    };
  });

  constructor(
    private readonly reflector: Reflector,
    @Inject(TOKEN_VERIFIERS) private readonly verifiers: TokenVerifier[],
    private readonly apiKeys: ApiKeys,
    private readonly context: RequestContext,
    @Optional() @Inject(SECURITY_AUDIT) private readonly audit?: AuthAudit,
    @Optional() metrics?: MetricsService,
    @Optional() @Inject(SECURITY_OPTIONS) private readonly options?: { authGuard?: boolean },
  ) {
    this.results = metrics?.counter({
      name: 'auth_requests_total',
      help: 'Authentication decisions of the AuthGuard.',
      labelNames: ['result', 'method'],
    });
  }

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    if (ctx.getType() !== 'http' || this.options?.authGuard === false) return true;
    const request = ctx.switchToHttp().getRequest<HttpRequest>();
    const policy = this.policies.get(ctx.getClass(), ctx.getHandler());
    if (policy.isPublic) return true;
    try {
      const principal = await this.authenticate(request);
      request.principal = principal;
      this.context.set({
        userId: principal.subject,
        ...(principal.tenant ? { tenantId: principal.tenant } : {}),
      });
      this.authorize(principal, policy);
      if (this.results) {
        let series = this.allowed.get(principal.kind);
        if (!series) {
          series = counterSeries(this.results, { result: 'allowed', method: principal.kind });
          this.allowed.set(principal.kind, series);
        }
        series.inc();
      }
      return true;
    } catch (error) {
      if (error instanceof AuthenticationError || error instanceof AccessDeniedError) {
        const route = `${request.method ?? 'GET'} ${pathOf(request)}`;
        const denied = error instanceof AccessDeniedError;
        this.results?.inc({ result: denied ? 'forbidden' : 'unauthenticated', method: 'any' });
        this.log.info(
          { route, reason: error.reason, subject: request.principal?.subject },
          denied ? 'access denied' : 'authentication failed',
        );
        void this.audit
          ?.record({
            action: denied ? AuditActions.permissionDenied : AuditActions.authenticationFailed,
            actor: request.principal?.subject ?? 'anonymous',
            target: route,
            outcome: denied ? 'denied' : 'failure',
            metadata: { reason: error.reason },
          })
          .catch(() => undefined);
      }
      throw error;
    }
  }

  private async authenticate(request: HttpRequest): Promise<Principal> {
    const query = request.query ?? {};
    if (
      'access_token' in query ||
      /[?&]access_token=/.test(request.originalUrl ?? request.url ?? '')
    ) {
      throw new AuthenticationError('token in the query string', {
        code: 'invalid_request',
        publicMessage: 'Send the access token in the Authorization header, not in the URL.',
      });
    }
    const authorization = single(request.headers.authorization);
    const apiKey = single(request.headers['x-api-key']);
    if (authorization === undefined && apiKey === undefined) {
      throw new AuthenticationError('no credentials');
    }
    if (authorization !== undefined) {
      if (authorization.length > MAX_AUTHORIZATION_LENGTH) {
        throw new AuthenticationError('authorization header too large', {
          code: 'invalid_request',
        });
      }
      const match = BEARER.exec(authorization);
      if (!match) {
        throw new AuthenticationError('not a Bearer authorization header', {
          code: 'invalid_request',
        });
      }
      return this.verifyBearer(match[1]!);
    }
    if (this.apiKeys.size === 0) throw new AuthenticationError('API keys are not enabled');
    const principal = this.apiKeys.authenticate(apiKey!);
    if (!principal) throw new AuthenticationError('unknown API key');
    return principal;
  }

  private async verifyBearer(token: string): Promise<Principal> {
    const verifier = this.verifiers.find((v) => v.accepts(token));
    if (!verifier)
      throw new AuthenticationError('no verifier accepts the token', { code: 'invalid_token' });
    try {
      return await verifier.verify(token);
    } catch (error) {
      if (error instanceof AuthenticationError) throw error;
      const reason = error instanceof Error ? error.message : String(error);
      // A verifier's own typed errors (httpStatus 401) and anything unexpected: 401, never 500.
      throw new AuthenticationError(`${verifier.name}: ${reason}`, { code: 'invalid_token' });
    }
  }

  private authorize(principal: Principal, { scopes, roles }: RoutePolicy) {
    const missing = scopes.filter((s) => !principal.scopes.includes(s));
    if (missing.length > 0) {
      throw new AccessDeniedError(`missing scopes: ${missing.join(' ')}`, {
        requiredScopes: scopes,
      });
    }
    if (roles.length > 0 && !roles.some((r) => principal.roles.includes(r))) {
      throw new AccessDeniedError(`needs one of the roles: ${roles.join(', ')}`);
    }
  }
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function pathOf(request: HttpRequest): string {
  return (request.originalUrl ?? request.url ?? '/').split('?')[0] ?? '/';
}
