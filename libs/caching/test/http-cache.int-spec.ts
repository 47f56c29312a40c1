import {
  Controller,
  Get,
  type ExecutionContext,
  Header,
  Param,
  Query,
  Req,
  UseInterceptors,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { createTestApp, type TestApp } from '@infrastructure/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CACHE_RESPONSE } from '../src/http/cache-response.decorator.js';
import { CacheResponse, CachingModule, HttpCacheInterceptor } from '../src/index.js';

let calls = 0;

@Controller('items')
@UseInterceptors(HttpCacheInterceptor)
class ItemsController {
  @Get('private')
  @CacheResponse()
  @Header('Cache-Control', 'no-store')
  secret() {
    return { n: ++calls };
  }

  @Get(':id')
  @CacheResponse({ ttlMs: 60_000 })
  find(
    @Param('id') id: string,
    @Query('q') q: string | undefined,
    @Req() req: { user?: { id: string } },
  ) {
    return { id, q: q ?? null, user: req.user?.id ?? null, n: ++calls };
  }

  @Get('')
  list() {
    return { n: ++calls };
  }
}

describe.each(['express', 'fastify'] as const)('HttpCacheInterceptor on %s', (adapter) => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp(
      { imports: [CachingModule.forRoot()], controllers: [ItemsController] },
      {
        adapter,
        configure: (app) => {
          // A fake authentication guard: "Authorization: Bearer <user>" sets request.user.
          app.useGlobalGuards({
            canActivate(context: ExecutionContext) {
              const req = context.switchToHttp().getRequest();
              const auth = req.headers.authorization as string | undefined;
              if (auth?.startsWith('Bearer ')) req.user = { id: auth.slice(7) };
              return true;
            },
          });
        },
      },
    );
  });

  afterAll(() => t?.close());

  it('serves the second GET from the cache, keyed by path and sorted query', async () => {
    const first = await t.request.get('/items/1?b=2&a=1').expect(200);
    expect(first.headers['x-cache']).toBe('MISS');
    const second = await t.request.get('/items/1?a=1&b=2').expect(200);
    expect(second.headers['x-cache']).toBe('HIT');
    expect(second.body).toEqual(first.body);
    const other = await t.request.get('/items/2?a=1&b=2').expect(200);
    expect(other.body.n).not.toBe(first.body.n);
  });

  it('never serves one user’s response to another', async () => {
    const alice = await t.request.get('/items/u').set('Authorization', 'Bearer alice').expect(200);
    const bob = await t.request.get('/items/u').set('Authorization', 'Bearer bob').expect(200);
    expect(bob.body.user).toBe('bob');
    expect(bob.body.n).not.toBe(alice.body.n);
    const aliceAgain = await t.request
      .get('/items/u')
      .set('Authorization', 'Bearer alice')
      .expect(200);
    expect(aliceAgain.body).toEqual(alice.body);
    const anonymous = await t.request.get('/items/u').expect(200);
    expect(anonymous.body.user).toBeNull();
  });

  it('does not cache requests with credentials but no known user', async () => {
    const a = await t.request.get('/items/c').set('Cookie', 'session=1').expect(200);
    const b = await t.request.get('/items/c').set('Cookie', 'session=1').expect(200);
    expect(b.body.n).not.toBe(a.body.n);
  });

  it('honours Cache-Control: no-cache (fresh response, then cached again)', async () => {
    const a = await t.request.get('/items/nc').expect(200);
    const b = await t.request.get('/items/nc').set('Cache-Control', 'no-cache').expect(200);
    expect(b.body.n).not.toBe(a.body.n);
    const c = await t.request.get('/items/nc').expect(200);
    expect(c.body).toEqual(b.body);
  });

  it('does not store a response marked no-store, nor routes without @CacheResponse', async () => {
    const a = await t.request.get('/items/private').expect(200);
    const b = await t.request.get('/items/private').expect(200);
    expect(b.body.n).not.toBe(a.body.n);
    const l1 = await t.request.get('/items').expect(200);
    const l2 = await t.request.get('/items').expect(200);
    expect(l2.body.n).not.toBe(l1.body.n);
  });

  it('reads a route’s @CacheResponse options once, not on every request', async () => {
    const spy = vi.spyOn(t.app.get(Reflector), 'getAllAndOverride');
    try {
      await t.request.get('/items/memo').expect(200);
      await t.request.get('/items').expect(200);
      const seen = spy.mock.calls.length;
      for (let i = 0; i < 3; i++) {
        const hit = await t.request.get('/items/memo').expect(200);
        expect(hit.headers['x-cache']).toBe('HIT');
        await t.request.get('/items').expect(200);
      }
      const reads = spy.mock.calls.slice(seen).filter(([key]) => key === CACHE_RESPONSE);
      expect(reads).toEqual([]);
    } finally {
      spy.mockRestore();
    }
  });
});
