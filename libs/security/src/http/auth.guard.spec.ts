import type { ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { MetricsService } from '@infrastructure/monitoring';
import { ApiKeys } from './api-keys.js';
import { AccessDeniedError, AuthenticationError } from './auth-errors.js';
import { AuthGuard } from './auth.guard.js';
import { Public, Scopes } from './decorators.js';
import type { Principal, TokenVerifier } from './principal.js';

const reader: Principal = {
  subject: 'u1',
  kind: 'user',
  scopes: ['orders:read'],
  roles: [],
  claims: {},
};

const verifier: TokenVerifier = {
  name: 'test',
  accepts: () => true,
  verify: async (token) => {
    if (token !== 'good') throw new AuthenticationError('bad token');
    return reader;
  },
};

const guard = (metrics?: MetricsService) =>
  new AuthGuard(
    new Reflector(),
    [verifier],
    new ApiKeys([]),
    { set: () => {} } as never,
    undefined,
    metrics,
  );

function http(classRef: object, handler: object, authorization?: string): ExecutionContext {
  const request = { headers: authorization ? { authorization } : {}, url: '/x', method: 'GET' };
  return {
    getType: () => 'http',
    switchToHttp: () => ({ getRequest: () => request }),
    getClass: () => classRef,
    getHandler: () => handler,
  } as unknown as ExecutionContext;
}

class Orders {
  @Scopes('orders:read')
  read(): void {}

  @Scopes('orders:write')
  write(): void {}

  list(): void {}
}

// Inherits `list` (the same function) but is public as a whole.
@Public()
class PublicOrders extends Orders {}

describe('AuthGuard route policies (read once per class and handler)', () => {
  it('enforces the scopes of each handler on every request', async () => {
    const g = guard();
    for (let i = 0; i < 2; i++) {
      await expect(g.canActivate(http(Orders, Orders.prototype.read, 'Bearer good'))).resolves.toBe(
        true,
      );
      await expect(
        g.canActivate(http(Orders, Orders.prototype.write, 'Bearer good')),
      ).rejects.toBeInstanceOf(AccessDeniedError);
      await expect(
        g.canActivate(http(Orders, Orders.prototype.read, 'Bearer bad')),
      ).rejects.toBeInstanceOf(AuthenticationError);
    }
  });

  it('tells apart one handler inherited by a public and a protected controller', async () => {
    const g = guard();
    const handler = Orders.prototype.list;
    for (let i = 0; i < 2; i++) {
      await expect(g.canActivate(http(PublicOrders, handler))).resolves.toBe(true);
      await expect(g.canActivate(http(Orders, handler))).rejects.toBeInstanceOf(
        AuthenticationError,
      );
    }
  });

  it('counts every decision in auth_requests_total', async () => {
    const registry = new Registry();
    const g = guard(new MetricsService(registry));
    await g.canActivate(http(Orders, Orders.prototype.read, 'Bearer good'));
    await g.canActivate(http(Orders, Orders.prototype.read, 'Bearer good'));
    await g.canActivate(http(Orders, Orders.prototype.write, 'Bearer good')).catch(() => false);
    const values = (await registry.getSingleMetric('auth_requests_total')!.get()).values;
    expect(values.map((v) => [v.labels, v.value])).toEqual([
      [{ result: 'allowed', method: 'user' }, 2],
      [{ result: 'forbidden', method: 'any' }, 1],
    ]);
  });
});
