// Baseline: the smallest Nest 12 app with one GET /health/live route, no decorators compiled.
import 'reflect-metadata';
import { Controller, Get, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';

class Health {
  live() {
    return { status: 'ok' };
  }
}
Controller('health')(Health);
Get('live')(Health.prototype, 'live', Object.getOwnPropertyDescriptor(Health.prototype, 'live'));
class App {}
Module({ controllers: [Health] })(App);

const app = await NestFactory.create(App, { logger: false });
await app.listen(Number(process.env.PORT), '127.0.0.1');
