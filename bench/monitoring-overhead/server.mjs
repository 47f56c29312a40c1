// One server for the monitoring-overhead bench. BENCH_MODE: bare | bare-als | monitoring | tracing |
// otel-stock.
// BENCH_ADAPTER: express | fastify. Prints "ready <port>" when listening.
import 'reflect-metadata';
import { Controller, Get, Module } from '@nestjs/common';

const mode = process.env.BENCH_MODE ?? 'bare';
if (mode === 'bare-als') {
  // Bare Nest with AsyncLocalStorage switched on: on Node 20 that alone installs promise hooks that
  // every request pays for; it is the floor of any per-request context (nestjs-cls, nestjs-pino).
  const { AsyncLocalStorage } = await import('node:async_hooks');
  new AsyncLocalStorage().enterWith({});
}
const adapterName = process.env.BENCH_ADAPTER ?? 'express';
// 'tracing' is ours as a user runs it: `--import @infrastructure/monitoring/tracing/register` with
// OTEL_EXPORTER_OTLP_ENDPOINT set (the SDK, its instrumentations, the OTLP exporter) plus the
// MonitoringModule's handler span. 'otel-stock' is bare Nest under `--import ./otel-stock.mjs`.
// index.mjs passes both flags through NODE_OPTIONS.

const { NestFactory } = await import('@nestjs/core');

class HelloController {
  hello() {
    return { hello: 'world' };
  }
}
Controller()(HelloController);
Get('hello')(
  HelloController.prototype,
  'hello',
  Object.getOwnPropertyDescriptor(HelloController.prototype, 'hello'),
);

const imports = [];
if (mode === 'monitoring' || mode === 'tracing') {
  const { pino } = await import('pino');
  const { MonitoringModule } = await import('@infrastructure/monitoring');
  imports.push(
    MonitoringModule.forRoot({
      environment: 'production',
      logging: {
        level: 'info',
        pretty: false,
        destination: pino.destination({ dest: '/dev/null', sync: false, minLength: 4096 }),
      },
      shutdown: { handleSignals: false },
      health: { disk: false },
    }),
  );
}
class AppModule {}
Module({ imports, controllers: [HelloController] })(AppModule);

const adapter =
  adapterName === 'fastify'
    ? new (await import('@nestjs/platform-fastify')).FastifyAdapter()
    : new (await import('@nestjs/platform-express')).ExpressAdapter();
const app = await NestFactory.create(AppModule, adapter, { logger: false });
if (mode === 'monitoring' || mode === 'tracing') {
  const { setupMonitoring } = await import('@infrastructure/monitoring');
  setupMonitoring(app);
}
await app.listen(0, '127.0.0.1');
console.log(`ready ${app.getHttpServer().address().port}`);
process.on('SIGTERM', () => process.exit(0)); // lets --cpu-prof write its profile
