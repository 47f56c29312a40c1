import { loadConfiguration } from '@infrastructure/configuration';
import { describe, expect, it } from 'vitest';
import { jwtConfig, oidcConfig, securityConfig, securityOptionsFrom } from './security.config.js';

const load = (env: Record<string, string>) => {
  const c = loadConfiguration([jwtConfig, oidcConfig, securityConfig], {
    env,
    envDir: '/nonexistent',
  });
  return securityOptionsFrom({
    jwt: c.get(jwtConfig),
    oidc: c.get(oidcConfig),
    security: c.get(securityConfig),
  });
};

describe('securityConfig', () => {
  it('maps RATE_LIMIT_IPV6_PREFIX to rateLimit.ipv6Prefix (64 by default)', () => {
    expect(load({})).toMatchObject({ rateLimit: { ipv6Prefix: 64, trustedProxies: 0 } });
    expect(load({ RATE_LIMIT_IPV6_PREFIX: '56' })).toMatchObject({
      rateLimit: { ipv6Prefix: 56 },
    });
  });

  it('refuses a prefix outside 1-128', () => {
    expect(() => load({ RATE_LIMIT_IPV6_PREFIX: '129' })).toThrow('RATE_LIMIT_IPV6_PREFIX');
  });
});
