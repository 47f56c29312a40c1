import { readFileSync } from 'node:fs';
import type * as IORedis from 'ioredis';
import type { Redis, RedisOptions } from 'ioredis';
import { loadDriver } from './drivers.js';
import { maskUrlPassword } from './mask-url.js';
import type { RevealableSecret, SecretReference, SecretSource } from './secret-source.js';
import { withTimeout } from './with-timeout.js';

/**
 * ioredis 6 speaks RESP3 unless told otherwise; 5 (the line typeorm's peer range allows) only
 * speaks RESP2 and has no `protocol` option. Spread in, it pins RESP2 on both: plain replies
 * (MGET arrays, XREADGROUP `[[stream, entries]]`, pub/sub messages) on every server version.
 */
export const RESP2: object = { protocol: 2 };

/** Who opens a Redis connection, for its errors. */
export interface RedisClientOwner {
  /** Who opens it, in errors: `CachingModule`, `RedisTransport`... */
  owner: string;
  /** The option (and variable) the URL came from, in errors. @default 'the Redis URL' */
  source?: string;
  /** The feature named by a missing `ioredis` (`MissingDependencyError`). @default `${owner} Redis` */
  feature?: string;
  /** The error class of an unusable URL or a refused password. @default TypeError */
  configError?: new (message: string, options?: ErrorOptions) => Error;
  /** TLS of a `rediss://` URL: the CA that signed the server's certificate. @default Node's default CAs */
  tls?: RedisTlsSettings;
  /** The option (and variable) the TLS settings came from, in errors. @default 'the Redis TLS CA' */
  tlsSource?: string;
  /**
   * The password from a rotating secret instead of the URL's: the client (and every
   * `duplicate()` of it) connects with the secret's current value and re-authenticates each
   * reconnection with the value of the moment (see {@link followRedisPassword}). A secret the
   * source does not have fails with `configError`. @default the URL's password
   */
  password?: SecretReference;
  /** The option (and variable) the password secret came from, in errors. @default 'the Redis password secret' */
  passwordSource?: string;
}

/**
 * TLS settings of a `rediss://` connection (a `rediss://` URL alone already speaks TLS, verified
 * against Node's default CAs). The server's certificate is always verified: there is no option to
 * turn that off.
 */
export interface RedisTlsSettings {
  /** PEM certificate(s) of the CA to trust instead of Node's default CAs. */
  ca?: string | Buffer;
  /** Path of a PEM CA file (read once, when the client is created); wins over `ca`. */
  caFile?: string;
}

