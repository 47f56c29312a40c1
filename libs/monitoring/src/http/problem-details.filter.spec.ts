import { Body, Controller, Get, HttpStatus, HttpException, Post, Query } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { Type } from 'class-transformer';
import { IsInt, IsString, Max, Min, ValidateNested } from 'class-validator';
import { describe, expect, it } from 'vitest';
import { createTestApp } from '@infrastructure/testing';
import { ProblemDetailsFilter } from './problem-details.filter.js';
import { createValidationPipe } from './validation.pipe.js';

class LineDto {
  @IsString() sku!: string;
  @IsInt() @Min(1) quantity!: number;
}
class OrderDto {
  @IsString() customer!: string;
  @ValidateNested() @Type(() => LineDto) line!: LineDto;
}
class PageQuery {
  @Type(() => Number) @IsInt() @Min(1) @Max(100) limit!: number;
}

@Controller('t')
class TestController {
  @Post('orders')
  create(@Body() dto: OrderDto) {
    return { ok: dto instanceof OrderDto };
  }
  @Get('page')
  page(@Query() q: PageQuery) {
    return { limit: q.limit };
  }
  @Get('conflict')
  conflict() {
    throw new HttpException(
      { detail: 'Order 7 was changed by someone else', type: 'https://errors.example/conflict' },
      HttpStatus.CONFLICT,
    );
  }
  @Get('unauthenticated')
  unauthenticated() {
    throw Object.assign(new Error('token expired at 12:00'), {
      httpStatus: 401,
      publicMessage: 'The access token is invalid',
      httpHeaders: {
        'WWW-Authenticate': 'Bearer error="invalid_token"',
        'Bad Header!': 'ignored',
        'X-Split': 'a\r\nSet-Cookie: evil=1',
      },
    });
  }
  @Get('oauth')
  oauth() {
    throw Object.assign(new Error('client demo: wrong secret'), {
      httpStatus: 401,
      publicMessage: 'Unknown client or wrong secret.',
      problemExtensions: {
        error: 'invalid_client',
        status: 200,
        detail: 'overridden?',
        'bad name': 'x',
        nested: { no: true },
      },
    });
  }
  @Get('boom')
  boom() {
    throw new Error('db password is hunter2');
  }
}

