/** The resolved options (`ResolvedIntegrationsOptions`). */
export const INTEGRATIONS_OPTIONS = 'INTEGRATIONS:OPTIONS';

/** Injection token of the client named `name` (what `@InjectHttpClient(name)` injects). */
export function httpClientToken(name: string): string {
  return `INTEGRATIONS:HTTP_CLIENT:${name}`;
}
