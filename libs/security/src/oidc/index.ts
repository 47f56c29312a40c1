export {
  OidcVerifier,
  OIDC_VERIFIER_OPTIONS,
  type OidcMetadata,
  type OidcVerifierOptions,
  type OidcVerifyOptions,
} from './oidc-verifier.js';
export {
  ClientCredentialsClient,
  CLIENT_CREDENTIALS_OPTIONS,
  type ClientCredentialsClientOptions,
  type ServiceToken,
  type ServiceTokenRequest,
} from './client-credentials.client.js';
export {
  AuthorizationCodeClient,
  AUTHORIZATION_CODE_OPTIONS,
  type AuthorizationCodeClientOptions,
  type AuthorizationRequest,
  type CodeExchangeResult,
} from './authorization-code.client.js';
export type { ClientAuthMethod, OAuthClientBaseOptions } from './oauth-client.js';
export {
  AuthorizationResponseError,
  OidcConfigError,
  OidcUnavailableError,
  TokenRequestError,
} from './errors.js';
