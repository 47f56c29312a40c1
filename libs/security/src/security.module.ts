import {
  ConfigurableModuleBuilder,
  Controller,
  Get,
  Inject,
  Module,
  Optional,
  NotFoundException,
  type DynamicModule,
  type Provider,
} from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { getDataSourceToken } from '@nestjs/typeorm';
import { getOptionsToken, getStorageToken, SkipThrottle } from '@nestjs/throttler';
import { decodeJwt } from 'jose';
import type { DataSource } from 'typeorm';
import { extendModule, maskUrlPassword } from '@infrastructure/core';
import {
  createRedisClient,
  firstRedisConnection,
  watchRedisConnection,
} from '@infrastructure/core/redis';
import { UnitOfWork } from '@infrastructure/persistence';
import { getLogger, MetricsService } from '@infrastructure/monitoring';
import { AuditActions } from './audit/audit-actions.js';
import { AuditLogger } from './audit/audit-logger.js';
import { Encryptor } from './crypto/encryptor.js';
import { PasswordHasher } from './crypto/password-hasher.js';
import { ApiKeys } from './http/api-keys.js';
import { AuthGuard, SECURITY_AUDIT, TOKEN_VERIFIERS } from './http/auth.guard.js';
import { Public } from './http/decorators.js';
import type { Principal, TokenVerifier } from './http/principal.js';
import { JwtKeyring } from './jwt/jwt-keyring.js';
import { JwtManager } from './jwt/jwt.manager.js';
import { MemoryRevocationStore } from './jwt/stores/memory-revocation.store.js';
import { RedisRevocationStore } from './jwt/stores/redis-revocation.store.js';
import type { VerifiedToken } from './jwt/token-checks.js';
import { OidcVerifier } from './oidc/oidc-verifier.js';
import { RateLimitGuard, RATE_LIMIT_TRUSTED_PROXIES } from './rate-limit/rate-limit.guard.js';
import { MemoryThrottlerStorage } from './rate-limit/memory-throttler.storage.js';
import { RedisThrottlerStorage } from './rate-limit/redis-throttler.storage.js';
import { createSecretsProvider } from './secrets/composite-secrets.provider.js';
import { ANY_SECRET, SecretsProvider } from './secrets/secrets-provider.js';
import { SECURITY_OPTIONS, type SecurityOptions } from './security.options.js';

