import {
  type DynamicModule,
  type INestApplication,
  type NestApplicationOptions,
} from '@nestjs/common';
import type { AbstractHttpAdapter } from '@nestjs/core';
import { HttpAdapterHost, NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import {
  appConfig,
  loadConfiguration,
  type ConfigOf,
  type ConfigurationModuleOptions,
  type LoadedConfiguration,
} from '@infrastructure/configuration';
import {
  createValidationPipe,
  fastifyProblemOptions,
  JsonNestLogger,
  ProblemDetailsFilter,
  setupMonitoring,
} from '@infrastructure/monitoring';
import {
  SECURITY_OPTIONS,
  setupSecurity,
  tlsOptionsFrom,
  type SecurityOptions,
} from '@infrastructure/security';
import { AppModule } from './app.module.js';
import { definitions, docsConfig } from './config.js';
import { loadOpenApi } from './openapi.js';

/** Request bodies above this size are refused with 413. */
const BODY_LIMIT_BYTES = 1_048_576;

/**
 * Pieces of {@link configureApp} a test can leave out (the full-stack bench measures what each
 * costs by switching it off). Everything is on by default; `main` passes nothing, and there is no
 * environment variable for these.
 */
export interface ConfigureAppOptions {
  /** helmet's security headers (default true). */
  securityHeaders?: boolean;
  /** The global ValidationPipe (default true); the routes' own pipes stay. */
  validation?: boolean;
}

/**
 * The HTTP contract every instance of the app shares, in production and in tests:
 * problem+json errors, validation, OpenAPI at /docs (unless DOCS_ENABLED says otherwise; off by
 * default in production).
 */
export async function configureApp(
  app: INestApplication,
  options: ConfigureAppOptions = {},
): Promise<INestApplication> {
  setupMonitoring(app);
  const http = app.get<SecurityOptions>(SECURITY_OPTIONS).http;
  setupSecurity(app, options.securityHeaders === false ? { ...http, helmet: false } : http);
  app.useGlobalFilters(new ProblemDetailsFilter(app.get(HttpAdapterHost)));
  if (options.validation !== false) app.useGlobalPipes(createValidationPipe());
  const docs = app.get<ConfigOf<typeof docsConfig>>(docsConfig.KEY);
  const { nodeEnv } = app.get<ConfigOf<typeof appConfig>>(appConfig.KEY);
  if (!(docs.enabled ?? nodeEnv !== 'production')) return app;
  // @nestjs/swagger is loaded (and the routes' OpenAPI decorators applied) only when docs are on;
  // the document is built on the first request of /docs (a factory): faster start, less memory.
  const { DocumentBuilder, SwaggerModule } = await loadOpenApi();
  const document = () =>
    SwaggerModule.createDocument(
      app,
      new DocumentBuilder()
        .setTitle('sample-api')
        .setDescription('A small real service built on the @infrastructure/* libs.')
        .setVersion('0.1.0')
        .addBearerAuth()
        .build(),
    );
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json' });
  return app;
}

/** The validated configuration plus the app built from it. */
export interface CreatedApp {
  app: INestApplication;
  config: LoadedConfiguration<ReturnType<typeof loadSampleConfig>['values']>;
  /** Served over HTTPS (TLS_CERT_FILE + TLS_KEY_FILE). */
  secure: boolean;
}

/**
 * The line logged once the app listens: its URL (`https://` when TLS is on), adapter and
 * environment. The port is the one the server is bound to (the configured one, or the port the
 * system chose for 0).
 */
export function listeningMessage({ app, config, secure }: CreatedApp): string {
  const { host, adapter } = config.values.http;
  const bound = app.getHttpServer().address() as { port: number } | string | null;
  const port = bound && typeof bound === 'object' ? bound.port : config.values.http.port;
  const shown = host === '0.0.0.0' || host === '::' ? 'localhost' : host;
  return (
    `sample-api listening on ${secure ? 'https' : 'http'}://${shown}:${port} ` +
    `(${adapter}, NODE_ENV=${config.values.app.nodeEnv}); docs at /docs`
  );
}

/** Loads and validates the sample API's configuration (throws ConfigValidationError). */
export function loadSampleConfig(options: ConfigurationModuleOptions = {}) {
  return loadConfiguration(definitions, options);
}

/** How {@link createApp} builds the app; by default as `main` does. */
export interface CreateAppOptions extends ConfigureAppOptions {
  /**
   * Compiles the root module instead of `NestFactory.create`, e.g. through
   * `Test.createTestingModule({ imports: [root] })` with overrides (what the full-stack bench's
   * breakdown does); the app is then created on the same adapter and options.
   */
  compile?: (root: DynamicModule) => Promise<{
    createNestApplication(
      adapter: AbstractHttpAdapter,
      options: NestApplicationOptions,
    ): INestApplication;
  }>;
}

/**
 * Validates configuration, picks the HTTP adapter from `HTTP_ADAPTER` and creates the app.
 * @throws ConfigValidationError before anything starts when configuration is invalid.
 */
export async function createApp(
  options: ConfigurationModuleOptions = {},
  create: CreateAppOptions = {},
): Promise<CreatedApp> {
  const config = loadSampleConfig(options);
  // TLS_CERT_FILE + TLS_KEY_FILE: HTTPS (else plain HTTP, e.g. behind a TLS-terminating proxy).
  const tls = tlsOptionsFrom({
    certFile: config.values.security.tlsCertFile,
    keyFile: config.values.security.tlsKeyFile,
  });
  // Only the chosen adapter is loaded: each costs ~120 ms of startup.
  const adapter =
    config.values.http.adapter === 'fastify'
      ? new (await import('@nestjs/platform-fastify')).FastifyAdapter({
          bodyLimit: BODY_LIMIT_BYTES,
          // Its router's own errors (an undecodable path, a long parameter) as problems too.
          ...fastifyProblemOptions(),
          ...(tls ? { https: tls } : {}),
        })
      : new (await import('@nestjs/platform-express')).ExpressAdapter();
  const nestOptions: NestApplicationOptions = {
    abortOnError: false,
    bodyParser: true,
    bufferLogs: true,
    // JSON from the first line, also when the app fails to start (Nest then flushes its buffer).
    logger: new JsonNestLogger(),
    ...(tls && config.values.http.adapter === 'express' ? { httpsOptions: tls } : {}),
  };
  const root = AppModule.forRoot(options);
  const app = create.compile
    ? (await create.compile(root)).createNestApplication(adapter, nestOptions)
    : await NestFactory.create(root, adapter, nestOptions);
  if (config.values.http.adapter === 'express') {
    (app as NestExpressApplication).useBodyParser('json', { limit: BODY_LIMIT_BYTES });
  }
  await configureApp(app, create);
  return { app, config, secure: tls !== undefined };
}
