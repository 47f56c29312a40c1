import type * as client from 'openid-client';
import { OidcConfigError } from './errors.js';

type OpenidClient = typeof client;
let openidLoading: Promise<OpenidClient> | undefined;
let openidLoaded: OpenidClient | undefined;

/**
 * openid-client (with oauth4webapi), imported on first use: an app that configures no OAuth client
 * does not load it at boot.
 */
export function openidClient(): Promise<OpenidClient> {
  openidLoading ??= import('openid-client').then(
    (m) => (openidLoaded = m),
    (e: unknown) => {
      openidLoading = undefined;
      throw e;
    },
  );
  return openidLoading;
}

/** How the client authenticates at the token endpoint. */
export type ClientAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'none';

/** Connection settings shared by the OAuth2 clients. */
export interface OAuthClientBaseOptions {
  /** Issuer URL; its discovery document gives the endpoints. */
  issuer: string;
  clientId: string;
  /** Client secret (a `cfg.secret()` value). Never logged. Omit for a public client (`none`). */
  clientSecret?: string;
  /** @default 'client_secret_basic' with a secret, 'none' without */
  authMethod?: ClientAuthMethod;
  /** Allow an `http://` issuer (tests, local IdPs). @default false */
  allowInsecureHttp?: boolean;
  /** Deadline of each request to the provider, in milliseconds. @default 5000 */
  timeoutMs?: number;
}

/** Builds the openid-client Configuration (discovery) once per client; retried after failures. */
export class DiscoveredClient {
  private configuration?: Promise<client.Configuration>;

  constructor(
    private readonly owner: string,
    private readonly options: OAuthClientBaseOptions,
  ) {
    let url: URL;
    try {
      url = new URL(options.issuer);
    } catch {
      throw new OidcConfigError(
        `${owner}: options.issuer must be a URL, got ${JSON.stringify(options.issuer)}`,
      );
    }
    if (url.protocol !== 'https:' && !(options.allowInsecureHttp && url.protocol === 'http:')) {
      throw new OidcConfigError(
        `${owner}: options.issuer must be https:// (set allowInsecureHttp for a local http provider)`,
      );
    }
    if (typeof options.clientId !== 'string' || options.clientId === '') {
      throw new OidcConfigError(`${owner}: options.clientId is required`);
    }
    const method = this.method;
    if (method !== 'none' && !options.clientSecret) {
      throw new OidcConfigError(`${owner}: options.clientSecret is required for ${method}`);
    }
    if (!['client_secret_basic', 'client_secret_post', 'none'].includes(method)) {
      throw new OidcConfigError(
        `${owner}: options.authMethod must be client_secret_basic, client_secret_post or none, got ${JSON.stringify(method)}`,
      );
    }
  }

  get method(): ClientAuthMethod {
    return this.options.authMethod ?? (this.options.clientSecret ? 'client_secret_basic' : 'none');
  }

  get(): Promise<client.Configuration> {
    this.configuration ??= this.discover().catch((e: unknown) => {
      this.configuration = undefined;
      throw e;
    });
    return this.configuration;
  }

  private async discover(): Promise<client.Configuration> {
    const { clientSecret } = this.options;
    const oidc = await openidClient();
    const auth =
      this.method === 'client_secret_post'
        ? oidc.ClientSecretPost(clientSecret)
        : this.method === 'client_secret_basic'
          ? oidc.ClientSecretBasic(clientSecret)
          : oidc.None();
    const timeout = Math.ceil((this.options.timeoutMs ?? 5000) / 1000);
    const configuration = await oidc.discovery(
      new URL(this.options.issuer),
      this.options.clientId,
      undefined,
      auth,
      {
        timeout,
        ...(this.options.allowInsecureHttp ? { execute: [oidc.allowInsecureRequests] } : {}),
      },
    );
    configuration.timeout = timeout;
    return configuration;
  }
}

/** The OAuth `error` code inside whatever openid-client threw, if any. */
export function oauthErrorCode(e: unknown): string | undefined {
  // not loaded yet: nothing of openid-client's can have been thrown
  const oidc = openidLoaded;
  if (!oidc) return undefined;
  if (e instanceof oidc.ResponseBodyError || e instanceof oidc.AuthorizationResponseError) {
    return e.error;
  }
  if (e instanceof oidc.WWWAuthenticateChallengeError) {
    const error = e.cause[0]?.parameters.error;
    return typeof error === 'string' ? error : undefined;
  }
  return undefined;
}

/** openid-client lower-cases `token_type`; `Bearer` is how RFC 6750 spells the scheme. */
export function canonicalTokenType(type: string): string {
  return type.toLowerCase() === 'bearer' ? 'Bearer' : type;
}
