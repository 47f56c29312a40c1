import { Body, Controller, Headers, HttpCode, Post } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiOkResponse,
  ApiProperty,
  ApiPropertyOptional,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { Throttle } from '@nestjs/throttler';
import { IsIn, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { createHash, timingSafeEqual } from 'node:crypto';
import { appConfig, InjectConfig, type ConfigOf } from '@infrastructure/configuration';
import { getLogger } from '@infrastructure/monitoring';
import { AuditLogger, JwtManager, jwtConfig, Public, parseApiKey } from '@infrastructure/security';
import { authClientsConfig, DEMO_CLIENT } from '../config.js';

export class TokenRequestDto {
  @ApiProperty({ enum: ['client_credentials'] })
  @IsIn(['client_credentials'])
  grant_type!: 'client_credentials';

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
}

export class TokenResponseDto {
  @ApiProperty() access_token!: string;
  @ApiProperty({ example: 'Bearer' }) token_type!: 'Bearer';
  @ApiProperty({ description: 'Seconds.' }) expires_in!: number;
  @ApiProperty() scope!: string;
}

/** OAuth2 error of the token endpoint (RFC 6749 §5.2), as a problem with the right status. */
class TokenError extends Error {
  readonly httpStatus: number;
  readonly httpHeaders: Record<string, string>;
  constructor(
    readonly publicMessage: string,
    readonly code: 'invalid_client' | 'invalid_scope',
  ) {
    super(`${code}: ${publicMessage}`);
    this.httpStatus = code === 'invalid_client' ? 401 : 400;
    this.httpHeaders =
      code === 'invalid_client' ? { 'WWW-Authenticate': 'Basic realm="token"' } : {};
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
  @ApiOkResponse({ type: TokenResponseDto })
  @ApiBadRequestResponse({ description: 'Unsupported grant or scope (problem+json).' })
  @ApiUnauthorizedResponse({ description: 'Unknown client or wrong secret.' })
  async token(
    @Body() body: TokenRequestDto,
    @Headers('authorization') authorization?: string,
  ): Promise<TokenResponseDto> {
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
  if (basic) {
    const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon > 0) {
      return {
        id: decodeURIComponent(decoded.slice(0, colon)),
        secret: decodeURIComponent(decoded.slice(colon + 1)),
      };
    }
  }
  return { id: body.client_id, secret: body.client_secret };
}
