// The baseline of the full-stack bench: a bare Nest app (no auth, no cache lib, no monitoring)
// answering `GET /v1/orders/:id` with the JSON of BENCH_ORDERS_FILE (an array of orders, as the
// sample API answered them) from a Map, 404 for any other id. BENCH_ADAPTER: express | fastify.
// Prints "ready <port>" when listening.
import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { Controller, Get, Module, NotFoundException, Param } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';

const orders = new Map(
  JSON.parse(readFileSync(process.env.BENCH_ORDERS_FILE, 'utf8')).map((o) => [o.id, o]),
);

class OrdersController {
  get(id) {
    const order = orders.get(id);
    if (!order) throw new NotFoundException();
    return order;
  }
}
Controller('v1/orders')(OrdersController);
Get(':id')(
  OrdersController.prototype,
  'get',
  Object.getOwnPropertyDescriptor(OrdersController.prototype, 'get'),
);
Param('id')(OrdersController.prototype, 'get', 0);

class AppModule {}
Module({ controllers: [OrdersController] })(AppModule);

const adapter =
  process.env.BENCH_ADAPTER === 'fastify'
    ? new (await import('@nestjs/platform-fastify')).FastifyAdapter()
    : new (await import('@nestjs/platform-express')).ExpressAdapter();
const app = await NestFactory.create(AppModule, adapter, { logger: false });
await app.listen(0, '127.0.0.1');
console.log(`ready ${app.getHttpServer().address().port}`);
process.on('SIGTERM', () => process.exit(0)); // lets --cpu-prof write its profile
