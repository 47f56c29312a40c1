import type {
  INestApplication,
  ModuleMetadata,
  NestApplicationOptions,
  Type,
} from '@nestjs/common';
import type { AbstractHttpAdapter } from '@nestjs/core';
import { Test, type TestingModule, type TestingModuleBuilder } from '@nestjs/testing';
import supertest from 'supertest';
import { fastifyProblemOptions } from '@infrastructure/monitoring';

/** One provider replacement: `{ provide: EventBus, useValue: new MockEventBus() }`. */
export type ProviderOverride =
  | { provide: unknown; useValue: unknown }
  | { provide: unknown; useClass: Type<unknown> }
  | { provide: unknown; useFactory: (...args: any[]) => unknown; inject?: unknown[] };

/** Options of {@link createTestApp}. */
export interface CreateTestAppOptions {
  /** Providers to replace before compiling. @default [] */
  overrides?: readonly ProviderOverride[];
  /** Which HTTP adapter to run on. @default 'express' */
  adapter?: 'express' | 'fastify';
  /**
   * Serve HTTPS with this PEM key and certificate, on either adapter (Express: `httpsOptions`,
   * Fastify: the adapter's `https`). Trust the certificate in the client (`t.request.get(…).ca(cert)`).
   * @default undefined (plain HTTP)
   */
  https?: { key: string | Buffer; cert: string | Buffer };
  /** What `NestFactory.create` would get, e.g. `{ rawBody: true }` for webhook receivers. @default {} */
  appOptions?: NestApplicationOptions;
  /** Applies the app's global setup (filters, pipes, prefixes) — pass the same function `main.ts` uses. */
  configure?: (app: INestApplication) => unknown;
  /** Last chance to change the builder (e.g. `overrideGuard`). */
  customize?: (builder: TestingModuleBuilder) => TestingModuleBuilder;
}

/** An initialised app, its module and a supertest agent bound to it. Close it with `await using` or `close()`. */
export interface TestApp extends AsyncDisposable {
  readonly app: INestApplication;
  readonly module: TestingModule;
  /** supertest bound to the app's HTTP server: `await t.request.get('/health/live').expect(200)`. */
  readonly request: ReturnType<typeof supertest>;
  close(): Promise<void>;
}

async function createAdapter(
  kind: 'express' | 'fastify',
  https: CreateTestAppOptions['https'],
): Promise<AbstractHttpAdapter> {
  if (kind === 'fastify') {
    const { FastifyAdapter } = await import('@nestjs/platform-fastify');
    // As an app should build it: router errors (undecodable path, long parameter) as problems.
    return new FastifyAdapter({ ...fastifyProblemOptions(), ...(https ? { https } : {}) });
  }
  const { ExpressAdapter } = await import('@nestjs/platform-express');
  return new ExpressAdapter();
}

/**
 * Builds a Nest app for a test around `Test.createTestingModule`: applies provider overrides,
 * runs your app's global setup, initialises it (fastify `ready()` included) and returns it with a
 * supertest agent.
 *
 * @example
 * await using t = await createTestApp({ imports: [AppModule.forRoot()] }, {
 *   overrides: [{ provide: EventBus, useValue: new MockEventBus() }],
 *   configure: configureApp,
 * });
 * await t.request.get('/health/live').expect(200);
 */
export async function createTestApp(
  metadata: ModuleMetadata,
  options: CreateTestAppOptions = {},
): Promise<TestApp> {
  let builder = Test.createTestingModule(metadata);
  for (const override of options.overrides ?? []) {
    const o = builder.overrideProvider(override.provide);
    if ('useValue' in override) builder = o.useValue(override.useValue);
    else if ('useClass' in override) builder = o.useClass(override.useClass);
    else builder = o.useFactory({ factory: override.useFactory, inject: override.inject as never });
  }
  if (options.customize) builder = options.customize(builder);
  const module = await builder.compile();
  const kind = options.adapter ?? 'express';
  const app = module.createNestApplication(await createAdapter(kind, options.https), {
    ...options.appOptions,
    ...(options.https && kind === 'express' ? { httpsOptions: options.https } : {}),
  });
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await app.close();
  };
  try {
    await options.configure?.(app);
    await app.init();
    if (options.adapter === 'fastify') {
      await (app.getHttpAdapter().getInstance() as { ready(): Promise<unknown> }).ready();
    }
  } catch (error) {
    await close();
    throw error;
  }
  return {
    app,
    module,
    request: supertest(app.getHttpServer()),
    close,
    [Symbol.asyncDispose]: close,
  };
}