/** The `tls` option for ioredis, or undefined when none is configured. */
function tlsOptions(
  url: string,
  who: RedisClientOwner,
  ConfigError: NonNullable<RedisClientOwner['configError']>,
): { ca: string | Buffer } | undefined {
  const tls = who.tls;
  if (!tls || (tls.ca === undefined && !tls.caFile)) return undefined;
  const source = who.tlsSource ?? 'the Redis TLS CA';
  if (!/^rediss:\/\//i.test(url)) {
    throw new ConfigError(
      `${who.owner}: ${source} is set but ${who.source ?? 'the Redis URL'} is not a rediss:// URL (${maskUrlPassword(url)})`,
    );
  }
  if (!tls.caFile) return { ca: tls.ca! };
  try {
    return { ca: readFileSync(tls.caFile) };
  } catch (error) {
    throw new ConfigError(
      `${who.owner}: ${source}: cannot read ${tls.caFile} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
      { cause: error },
    );
  }
}

/**
 * A new ioredis client (ioredis loaded on demand through `loadDriver`: it is an optional driver)
 * with `options` over {@link RESP2}. Nothing else is set: the caller chooses its queueing,
 * retries and timeouts (e.g. a blocking reader wants no command timeout). A URL ioredis cannot use
 * fails with `configError` naming `source` and the URL without its password; so does a CA
 * (`who.tls`) beside a plain `redis://` URL, or a CA file that cannot be read.
 */
export async function createRedisClient(
  url: string,
  options: RedisOptions,
  who: RedisClientOwner,
): Promise<Redis> {
  const { Redis } = await loadDriver<typeof IORedis>(
    'ioredis',
    who.feature ?? `${who.owner} Redis`,
  );
  const ConfigError = who.configError ?? TypeError;
  const tls = tlsOptions(url, who, ConfigError);
  const password = who.password ? currentPassword(who, who.password, ConfigError) : undefined;
  let client: Redis;
  try {
    client = new Redis(url, {
      ...RESP2,
      ...options,
      ...(tls ? { tls } : {}),
      ...(password === undefined ? {} : { password }),
    });
  } catch (error) {
    throw new ConfigError(
      `${who.owner}: ${who.source ?? 'the Redis URL'} is not usable (${maskUrlPassword(url)}): ${(error as Error).message}`,
      { cause: error },
    );
  }
  if (who.password) followWithDuplicates(client, who.password);
  return client;
}

/** The secret's value now: the first connection authenticates with it. */
function currentPassword(
  who: RedisClientOwner,
  secret: SecretReference,
  ConfigError: NonNullable<RedisClientOwner['configError']>,
): string {
  const value = secret.secrets.get(secret.name);
  if (value === undefined) {
    throw new ConfigError(
      `${who.owner}: ${who.passwordSource ?? 'the Redis password secret'} names secret "${secret.name}", which the secrets provider does not have (set ${secret.name}_FILE or ${secret.name})`,
    );
  }
  return value.reveal();
}

/**
 * {@link followRedisPassword} for a client and each `duplicate()` made of it (subscribers,
 * blocking readers), each until it ends for good (`'end'`: closed, no more reconnections).
 */
function followWithDuplicates(client: Redis, secret: SecretReference): void {
  const off = followRedisPassword(client, secret.secrets, secret.name);
  client.once('end', off);
  const duplicate = client.duplicate.bind(client);
  client.duplicate = (override) => {
    const copy = duplicate(override);
    followWithDuplicates(copy, secret);
    return copy;
  };
}

/** Settings of a Redis connection opened by {@link openRedis}. */
export interface RedisConnectionSettings extends RedisClientOwner {
  url: string;
  connectTimeoutMs: number;
  /** Connection name shown by `CLIENT LIST`. */
  name: string;
  /** Bound of each command (ioredis `commandTimeout`). @default none */
  commandTimeoutMs?: number;
}

const AUTH_ERROR = /WRONGPASS|NOAUTH|invalid password|invalid username/i;

/** Node's codes for a server certificate that does not verify: configuration, not an outage. */
const TLS_TRUST_ERROR =
  /^(DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT(_LOCALLY)?|CERT_UNTRUSTED|CERT_SIGNATURE_FAILURE|CERT_HAS_EXPIRED|CERT_NOT_YET_VALID|ERR_TLS_CERT_ALTNAME_INVALID)$/;

/**
 * Opens an ioredis connection for a fail-fast user (the cache, the webhook replay store):
 * commands fail at once while disconnected (no offline queue: nothing queues behind an outage),
 * reconnects forever with a capped backoff, and waits up to `connectTimeoutMs` for the first
 * connection.
 *
 * A wrong password, a URL ioredis cannot use, or a server certificate that does not verify against
 * the CA (`tls`) fails with `configError` naming the `source` / `tlsSource`;
 * a server that is merely unreachable does not (the user starts degraded and recovers when Redis
 * comes back): `reachable` tells which.
 */
export async function openRedis(
  settings: RedisConnectionSettings,
): Promise<{ client: Redis; reachable: boolean; error?: Error }> {
  const client = await createRedisClient(
    settings.url,
    {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectTimeout: settings.connectTimeoutMs,
      connectionName: settings.name,
      ...(settings.commandTimeoutMs ? { commandTimeout: settings.commandTimeoutMs } : {}),
      retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2000),
    },
    settings,
  );
  // The reason (WRONGPASS, ECONNREFUSED...) arrives as an 'error' event; connect() only says
  // "Connection is closed".
  let lastError: Error | undefined;
  const remember = (e: Error) => (lastError = e);
  client.on('error', remember);
  try {
    await withTimeout(
      client.connect(),
      settings.connectTimeoutMs,
      `no connection within ${settings.connectTimeoutMs} ms`,
    );
    client.off('error', remember);
    client.on('error', () => {});
    return { client, reachable: true };
  } catch (caught) {
    client.off('error', remember);
    client.on('error', () => {});
    const error = lastError ?? (caught as Error);
    refuseMisconfigured(client, settings, error);
    // Unreachable: keep the client (it reconnects in the background); the caller runs degraded.
    if (client.status === 'wait') client.connect().catch(() => {});
    return { client, reachable: false, error };
  }
}

/**
 * A refused password or an untrusted server certificate is configuration, not an outage: the
 * client is disconnected and `configError` names the option. Anything else returns.
 */
function refuseMisconfigured(
  client: Pick<Redis, 'disconnect'>,
  settings: RedisClientOwner & { url: string },
  error: Error,
): void {
  const { owner } = settings;
  const ConfigError = settings.configError ?? TypeError;
  const message = error.message ?? String(error);
  if (AUTH_ERROR.test(message)) {
    client.disconnect();
    throw new ConfigError(
      `${owner}: ${settings.source ?? 'the Redis URL'} was refused by Redis at ${maskUrlPassword(settings.url)}: ${message}. Check the user and password.`,
      { cause: error },
    );
  }
  const code = (error as NodeJS.ErrnoException).code;
  if (typeof code === 'string' && TLS_TRUST_ERROR.test(code)) {
    client.disconnect();
    throw new ConfigError(
      `${owner}: the TLS certificate of Redis at ${maskUrlPassword(settings.url)} is not trusted (${message}); set the CA that signed it in ${settings.tlsSource ?? 'the Redis TLS CA'}`,
      { cause: error },
    );
  }
}

/**
 * Waits for a client that connects on its own (`lazyConnect: false`) to be ready or to fail its
 * first attempt, and fails like {@link openRedis} on a refused password or an untrusted server
 * certificate (`configError` naming the option). An unreachable server does not throw:
 * `reachable: false` (the client keeps reconnecting; the caller runs degraded).
 */
export async function firstRedisConnection(
  client: Redis,
  settings: RedisClientOwner & { url: string; timeoutMs?: number },
): Promise<{ reachable: boolean; error?: Error }> {
  if (client.status === 'ready') return { reachable: true };
  const error = await new Promise<Error | undefined>((resolve) => {
    const done = (e?: Error) => {
      clearTimeout(timer);
      client.off('ready', ready);
      client.off('error', done);
      resolve(e);
    };
    const ready = () => done();
    const timer = setTimeout(
      () => done(new Error(`no connection within ${settings.timeoutMs ?? 2000} ms`)),
      settings.timeoutMs ?? 2000,
    );
    client.once('ready', ready);
    client.once('error', done);
  });
  if (!error) return { reachable: true };
  refuseMisconfigured(client, settings, error);
  return { reachable: false, error };
}

/**
 * Keeps an ioredis client's password in step with a rotating secret (a `SecretsProvider` of the
 * security lib): the current value is applied now, and each rotation sets `client.options.password`,
 * which ioredis authenticates every (re)connection with. The live connection stays authenticated
 * (Redis does not log it out when `requirepass` or an ACL password changes); a reconnect after a
 * network blip or a server restart then uses the new password instead of being refused. The
 * password applies to the next connection: for a client that is already connected, call this
 * before it reconnects. A URL password is overridden. Returns the function that stops following.
 */
export function followRedisPassword(
  client: Redis,
  secrets: SecretSource,
  name: string,
): () => void {
  const apply = (secret: RevealableSecret | undefined) => {
    if (secret !== undefined) client.options.password = secret.reveal();
  };
  apply(secrets.get(name));
  return secrets.onChange(name, apply);
}

/** What {@link watchRedisConnection} logs through (a pino logger fits). */
export interface RedisOutageLog {
  warn(fields: object, message: string): void;
  info(message: string): void;
}

/**
 * Logs a client's connection trouble once per outage (warn, with the first error) and its
 * recovery (info). ioredis reconnects on its own; without an 'error' listener it would print
 * every failed reconnect to stderr. The URL, which may hold a password, is never logged.
 */
export function watchRedisConnection(
  client: Pick<Redis, 'on'>,
  log: RedisOutageLog,
  owner: string,
): void {
  let down = false;
  client.on('error', (error: Error) => {
    if (!down) log.warn({ err: error }, `${owner}: Redis connection error; reconnecting`);
    down = true;
  });
  client.on('ready', () => {
    if (down) log.info(`${owner}: Redis connection restored`);
    down = false;
  });
}
