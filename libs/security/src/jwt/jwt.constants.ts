/** Injection token of {@link JwtManagerOptions} (plain `@Injectable()` use without a module). */
export const JWT_MANAGER_OPTIONS = 'SECURITY:JWT_MANAGER_OPTIONS';

/** `typ` header of access tokens (RFC 9068). */
export const ACCESS_TOKEN_TYPE = 'at+jwt';

/** `typ` header of this lib's refresh tokens. */
export const REFRESH_TOKEN_TYPE = 'rt+jwt';
