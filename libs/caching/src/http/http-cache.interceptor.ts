import {
  Injectable,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { RouteMemo } from '@infrastructure/core';
import { Observable, tap, type Subscription } from 'rxjs';
import { CacheStore } from '../cache-store.js';
import { CACHE_RESPONSE, type CacheResponseOptions } from './cache-response.decorator.js';

interface HttpRequest {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  user?: { id?: unknown; sub?: unknown };
}

interface HttpResponse {
  statusCode: number;
  getHeader(name: string): unknown;
  setHeader?(name: string, value: string): unknown;
  header?(name: string, value: string): unknown;
}

function setHeader(res: HttpResponse, name: string, value: string): void {
  if (typeof res.header === 'function') res.header(name, value);
  else res.setHeader?.(name, value);
}

function defaultIdentity(req: HttpRequest): string | undefined {
  const id = req.user?.id ?? req.user?.sub;
  return id === undefined || id === null ? undefined : String(id);
}

/** `path?sorted&query`: the same query in another order is the same entry. */
export function requestCacheKey(url: string, identity: string | undefined): string {
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  let query = '';
  if (q >= 0) {
    const params = [...new URLSearchParams(url.slice(q + 1))].sort(([a], [b]) =>
      a < b ? -1 : a > b ? 1 : 0,
    );
    query = new URLSearchParams(params).toString();
  }
  return `http:${path}${query ? `?${query}` : ''}|u:${identity ?? '-'}`;
}

/**
 * Caches the bodies of successful GET responses of routes marked `@CacheResponse()`, keyed by
 * path + sorted query + user. Never shares a response between users: the user's id is part of the
 * key, and a request with credentials (`Authorization`, `Cookie`) whose user is unknown is not
 * cached at all. Honours the request's `Cache-Control: no-cache` (skip the cached copy, refresh it)
 * and `no-store` (bypass), and the response's `Cache-Control: no-store` (not stored) and `private` (stored per user only).
 * Sets `X-Cache: HIT|MISS`. Only 200 responses are stored; headers are not.
 */
@Injectable()
export class HttpCacheInterceptor implements NestInterceptor {
  /** A route's `@CacheResponse()` options (`null`: not cached), read once per class+handler. */
  private readonly routes: RouteMemo<CacheResponseOptions | null>;

  constructor(
    private readonly cache: CacheStore,
    reflector: Reflector,
  ) {
    this.routes = new RouteMemo(
      (classRef, handler) =>
        reflector.getAllAndOverride<CacheResponseOptions | undefined>(CACHE_RESPONSE, [
          handler as () => unknown,
          classRef as new () => unknown,
        ]) ?? null,
    );
  }

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const options = this.routes.get(context.getClass(), context.getHandler());
    const http = context.switchToHttp();
    const req = http.getRequest<HttpRequest>();
    if (!options || req.method !== 'GET') return next.handle();
    const directives = String(req.headers['cache-control'] ?? '').toLowerCase();
    if (directives.includes('no-store')) return next.handle();
    const identity = (options.vary ?? defaultIdentity)(req);
    const credentials = req.headers.authorization !== undefined || req.headers.cookie !== undefined;
    if (credentials && identity === undefined) return next.handle();
    const res = http.getResponse<HttpResponse>();
    const key = requestCacheKey(req.url, identity);
    const skipRead = directives.includes('no-cache') || req.headers.pragma === 'no-cache';
    const miss = (): Observable<unknown> => {
      setHeader(res, 'X-Cache', 'MISS');
      return next.handle().pipe(
        tap((body) => {
          if (body === undefined || res.statusCode !== 200) return;
          const control = String(res.getHeader('cache-control') ?? '').toLowerCase();
          if (control.includes('no-store')) return;
          // `private`: for one user only; stored only when the key names that user.
          if (control.includes('private') && identity === undefined) return;
          this.cache.set(key, body, { ttlMs: options.ttlMs, tags: options.tags }).catch(() => {});
        }),
      );
    };
    if (skipRead) return miss();
    // One Observable around the read (what `from(get).pipe(switchMap(…))` did, ~2 µs a request
    // cheaper on a hit): the hit is emitted as it is, a miss runs the handler.
    return new Observable<unknown>((subscriber) => {
      let handler: Subscription | undefined;
      let unsubscribed = false;
      this.cache.get(key).then(
        (hit) => {
          if (unsubscribed) return;
          if (hit === undefined) {
            handler = miss().subscribe(subscriber);
            return;
          }
          setHeader(res, 'X-Cache', 'HIT');
          subscriber.next(hit);
          subscriber.complete();
        },
        (error: unknown) => subscriber.error(error),
      );
      return () => {
        unsubscribed = true;
        handler?.unsubscribe();
      };
    });
  }
}
