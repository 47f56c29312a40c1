import 'reflect-metadata';
import * as swagger from '@nestjs/swagger';
import { HealthCheck } from '@nestjs/terminus';
import { describe, expect, it } from 'vitest';
import * as ours from './openapi.js';

/** Every `swagger/*` key and value on a class and its methods. */
function swaggerMetadata(cls: abstract new () => unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const collect = (where: string, target: object) => {
    for (const key of Reflect.getOwnMetadataKeys(target)) {
      if (typeof key === 'string' && key.startsWith('swagger/')) {
        out[`${where} ${key}`] = Reflect.getOwnMetadata(key, target);
      }
    }
  };
  collect('class', cls);
  for (const name of Object.getOwnPropertyNames(cls.prototype)) {
    const value = (cls.prototype as Record<string, unknown>)[name];
    if (name !== 'constructor' && typeof value === 'function') collect(name, value);
  }
  return out;
}

type FourDecorators = Pick<
  typeof ours,
  'ApiTags' | 'ApiExcludeController' | 'ApiOkResponse' | 'ApiServiceUnavailableResponse'
>;

function decorated(api: FourDecorators) {
  @api.ApiTags('health', 'probes')
  class Health {
    @api.ApiOkResponse({ description: 'alive' })
    live(): void {}

    @api.ApiOkResponse({ description: 'ready' })
    @api.ApiServiceUnavailableResponse({ description: 'not ready' })
    @api.ApiOkResponse({ description: 'and again' })
    ready(): void {}
  }
  @api.ApiExcludeController()
  class Metrics {
    scrape(): void {}
  }
  return { Health, Metrics };
}

describe('monitoring OpenAPI decorators', () => {
  it('write the metadata @nestjs/swagger’s decorators of the same name write', () => {
    const real = decorated(swagger);
    const mine = decorated(ours);
    expect(swaggerMetadata(mine.Health)).toEqual(swaggerMetadata(real.Health));
    expect(swaggerMetadata(mine.Metrics)).toEqual(swaggerMetadata(real.Metrics));
    // not vacuous: the keys are there
    expect(Object.keys(swaggerMetadata(mine.Health))).toEqual([
      'class swagger/apiUseTags',
      'live swagger/apiResponse',
      'ready swagger/apiResponse',
    ]);
  });

  it('document a health check as terminus’s @HealthCheck() does with @nestjs/swagger', () => {
    class WithTerminus {
      @HealthCheck()
      @swagger.ApiOkResponse({ description: 'The process is alive.' })
      live(): void {}

      @HealthCheck()
      @swagger.ApiServiceUnavailableResponse({ description: 'Not ready.' })
      ready(): void {}
    }
    class WithOurs {
      @HealthCheck({ noCache: true, swaggerDocumentation: false })
      @ours.HealthCheckResponses()
      @ours.ApiOkResponse({ description: 'The process is alive.' })
      live(): void {}

      @HealthCheck({ noCache: true, swaggerDocumentation: false })
      @ours.HealthCheckResponses()
      @ours.ApiServiceUnavailableResponse({ description: 'Not ready.' })
      ready(): void {}
    }
    const real = swaggerMetadata(WithTerminus);
    expect(Object.keys(real)).toEqual(['live swagger/apiResponse', 'ready swagger/apiResponse']);
    expect(swaggerMetadata(WithOurs)).toEqual(real);
    // the same key order too: the document's JSON is written in it
    expect(JSON.stringify(swaggerMetadata(WithOurs))).toBe(JSON.stringify(real));
  });

  it('put the health routes in a document @nestjs/swagger builds', async () => {
    const { Controller, Get, Module } = await import('@nestjs/common');
    const { NestFactory } = await import('@nestjs/core');
    @Controller('health')
    @ours.ApiTags('health')
    class HealthController {
      @Get('live')
      @ours.ApiOkResponse({ description: 'The process is alive.' })
      live(): string {
        return 'ok';
      }
    }
    @Controller('metrics')
    @ours.ApiExcludeController()
    class MetricsController {
      @Get()
      scrape(): string {
        return '';
      }
    }
    @Module({ controllers: [HealthController, MetricsController] })
    class AppModule {}
    const app = await NestFactory.create(AppModule, { logger: false });
    try {
      const doc = swagger.SwaggerModule.createDocument(
        app,
        new swagger.DocumentBuilder().setTitle('t').build(),
      );
      expect(Object.keys(doc.paths)).toEqual(['/health/live']);
      expect(doc.paths['/health/live']?.get?.tags).toEqual(['health']);
      expect(doc.paths['/health/live']?.get?.responses).toEqual({
        200: { description: 'The process is alive.' },
      });
    } finally {
      await app.close();
    }
  });
});
