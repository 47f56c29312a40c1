import { JwtManager } from '@infrastructure/security';
import type { TestApp } from '@infrastructure/testing';

/** An `Authorization` header value for the app under test, signed by its own keyring. */
export async function bearer(
  t: TestApp,
  scopes: readonly string[] = ['orders:read', 'orders:write'],
  sub = 'e2e-user',
): Promise<string> {
  return `Bearer ${await t.app.get(JwtManager).createToken({ sub, scopes })}`;
}
