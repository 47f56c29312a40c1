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
}

/**
 * Applies helmet's headers and a CORS allowlist to the app (Express or Fastify). Call it where
 * you call `setupMonitoring(app)`. Origins not on the list get no CORS headers (the browser
 * blocks them); `*` is never used.
 */
export function setupSecurity(
  app: INestApplication,
  options: HttpHardeningOptions = {},
): INestApplication {
  if (options.helmet !== false) app.use(helmet(options.helmet ?? {}));
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
