import { Controller, Get, type ExecutionContext, type INestApplication } from '@nestjs/common';
import { HttpAdapterHost, Reflector } from '@nestjs/core';
import { SkipThrottle, Throttle } from '@nestjs/throttler';
import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { MonitoringModule, ProblemDetailsFilter } from '@infrastructure/monitoring';
import { createTestApp, testMonitoringOptions } from '@infrastructure/testing';
import { Public } from '../src/http/decorators.js';
import { SecurityModule } from '../src/security.module.js';

/** The limit a request asks for in `x-limit` (a function-valued `@Throttle` limit). */
const limitFromHeader = (context: ExecutionContext) =>
  Number(
    context.switchToHttp().getRequest<{ headers: Record<string, string> }>().headers['x-limit'],
  );

@Controller('limited')
@Public()
class LimitedController {
  @Get('module')
  module(): string {
    return 'ok';
  }

  @Get('route')
  @Throttle({ default: { limit: 1, ttl: 60_000 } })
  route(): string {
    return 'ok';
  }

  @Get('dynamic')
  @Throttle({ default: { limit: limitFromHeader, ttl: 60_000 } })
  dynamic(): string {
    return 'ok';
  }
}

@Controller('skipped')
@Public()
@SkipThrottle()
class SkippedController {
  @Get('free')
  free(): string {
    return 'ok';
  }

  @Get('counted')
  @SkipThrottle({ default: false })
  @Throttle({ default: { limit: 2, ttl: 60_000 } })
  counted(): string {
    return 'ok';
  }
}

let app: INestApplication;
const server = () => supertest(app.getHttpServer());

beforeAll(async () => {
  const t = await createTestApp(
    {
      imports: [
        MonitoringModule.forRoot(testMonitoringOptions()),
        SecurityModule.forRoot({
          jwt: { issuer: 'https://api.test', audience: 'orders' },
          rateLimit: { limit: 3, ttlMs: 60_000 },
          audit: false,
        }),
      ],
      controllers: [LimitedController, SkippedController],
    },
    {
      appOptions: { logger: false },
      configure: (a) => a.useGlobalFilters(new ProblemDetailsFilter(a.get(HttpAdapterHost))),
    },
  );
  app = t.app;
});

afterAll(async () => {
  await app?.close();
});

describe('RateLimitGuard: @nestjs/throttler semantics with the route metadata read once', () => {
  it('the module limit: RateLimit-* headers count down, then 429 with Retry-After', async () => {
    const remaining: unknown[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await server().get('/limited/module').expect(200);
      expect(res.headers['ratelimit-limit']).toBe('3');
      remaining.push(res.headers['ratelimit-remaining']);
    }
    expect(remaining).toEqual(['2', '1', '0']);
    const refused = await server().get('/limited/module').expect(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
  });

  it("a handler's @Throttle overrides the module's limit", async () => {
    const first = await server().get('/limited/route').expect(200);
    expect(first.headers['ratelimit-limit']).toBe('1');
    await server().get('/limited/route').expect(429);
  });

  it('a function-valued limit is resolved on every request', async () => {
    const a = await server().get('/limited/dynamic').set('x-limit', '5').expect(200);
    expect([a.headers['ratelimit-limit'], a.headers['ratelimit-remaining']]).toEqual(['5', '4']);
    const b = await server().get('/limited/dynamic').set('x-limit', '2').expect(200);
    expect([b.headers['ratelimit-limit'], b.headers['ratelimit-remaining']]).toEqual(['2', '0']);
    await server().get('/limited/dynamic').set('x-limit', '2').expect(429);
  });

  it("a class's @SkipThrottle skips its routes; a handler's @SkipThrottle({ default: false }) wins", async () => {
    for (let i = 0; i < 5; i++) {
      const res = await server().get('/skipped/free').expect(200);
      expect(res.headers['ratelimit-limit']).toBeUndefined();
    }
    await server().get('/skipped/counted').expect(200);
    await server().get('/skipped/counted').expect(200);
    await server().get('/skipped/counted').expect(429);
  });

  it('reads the throttler metadata of a route once, not on every request', async () => {
    const reflector = app.get(Reflector);
    const spy = vi.spyOn(reflector, 'getAllAndOverride');
    try {
      await server().get('/limited/module');
      const seen = spy.mock.calls.length;
      for (let i = 0; i < 5; i++) await server().get('/limited/module');
      const throttlerReads = spy.mock.calls
        .slice(seen)
        .filter(([key]) => String(key).startsWith('THROTTLER:'));
      expect(throttlerReads).toEqual([]);
    } finally {
      spy.mockRestore();
    }
  });
});
