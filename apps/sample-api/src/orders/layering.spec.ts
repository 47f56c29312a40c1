import { readdirSync, readFileSync } from 'node:fs';
import { dirname, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The orders module's layers (docs/architecture.md, "The sample's shape"): `domain/` knows no
 * framework, `application/` knows ports, not adapters, and nothing in orders/ knows the modules
 * that react to orders (payments, webhooks import OrdersModule, never the reverse).
 */
const orders = dirname(fileURLToPath(import.meta.url));
const src = resolve(orders, '..');

/** Packages a layer must not import, by layer. */
const FORBIDDEN_PACKAGES: Record<string, RegExp> = {
  domain:
    /^(@nestjs\/|typeorm$|@infrastructure\/persistence$|express$|fastify$|class-validator$|class-transformer$|node:http)/,
  application: /^(typeorm$|@nestjs\/typeorm$)/,
};

/** Folders (relative to src/) a layer must not import from, by layer. */
const FORBIDDEN_FOLDERS: Record<string, readonly string[]> = {
  domain: ['orders/application', 'orders/infrastructure', 'orders/http'],
  application: ['orders/infrastructure', 'orders/http'],
  '': ['payments', 'webhooks'],
};

const SPECIFIER =
  /(?:^|[\s;])(?:import|export)\s[^'"]*?from\s*'([^']+)'|import\s*\(\s*'([^']+)'\s*\)|^import\s+'([^']+)'/gm;

/** Every import specifier of a source text. */
function specifiers(text: string): string[] {
  return [...text.matchAll(SPECIFIER)].map((m) => (m[1] ?? m[2] ?? m[3])!);
}

/** The wrong imports of one file (path relative to src/), given its text. */
function violations(file: string, text: string): string[] {
  const layer = file.split('/')[1] ?? '';
  const wrong: string[] = [];
  for (const spec of specifiers(text)) {
    if (!spec.startsWith('.')) {
      if (FORBIDDEN_PACKAGES[layer]?.test(spec)) wrong.push(`${file} imports ${spec}`);
      continue;
    }
    const target = relative(src, resolve(src, dirname(file), spec))
      .split(sep)
      .join('/');
    const folders = [...(FORBIDDEN_FOLDERS[layer] ?? []), ...FORBIDDEN_FOLDERS['']!];
    if (folders.some((f) => target === f || target.startsWith(`${f}/`))) {
      wrong.push(`${file} imports ${spec}`);
    }
  }
  return wrong;
}

function sources(): string[] {
  return readdirSync(orders, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.spec.ts'))
    .map((e) => relative(src, `${e.parentPath}/${e.name}`).split(sep).join('/'));
}

describe('orders layering', () => {
  const files = sources();

  it('finds the layers', () => {
    const layers = new Set(files.map((f) => f.split('/')[1]));
    expect(
      [...layers]
        .filter((l) => ['domain', 'application', 'infrastructure', 'http'].includes(l!))
        .sort(),
    ).toEqual(['application', 'domain', 'http', 'infrastructure']);
  });

  it('keeps domain/ free of Nest, TypeORM and HTTP, application/ free of adapters, orders/ free of its consumers', () => {
    const wrong = files.flatMap((f) => violations(f, readFileSync(resolve(src, f), 'utf8')));
    expect(wrong).toEqual([]);
  });

  it('would catch each kind of wrong import (the check itself)', () => {
    const text = [
      "import { Injectable } from '@nestjs/common';",
      "import { Column } from 'typeorm';",
      "import type { OrderDto } from '../http/orders.dto.js';",
      "import { OrderStreams } from '../infrastructure/order.streams.js';",
      "export { PaymentsHandler } from '../../payments/payments.handler.js';",
      "const m = await import('../../webhooks/order-webhooks.handler.js');",
    ].join('\n');
    expect(violations('orders/domain/order.aggregate.ts', text)).toEqual([
      'orders/domain/order.aggregate.ts imports @nestjs/common',
      'orders/domain/order.aggregate.ts imports typeorm',
      'orders/domain/order.aggregate.ts imports ../http/orders.dto.js',
      'orders/domain/order.aggregate.ts imports ../infrastructure/order.streams.js',
      'orders/domain/order.aggregate.ts imports ../../payments/payments.handler.js',
      'orders/domain/order.aggregate.ts imports ../../webhooks/order-webhooks.handler.js',
    ]);
    expect(violations('orders/application/place-order.use-case.ts', text)).toEqual([
      'orders/application/place-order.use-case.ts imports typeorm',
      'orders/application/place-order.use-case.ts imports ../http/orders.dto.js',
      'orders/application/place-order.use-case.ts imports ../infrastructure/order.streams.js',
      'orders/application/place-order.use-case.ts imports ../../payments/payments.handler.js',
      'orders/application/place-order.use-case.ts imports ../../webhooks/order-webhooks.handler.js',
    ]);
    const moduleText = [
      "import { Injectable } from '@nestjs/common';",
      "import { PaymentsHandler } from '../payments/payments.handler.js';",
      "import { orderWebhooksProvider } from '../webhooks/order-webhooks.handler.js';",
      "import { OrdersController } from './http/orders.controller.js';",
    ].join('\n');
    expect(violations('orders/orders.module.ts', moduleText)).toEqual([
      'orders/orders.module.ts imports ../payments/payments.handler.js',
      'orders/orders.module.ts imports ../webhooks/order-webhooks.handler.js',
    ]);
  });
});
