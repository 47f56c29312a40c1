// The built sample API with some components switched off, for the full-stack bench's breakdown:
// the app is created the way its main does (createApp: configuration, adapter, configureApp), but
// its root module is compiled through `@nestjs/testing` with overrides, what a user does in tests.
// Nothing here exists in the sample for production: there is no env switch for any of these.
//
// BENCH_OFF: a comma-separated list of
//   auth        the AuthGuard replaced by an allow-all guard (no token check, no scopes)
//   ratelimit   the RateLimitGuard replaced by an allow-all guard
//   cache       OrderViews.find memoized in a plain Map (what bare.mjs answers from) instead of
//               the @Cacheable cache store
//   validation  no global ValidationPipe (configureApp option) and no ParseUUIDPipe on :id
//   helmet      no helmet security headers (configureApp option)
//   monitoring  the HttpObserver (correlation id, request context, RED metrics, access line)
//               replaced by a pass-through
// (empty: the full stack, built this way). Listens on PORT/HOST like main.
import 'reflect-metadata';
import { Test } from '@nestjs/testing';
import { AuthGuard, RateLimitGuard } from '@infrastructure/security';

const dist = new URL('../../dist/apps/sample-api/src/', import.meta.url);
const { createApp, listeningMessage } = await import(new URL('bootstrap.js', dist).href);
const { OrderViews } = await import(new URL('orders/application/ports/order-views.js', dist).href);
const { TypeOrmOrderViews } = await import(
  new URL('orders/infrastructure/typeorm-order-views.js', dist).href
);
const { OrdersController } = await import(new URL('orders/http/orders.controller.js', dist).href);
const { HttpObserver } = await import(
  new URL('../../../../libs/monitoring/dist/metrics/http-observer.js', dist).href
);

const KNOWN = ['auth', 'ratelimit', 'cache', 'validation', 'helmet', 'monitoring'];
const off = new Set((process.env.BENCH_OFF ?? '').split(',').filter(Boolean));
for (const name of off) {
  if (!KNOWN.includes(name)) throw new Error(`BENCH_OFF: unknown component ${name}`);
}

const allowAll = { canActivate: () => true };

/** OrderViews with `find` answered from a Map filled by the first read of each id (no cache lib). */
class MapOrderViews extends TypeOrmOrderViews {
  memo = new Map();
  async find(id) {
    const known = this.memo.get(id);
    if (known) return known;
    const view = await this.current(id);
    if (view) this.memo.set(id, view);
    return view;
  }
}

if (off.has('validation')) {
  // The route's ParseUUIDPipe is an instance in the param metadata: drop it there.
  const ROUTE_ARGS = '__routeArguments__';
  const args = Reflect.getMetadata(ROUTE_ARGS, OrdersController, 'get');
  const stripped = Object.fromEntries(
    Object.entries(args).map(([k, a]) => [k, { ...a, pipes: [] }]),
  );
  Reflect.defineMetadata(ROUTE_ARGS, stripped, OrdersController, 'get');
}

const created = await createApp(
  {},
  {
    securityHeaders: !off.has('helmet'),
    validation: !off.has('validation'),
    compile: async (root) => {
      let builder = Test.createTestingModule({ imports: [root] });
      // Providers (the global APP_GUARDs are `useExisting` them), so overrideProvider: Nest's
      // overrideGuard replaces only guards named in @UseGuards().
      if (off.has('auth')) builder = builder.overrideProvider(AuthGuard).useValue(allowAll);
      if (off.has('ratelimit')) {
        builder = builder.overrideProvider(RateLimitGuard).useValue(allowAll);
      }
      if (off.has('cache')) builder = builder.overrideProvider(OrderViews).useClass(MapOrderViews);
      if (off.has('monitoring')) {
        builder = builder.overrideProvider(HttpObserver).useValue({
          refusing: false,
          handle: (req, res, next) => next(),
        });
      }
      return builder.compile();
    },
  },
);
const { port, host } = created.config.values.http;
await created.app.listen(port, host);
console.log(`${listeningMessage(created)}; off: ${[...off].join(', ') || 'nothing'}`);
