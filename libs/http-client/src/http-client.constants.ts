/** The resolved options (`ResolvedHttpClientModuleOptions`). */
export const HTTP_CLIENT_OPTIONS = 'HTTP_CLIENT:OPTIONS';

/** Injection token of the client named `name` (what `@InjectHttpClient(name)` injects). */
export function httpClientToken(name: string): string {
  return `HTTP_CLIENT:${name}`;
}