export const {
  ConfigurableModuleClass,
  MODULE_OPTIONS_TOKEN: SECURITY_MODULE_OPTIONS,
  OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<SecurityOptions>({ moduleName: 'Security' })
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createSecurityOptions')
  .setExtras<{ isGlobal?: boolean }>({ isGlobal: true }, (def, extras) => ({
    ...def,
    global: extras.isGlobal,
  }))
  .build();

const REDIS = 'SECURITY:REDIS';

function toPrincipal(token: VerifiedToken): Principal {
  return {
    subject: token.sub,
    kind: token.clientId && token.clientId === token.sub ? 'client' : 'user',
    scopes: token.scopes,
    roles: token.roles,
    ...(token.tenant ? { tenant: token.tenant } : {}),
    claims: token.claims,
  };
}

/** Routes a token to the verifier of its issuer (read unverified; the verifier then checks it all). */
function issuerOf(token: string): string | undefined {
  try {
    return decodeJwt(token).iss;
  } catch {
    return undefined;
  }
}

function verifiersFrom(
  options: SecurityOptions,
  jwt: JwtManager | undefined,
  oidc: OidcVerifier | undefined,
): TokenVerifier[] {
  const list: TokenVerifier[] = [];
  const only = [jwt, oidc].filter(Boolean).length === 1;
  if (jwt && options.jwt) {
    const issuer = options.jwt.issuer;
    list.push({
      name: 'local-jwt',
      accepts: (token) => only || issuerOf(token) === issuer,
      verify: async (token) => toPrincipal(await jwt.verify(token)),
    });
  }
  if (oidc && options.oidc) {
    const issuer = options.oidc.issuer.replace(/\/$/, '');
    list.push({
      name: 'oidc',
      accepts: (token) => only || issuerOf(token)?.replace(/\/$/, '') === issuer,
      verify: async (token) => toPrincipal(await oidc.verify(token)),
    });
  }
  return [...list, ...(options.verifiers ?? [])];
}

/** `GET /.well-known/jwks.json`: the public keys of the local keyring (none for HS*). */
@Public()
@SkipThrottle()
@Controller('.well-known')
class JwksController {
  constructor(@Optional() @Inject(JwtManager) private readonly jwt?: JwtManager) {}

  @Get('jwks.json')
  jwks(): { keys: unknown[] } {
    if (!this.jwt) throw new NotFoundException('This service issues no tokens');
    const jwks = this.jwt.keyring.jwks();
    if (jwks.keys.length === 0) throw new NotFoundException('No public keys (symmetric signing)');
    return jwks;
  }
}

const optional = (token: unknown) => ({ token: token as string, optional: true });

function withSecurity(module: DynamicModule): DynamicModule {
  const providers: Provider[] = [
    { provide: SECURITY_OPTIONS, useExisting: SECURITY_MODULE_OPTIONS },
    {
      provide: REDIS,
      useFactory: async (o: SecurityOptions, secrets: SecretsProvider) => {
        if (!o.redis) return undefined;
        const password = o.redis.password;
        const owner = {
          owner: 'SecurityModule',
          source: 'options.redis.url',
          feature: 'Security (Redis)',
          tlsSource: 'options.redis.tls',
          ...(o.redis.tls ? { tls: o.redis.tls } : {}),
          ...(password
            ? {
                // The module's own secrets unless told otherwise (REDIS_PASSWORD_FILE).
                password: { secrets: password.secrets ?? secrets, name: password.name },
                passwordSource: 'options.redis.password',
              }
            : {}),
        };
        const client = await createRedisClient(
          o.redis.url,
          {
            lazyConnect: false,
            maxRetriesPerRequest: 1,
            enableOfflineQueue: false,
            connectionName: 'security',
          },
          owner,
        );
        // A refused password or an untrusted certificate fails the boot, like the cache's; an
        // unreachable Redis does not (rate limits and revocation checks answer per request).
        const first = await firstRedisConnection(client, { ...owner, url: o.redis.url });
        if (!first.reachable) {
          getLogger('SecurityModule').warn(
            { redis: maskUrlPassword(o.redis.url), reason: first.error?.message },
            'SecurityModule: Redis unreachable at boot; reconnecting in the background',
          );
        }
        // Once per outage, and the recovery: rate limits and revocation checks answer per request.
        watchRedisConnection(client, getLogger('SecurityModule'), 'SecurityModule');
        return client;
      },
      inject: [SECURITY_OPTIONS, SecretsProvider],
    },
    {
      provide: JwtManager,
      useFactory: (
        o: SecurityOptions,
        secrets: SecretsProvider,
        redis?: import('ioredis').Redis,
        metrics?: MetricsService,
        audit?: AuditLogger,
      ) =>
        o.jwt === false || o.jwt === undefined
          ? undefined
          : new JwtManager({
              ...o.jwt,
              // Keys given as `secret` are read from, and rotate with, the module's secrets.
              keyring:
                o.jwt.keyring instanceof JwtKeyring ? o.jwt.keyring : { secrets, ...o.jwt.keyring },
              ...(metrics ? { metrics } : {}),
              ...(audit ? { audit } : {}),
              revocation: redis
                ? new RedisRevocationStore({
                    client: redis,
                    keyPrefix: `${o.redis?.keyPrefix ?? ''}security:revoked:`,
                  })
                : new MemoryRevocationStore(),
            }),
      inject: [SECURITY_OPTIONS, SecretsProvider, REDIS, optional(MetricsService), AuditLogger],
    },
    {
      provide: OidcVerifier,
      useFactory: (o: SecurityOptions, metrics?: MetricsService) =>
        o.oidc ? new OidcVerifier(o.oidc, metrics) : undefined,
      inject: [SECURITY_OPTIONS, optional(MetricsService)],
    },
    {
      provide: TOKEN_VERIFIERS,
      useFactory: verifiersFrom,
      inject: [SECURITY_OPTIONS, JwtManager, OidcVerifier],
    },
    {
      provide: ApiKeys,
      useFactory: (o: SecurityOptions) => new ApiKeys(o.apiKeys ?? []),
      inject: [SECURITY_OPTIONS],
    },
    {
      provide: PasswordHasher,
      useFactory: (o: SecurityOptions) => new PasswordHasher(o.hashing ?? {}),
      inject: [SECURITY_OPTIONS],
    },
    {
      provide: Encryptor,
      useFactory: (o: SecurityOptions) => (o.encryption ? new Encryptor(o.encryption) : undefined),
      inject: [SECURITY_OPTIONS],
    },
    {
      provide: SecretsProvider,
      useFactory: (o: SecurityOptions) => createSecretsProvider(o.secrets ?? {}),
      inject: [SECURITY_OPTIONS],
    },
    {
      provide: AuditLogger,
      useFactory: (
        o: SecurityOptions,
        dataSource?: DataSource,
        unitOfWork?: UnitOfWork,
        metrics?: MetricsService,
      ) =>
        o.audit === false
          ? undefined
          : new AuditLogger({
              ...(dataSource ? { dataSource } : {}),
              ...(unitOfWork ? { unitOfWork } : {}),
              ...(metrics ? { metrics } : {}),
              strict: o.audit?.strict ?? false,
              createTables: o.audit?.createTables ?? true,
            }),
      inject: [
        SECURITY_OPTIONS,
        optional(getDataSourceToken()),
        optional(UnitOfWork),
        optional(MetricsService),
      ],
    },
    { provide: SECURITY_AUDIT, useExisting: AuditLogger },
    {
      // Key changes of the JWT keyring (rotate, retire) go to the audit log.
      provide: 'SECURITY:KEYRING_AUDIT',
      useFactory: (jwt?: JwtManager, audit?: AuditLogger) => {
        jwt?.keyring.on('change', (change) => {
          void audit
            ?.record({
              action: AuditActions.keyRotated,
              actor: 'system',
              target: `jwt-key:${change.kid}`,
              outcome: 'success',
              metadata: { change: change.type, alg: change.alg },
            })
            .catch(() => undefined);
        });
        return true;
      },
      inject: [JwtManager, AuditLogger],
    },
    {
      // Every rotated secret the module's provider reloads goes to the audit log (never a value).
      provide: 'SECURITY:SECRETS_AUDIT',
      useFactory: (secrets: SecretsProvider, audit?: AuditLogger) => {
        const off = audit
          ? secrets.onChange(ANY_SECRET, (secret, name) => {
              void audit
                .record({
                  action: AuditActions.secretReloaded,
                  actor: 'system',
                  target: `secret:${name}`,
                  outcome: 'success',
                  metadata: { change: secret === undefined ? 'removed' : 'updated' },
                })
                .catch(() => undefined);
            })
          : undefined;
        return { onModuleDestroy: () => off?.() };
      },
      inject: [SecretsProvider, AuditLogger],
    },
    // @nestjs/throttler's guard, fed by our options and storage.
    {
      provide: getOptionsToken(),
      useFactory: (o: SecurityOptions) => {
        const r = o.rateLimit || {};
        const ttl = r.ttlMs ?? 60_000;
        return {
          throttlers: [
            { name: 'default', limit: r.limit ?? 100, ttl, blockDuration: r.blockMs ?? ttl },
          ],
        };
      },
      inject: [SECURITY_OPTIONS],
    },
    {
      provide: getStorageToken(),
      useFactory: (
        o: SecurityOptions,
        redis?: import('ioredis').Redis,
        metrics?: MetricsService,
      ) => {
        if (!redis) return new MemoryThrottlerStorage();
        const r = o.rateLimit || {};
        return new RedisThrottlerStorage(
          redis,
          {
            keyPrefix: `${o.redis?.keyPrefix ?? ''}rl:`,
            ...(r.timeoutMs ? { timeoutMs: r.timeoutMs } : {}),
            ...(r.failOpen === undefined ? {} : { failOpen: r.failOpen }),
          },
          metrics?.counter({
            name: 'rate_limit_storage_errors_total',
            help: 'Rate-limit checks that Redis did not answer (let through when fail-open).',
            labelNames: ['reason'],
          }),
        );
      },
      inject: [SECURITY_OPTIONS, REDIS, optional(MetricsService)],
    },
    {
      provide: RATE_LIMIT_TRUSTED_PROXIES,
      useFactory: (o: SecurityOptions) => (o.rateLimit ? (o.rateLimit.trustedProxies ?? 0) : 0),
      inject: [SECURITY_OPTIONS],
    },
    AuthGuard,
    RateLimitGuard,
    // Global guards, in this order: authentication, then rate limits (which use the principal).
    // Each one checks its own switch (`authGuard`, `rateLimit: false`) at request time.
    { provide: APP_GUARD, useExisting: AuthGuard },
    { provide: APP_GUARD, useExisting: RateLimitGuard },
    {
      provide: 'SECURITY:REDIS_CLOSER',
      useFactory: (redis?: import('ioredis').Redis) => ({
        onApplicationShutdown: () => redis?.disconnect(),
      }),
      inject: [REDIS],
    },
  ];
  return extendModule(module, {
    controllers: [JwksController],
    providers,
    exports: [
      SECURITY_OPTIONS,
      JwtManager,
      OidcVerifier,
      ApiKeys,
      PasswordHasher,
      Encryptor,
      SecretsProvider,
      AuditLogger,
      TOKEN_VERIFIERS,
    ],
  });
}

/**
 * Security in one import: bearer tokens (local JWTs with a rotating keyring, an external OIDC
 * issuer, API keys) checked by a global AuthGuard with `@Public()`/`@Scopes()`/`@Roles()`, shared
 * rate limits (Redis) by user/key/IP, the JWKS endpoint, an Encryptor, a PasswordHasher, secrets
 * that reload, and a hash-chained audit log. Global by default.
 */
@Module({})
export class SecurityModule extends ConfigurableModuleClass {
  static override forRoot(options: typeof OPTIONS_TYPE = {}): DynamicModule {
    return withSecurity(super.forRoot(options));
  }

  static override forRootAsync(options: typeof ASYNC_OPTIONS_TYPE): DynamicModule {
    return withSecurity(super.forRootAsync(options));
  }
}