describe.each(['express', 'fastify'] as const)('problem details on %s', (adapter) => {
  const start = () =>
    createTestApp(
      { controllers: [TestController] },
      {
        adapter,
        configure: (app) => {
          app.useGlobalFilters(new ProblemDetailsFilter(app.get(HttpAdapterHost)));
          app.useGlobalPipes(createValidationPipe());
        },
      },
    );

  it('sets the headers an error declares (httpHeaders), refusing bad names and line breaks', async () => {
    await using t = await start();
    const res = await t.request.get('/t/unauthenticated').expect(401);
    expect(res.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
    expect(res.headers['x-split']).toBeUndefined();
    expect(res.headers['set-cookie']).toBeUndefined();
    expect(res.body).toMatchObject({ status: 401, detail: 'The access token is invalid' });
    expect(JSON.stringify(res.body)).not.toContain('12:00');
  });

  it('adds the extension members an error declares (problemExtensions), never over the standard ones', async () => {
    await using t = await start();
    const res = await t.request.get('/t/oauth').expect(401);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body).toEqual({
      type: 'about:blank',
      title: 'Unauthorized',
      status: 401,
      detail: 'Unknown client or wrong secret.',
      instance: '/t/oauth',
      error: 'invalid_client',
    });
  });

  it('answers malformed JSON with 400 and a fixed detail that does not echo the input', async () => {
    await using t = await start();
    for (const text of ['{"customer": "secret-token-123', '{"a":1,}', '[1, 2', 'nul']) {
      const res = await t.request
        .post('/t/orders')
        .set('content-type', 'application/json')
        .send(text);
      expect({ text, status: res.status }).toEqual({ text, status: 400 });
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.body.detail).toBe('Malformed request body');
      expect(JSON.stringify(res.body)).not.toMatch(/secret-token|Unexpected|position|JSON at/);
    }
  });

  it('answers deeply nested bodies with 400 before class-transformer recurses into them', async () => {
    await using t = await start();
    for (const depth of [200, 20_000]) {
      const nested = '['.repeat(depth) + ']'.repeat(depth);
      const body = `{"customer":"c","line":{"sku":${nested},"quantity":1}}`;
      const res = await t.request
        .post('/t/orders')
        .set('content-type', 'application/json')
        .send(body);
      expect({ depth, status: res.status }).toEqual({ depth, status: 400 });
      expect(res.body.detail).toMatch(/nested too deeply/);
    }
  });

  it('refuses __proto__, constructor and prototype keys in bodies and queries like unknown properties', async () => {
    await using t = await start();
    for (const key of ['__proto__', 'constructor', 'prototype']) {
      const body = `{"customer":"c","line":{"sku":"a","quantity":1},"${key}":{"polluted":true}}`;
      const res = await t.request
        .post('/t/orders')
        .set('content-type', 'application/json')
        .send(body);
      expect({ key, status: res.status }).toEqual({ key, status: 400 });
      const nested = `{"customer":"c","line":{"sku":"a","quantity":1,"${key}":{"x":1}}}`;
      const inner = await t.request
        .post('/t/orders')
        .set('content-type', 'application/json')
        .send(nested);
      expect({ key, status: inner.status }).toEqual({ key, status: 400 });
      const query = await t.request.get(`/t/page?limit=5&${key}[polluted]=1`);
      expect({ key, status: query.status }).toEqual({ key, status: 400 });
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('refuses NUL characters in strings (PostgreSQL refuses them in text) with 400 naming the field', async () => {
    await using t = await start();
    const body = { customer: 'c\u0000', line: { sku: 'a', quantity: 1 } };
    const res = await t.request.post('/t/orders').send(body).expect(400);
    expect(res.body.errors).toEqual([
      { pointer: '/customer', detail: 'must not contain NUL characters' },
    ]);
    const nested = { customer: 'c', line: { sku: 'a\u0000b', quantity: 1 } };
    const inner = await t.request.post('/t/orders').send(nested).expect(400);
    expect(inner.body.errors).toEqual([
      { pointer: '/line/sku', detail: 'must not contain NUL characters' },
    ]);
    await t.request.get('/t/page?limit=5%00').expect(400);
  });

  it('answers invalid bodies with 400 and one error per field, nested included', async () => {
    await using t = await start();
    const res = await t.request
      .post('/t/orders')
      .set('x-correlation-id', 'req-123')
      .send({ customer: 5, line: { sku: 'A', quantity: 0 }, extra: true })
      .expect(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({
      type: 'about:blank',
      title: 'Bad Request',
      status: 400,
      detail: 'Request validation failed',
      instance: '/t/orders',
      correlationId: 'req-123',
    });
    expect(res.body.errors).toEqual(
      expect.arrayContaining([
        { pointer: '/customer', detail: 'customer must be a string' },
        { pointer: '/line/quantity', detail: 'quantity must not be less than 1' },
        { pointer: '/extra', detail: 'property extra should not exist' },
      ]),
    );
  });

  it('transforms valid input into DTO instances', async () => {
    await using t = await start();
    await t.request
      .post('/t/orders')
      .send({ customer: 'c', line: { sku: 'A', quantity: 2 } })
      .expect(201, { ok: true });
    await t.request.get('/t/page?limit=20').expect(200, { limit: 20 });
    const res = await t.request.get('/t/page?limit=1000').expect(400);
    expect(res.body.errors).toEqual([
      { pointer: '/limit', detail: 'limit must not be greater than 100' },
    ]);
  });

  it('keeps the status, type and detail of HttpExceptions', async () => {
    await using t = await start();
    const res = await t.request.get('/t/conflict').expect(409);
    expect(res.body).toEqual({
      type: 'https://errors.example/conflict',
      title: 'Conflict',
      status: 409,
      detail: 'Order 7 was changed by someone else',
      instance: '/t/conflict',
    });
  });

  it('hides the cause of a 500: no message, no stack', async () => {
    await using t = await start();
    const res = await t.request.get('/t/boom').expect(500);
    expect(res.body).toEqual({
      type: 'about:blank',
      title: 'Internal Server Error',
      status: 500,
      instance: '/t/boom',
    });
    expect(res.text).not.toContain('hunter2');
  });

  it('ignores a correlation header that is not a safe token', async () => {
    await using t = await start();
    const res = await t.request
      .get('/t/conflict')
      .set('x-correlation-id', 'x'.repeat(200))
      .expect(409);
    expect(res.body.correlationId).toBeUndefined();
  });
});
