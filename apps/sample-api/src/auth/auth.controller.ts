import {
  Body,
  Controller,
  Headers,
  HttpCode,
  Injectable,
  Post,
  UseInterceptors,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { Observable } from 'rxjs';
import {
  ApiBadRequestResponse,
  ApiHeader,
  ApiHideProperty,
  ApiOkResponse,
  ApiProperty,
  ApiPropertyOptional,
  ApiTags,
  ApiUnauthorizedResponse,
} from '../openapi.js';
import { Throttle } from '@nestjs/throttler';
import { IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { createHash, timingSafeEqual } from 'node:crypto';
import { appConfig, InjectConfig, type ConfigOf } from '@infrastructure/configuration';
import { getLogger } from '@infrastructure/monitoring';
import { AuditLogger, JwtManager, jwtConfig, Public, parseApiKey } from '@infrastructure/security';
import { authClientsConfig, DEMO_CLIENT } from '../config.js';

export class TokenRequestDto {
  // Any string: an unknown grant is answered with the OAuth `unsupported_grant_type` error.
  @ApiProperty({ enum: ['client_credentials'] })
  @IsString()
  @MaxLength(64)
  grant_type!: string;

  @ApiPropertyOptional({ description: 'Or HTTP Basic authentication.' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  client_id?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(256)
  client_secret?: string;

  @ApiPropertyOptional({ description: 'Space-separated; default: every scope of the client.' })
  @IsOptional()
  @IsString()
  @Matches(/^[\w:.\- ]{0,512}$/)
  scope?: string;

  // The parameters of the other RFC 6749 grants, accepted and ignored: a well-formed request for
  // a grant this endpoint does not offer is answered `unsupported_grant_type`, not as invalid.
  @ApiHideProperty() @IsOptional() @IsString() @MaxLength(2048) username?: string;
  @ApiHideProperty() @IsOptional() @IsString() @MaxLength(2048) password?: string;
  @ApiHideProperty() @IsOptional() @IsString() @MaxLength(2048) refresh_token?: string;
  @ApiHideProperty() @IsOptional() @IsString() @MaxLength(2048) code?: string;
  @ApiHideProperty() @IsOptional() @IsString() @MaxLength(2048) redirect_uri?: string;
  @ApiHideProperty() @IsOptional() @IsString() @MaxLength(2048) code_verifier?: string;
}

export class TokenResponseDto {
  @ApiProperty() access_token!: string;
  @ApiProperty({ example: 'Bearer' }) token_type!: 'Bearer';
  @ApiProperty({ description: 'Seconds.' }) expires_in!: number;
  @ApiProperty() scope!: string;
}

/**
 * OAuth2 error of the token endpoint (RFC 6749 §5.2) as a problem with the right status: the
 * OAuth `error` code rides along as a problem extension member, beside `detail`.
 */
class TokenError extends Error {
  readonly httpStatus: number;
  readonly httpHeaders: Record<string, string>;
  readonly problemExtensions: Record<string, string>;
  constructor(
    readonly publicMessage: string,
    readonly code: 'invalid_client' | 'invalid_scope' | 'unsupported_grant_type',
  ) {
    super(`${code}: ${publicMessage}`);
    this.httpStatus = code === 'invalid_client' ? 401 : 400;
    this.httpHeaders =
      code === 'invalid_client' ? { 'WWW-Authenticate': 'Basic realm="token"' } : {};
    this.problemExtensions = { error: code, error_description: publicMessage };
  }
}

/**
 * `Cache-Control: no-store` and `Pragma: no-cache` on every answer of the token endpoint
 * (RFC 6749 §5.1), errors included: set before the pipes run, so a refused body gets them too.
 */
@Injectable()
class NoStore implements NestInterceptor {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const response = context.switchToHttp().getResponse<unknown>();
    this.adapterHost.httpAdapter.setHeader(response, 'cache-control', 'no-store');
    this.adapterHost.httpAdapter.setHeader(response, 'pragma', 'no-cache');
    return next.handle();
  }
}

interface Client {
  id: string;
  digest: Buffer;
  scopes: string[];
}

/**
 * `POST /v1/auth/token`: the client-credentials grant for the demo clients of `AUTH_CLIENTS`
 * (secrets configured as SHA-256 hashes). Issues short-lived access tokens signed by the
 * service's keyring; every issue and refusal is audited. Rate-limited harder than the API.
 */
@ApiTags('auth')
@Public()
@Controller('v1/auth')
export class AuthController {
  private readonly log = getLogger('AuthController');
  private readonly clients: Client[];

  constructor(
    private readonly jwt: JwtManager,
    private readonly audit: AuditLogger,
    @InjectConfig(authClientsConfig) config: ConfigOf<typeof authClientsConfig>,
    @InjectConfig(appConfig) app: ConfigOf<typeof appConfig>,
    @InjectConfig(jwtConfig) private readonly jwtSettings: ConfigOf<typeof jwtConfig>,
  ) {
    const entries = config.clients.filter((entry) => {
      if (entry === DEMO_CLIENT && app.nodeEnv === 'production') {
        this.log.warn('the demo OAuth client is refused in production: set AUTH_CLIENTS');
        return false;
      }
      return true;
    });
    this.clients = entries.map((entry) => {
      const parsed = parseApiKey(entry);
      return {
        id: parsed.name,
        digest: Buffer.from(parsed.hash.replace(/^sha256:/, ''), 'hex'),
        scopes: parsed.scopes ?? [],
      };
    });
  }

  @Post('token')
  @HttpCode(200)
  @Throttle({ default: { limit: 30, ttl: 60_000 } })
  @UseInterceptors(NoStore)
  @ApiHeader({
    name: 'authorization',
    required: false,
    description: 'HTTP Basic client credentials, or client_id and client_secret in the body.',
  })
  @ApiOkResponse({ type: TokenResponseDto })
  @ApiBadRequestResponse({ description: 'Unsupported grant or scope (problem+json).' })
  @ApiUnauthorizedResponse({ description: 'Unknown client or wrong secret.' })
  async token(
    @Body() body: TokenRequestDto,
    @Headers('authorization') authorization?: string,
  ): Promise<TokenResponseDto> {
    if (body.grant_type !== 'client_credentials') {
      throw new TokenError(
        'Only the client_credentials grant is supported.',
        'unsupported_grant_type',
      );
    }
    const { id, secret } = credentials(body, authorization);
    const client = this.authenticate(id, secret);
    if (!client) {
      await this.audit.record({
        action: 'auth.token.refused',
        actor: id ?? 'anonymous',
        outcome: 'failure',
        metadata: { reason: 'invalid_client' },
      });
      throw new TokenError('Unknown client or wrong secret.', 'invalid_client');
    }
    const requested = body.scope?.split(' ').filter(Boolean) ?? client.scopes;
    const denied = requested.filter((s) => !client.scopes.includes(s));
    if (denied.length > 0) {
      throw new TokenError(`The client may not ask for: ${denied.join(' ')}.`, 'invalid_scope');
    }
    const ttl = this.jwtSettings.ttlSeconds;
    const token = await this.jwt.createToken({
      sub: client.id,
      scopes: requested,
      client_id: client.id,
    });
    await this.audit.record({
      action: 'auth.token.issued',
      actor: client.id,
      outcome: 'success',
      metadata: { scopes: requested },
    });
    return {
      access_token: token,
      token_type: 'Bearer',
      expires_in: ttl,
      scope: requested.join(' '),
    };
  }

  private authenticate(id: string | undefined, secret: string | undefined): Client | undefined {
    if (!id || !secret) return undefined;
    const digest = createHash('sha256').update(secret, 'utf8').digest();
    let found: Client | undefined;
    for (const c of this.clients) if (c.id === id && timingSafeEqual(c.digest, digest)) found = c;
    return found;
  }
}

function credentials(
  body: TokenRequestDto,
  authorization: string | undefined,
): { id?: string; secret?: string } {
  const basic = /^Basic +([A-Za-z0-9+/=]+) *$/i.exec(authorization ?? '');
  if (!basic) return { id: body.client_id, secret: body.client_secret };
  // RFC 6749 §2.3.1: form-urlencoded id and secret, joined by a colon. Anything that does not
  // decode is an unknown client (401 invalid_client), never an error of ours.
  let decoded: string;
  try {
    decoded = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(basic[1]!, 'base64'));
  } catch {
    return {};
  }
  const colon = decoded.indexOf(':');
  if (colon <= 0) return {};
  try {
    return {
      id: decodeURIComponent(decoded.slice(0, colon)),
      secret: decodeURIComponent(decoded.slice(colon + 1)),
    };
  } catch {
    return {};
  }
}
