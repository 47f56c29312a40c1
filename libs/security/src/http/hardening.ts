import { readFileSync } from 'node:fs';
import type { INestApplication } from '@nestjs/common';
import helmet, { type HelmetOptions } from 'helmet';

/** HTTP hardening of `setupSecurity(app, options)`. */
export interface HttpHardeningOptions {
  /** helmet's security headers (CSP, HSTS, nosniff, frameguard, …); `false` turns them off. @default {} (helmet defaults) */
  helmet?: HelmetOptions | false;
  /** Origins allowed to call the API from browsers (exact match); empty = CORS off. @default [] */
  corsOrigins?: readonly string[];
  /** Send credentials (cookies) cross-origin to the allowed origins. @default false */
  corsCredentials?: boolean;
  /**
   * Timeouts of the HTTP server under either adapter (Node's `http.Server`); `false` leaves
   * Node's and the adapter's own. A client that sends its headers too slowly (slowloris) or its
   * whole request too slowly gets 408 and its socket closed.
   * @default { headersTimeoutMs: 20_000, requestTimeoutMs: 60_000, keepAliveTimeoutMs: 5_000 }
   */
  serverTimeouts?: ServerTimeouts | false;
}

/** See {@link HttpHardeningOptions.serverTimeouts}. */
export interface ServerTimeouts {
  /** Longest time to receive a request's headers. @default 20_000 */
  headersTimeoutMs?: number;
  /** Longest time to receive a whole request (headers and body); at least `headersTimeoutMs`. @default 60_000 */
  requestTimeoutMs?: number;
  /**
   * How long an idle kept-alive connection stays open. Behind a load balancer, set it above the
   * balancer's idle timeout (e.g. 65_000 behind an AWS ALB's 60 s) so it never reuses a
   * connection this side has just closed. @default 5_000
   */
  keepAliveTimeoutMs?: number;
}

interface TimeoutsOfServer {
  headersTimeout: number;
  requestTimeout: number;
  keepAliveTimeout: number;
  connectionsCheckingInterval: number;
}

function applyServerTimeouts(app: INestApplication, timeouts: ServerTimeouts): void {
  const headers = timeouts.headersTimeoutMs ?? 20_000;
  const request = Math.max(timeouts.requestTimeoutMs ?? 60_000, headers);
  const server = app.getHttpServer() as Partial<TimeoutsOfServer> | undefined;
  if (!server || typeof server.headersTimeout !== 'number') return;
  server.headersTimeout = headers;
  server.requestTimeout = request;
  server.keepAliveTimeout = timeouts.keepAliveTimeoutMs ?? 5_000;
  // Node checks both deadlines on this interval (30 s by default, read when the server starts
  // listening): a quarter of the shorter one keeps a deadline within 25 % of what it says.
  server.connectionsCheckingInterval = Math.max(50, Math.min(30_000, Math.floor(headers / 4)));
}

/**
 * Applies helmet's headers, a CORS allowlist and the HTTP server's timeouts to the app (Express or
 * Fastify). Call it where you call `setupMonitoring(app)`, before `listen`. Origins not on the list get no CORS headers (the browser
 * blocks them); `*` is never used.
 */
export function setupSecurity(
  app: INestApplication,
  options: HttpHardeningOptions = {},
): INestApplication {
  if (options.helmet !== false) app.use(helmet(options.helmet ?? {}));
  if (options.serverTimeouts !== false) applyServerTimeouts(app, options.serverTimeouts ?? {});
  const origins = new Set(options.corsOrigins ?? []);
  if (origins.size > 0) {
    app.enableCors({
      origin: (origin: string | undefined, done: (error: Error | null, allow?: boolean) => void) =>
        done(null, origin !== undefined && origins.has(origin)),
      credentials: options.corsCredentials ?? false,
      maxAge: 600,
    });
  }
  return app;
}

function read(name: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new TypeError(`${name}: cannot read ${path} (${(error as Error).message})`, {
      cause: error,
    });
  }
}

/**
 * `httpsOptions` for `NestFactory.create` (Express) or `https` for the FastifyAdapter, read from
 * PEM files; undefined when no certificate is configured (plain HTTP, e.g. behind a TLS-terminating
 * proxy). A missing or unreadable file fails the boot naming it.
 */
export function tlsOptionsFrom(files: {
  certFile?: string;
  keyFile?: string;
  caFile?: string;
}): { cert: Buffer; key: Buffer; ca?: Buffer } | undefined {
  if (!files.certFile && !files.keyFile) return undefined;
  if (!files.certFile || !files.keyFile) {
    throw new TypeError('TLS needs both TLS_CERT_FILE and TLS_KEY_FILE');
  }
  return {
    cert: read('TLS_CERT_FILE', files.certFile),
    key: read('TLS_KEY_FILE', files.keyFile),
    ...(files.caFile ? { ca: read('TLS_CA_FILE', files.caFile) } : {}),
  };
}
