import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Test } from '@nestjs/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CacheStore,
  CachingConfigError,
  CachingModule,
  cachingConfig,
  cachingOptionsFrom,
} from '@infrastructure/caching';
import { loadConfiguration } from '@infrastructure/configuration';
import { messagingConfig, messagingOptionsFrom, RedisTransport } from '@infrastructure/messaging';
import { MonitoringModule } from '@infrastructure/monitoring';
import { JwtManager, RedisRevocationStore, SecurityModule } from '@infrastructure/security';
import { bootTestingModule, testMonitoringOptions } from '@infrastructure/testing';
import {
  generateWebhookSecret,
  WebhookReplayStore,
  webhooksConfig,
  WebhooksConfigError,
  WebhooksModule,
  webhooksOptionsFrom,
} from '@infrastructure/webhooks';

// A Redis of this file's own that speaks TLS only (`--port 0`: no plaintext port), with a
// self-signed certificate made here: nothing connects to it unless it trusts that certificate.
const dir = mkdtempSync(join(tmpdir(), 'redis-tls-'));
const certFile = join(dir, 'cert.pem');
const keyFile = join(dir, 'key.pem');
let server: ChildProcess;
let url: string;

async function freePort(): Promise<number> {
  const probe = createServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

beforeAll(async () => {
  // prettier-ignore
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
    '-keyout', keyFile, '-out', certFile,
  ], { stdio: 'ignore' });
  const port = await freePort();
  url = `rediss://127.0.0.1:${port}`;
  // prettier-ignore
  server = spawn('redis-server', [
    '--port', '0', '--tls-port', String(port), '--bind', '127.0.0.1',
    '--tls-cert-file', certFile, '--tls-key-file', keyFile, '--tls-ca-cert-file', certFile,
    '--tls-auth-clients', 'no', '--save', '', '--appendonly', 'no', '--dir', dir,
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  // Ready when it says so in its log (stdout), not after a guessed delay.
  await new Promise<void>((resolve, reject) => {
    let log = '';
    const onData = (chunk: Buffer) => {
      log += chunk.toString();
      if (log.includes('Ready to accept connections')) resolve();
    };
    server.stdout!.on('data', onData);
    server.stderr!.on('data', onData);
    server.once('exit', (code) => reject(new Error(`redis-server exited (${code}):\n${log}`)));
  });
});

afterAll(async () => {
  if (server && server.exitCode === null) {
    const exited = once(server, 'exit');
    server.kill('SIGTERM');
    await exited;
  }
  rmSync(dir, { recursive: true, force: true });
});

const config = <D extends typeof cachingConfig | typeof messagingConfig | typeof webhooksConfig>(
  def: D,
  env: Record<string, string>,
) => loadConfiguration([def], { env, envFiles: false }).get(def);

describe('the cache over rediss://', () => {
  it('stores in the TLS Redis through CachingModule, trusting the CA from REDIS_TLS_CA_FILE', async () => {
    const prefix = `tls-${randomUUID().slice(0, 8)}:`;
    const options = cachingOptionsFrom(
      config(cachingConfig, {
        REDIS_URL: url,
        REDIS_TLS_CA_FILE: certFile,
        CACHE_KEY_PREFIX: prefix,
      }),
    );
    const ref = await Test.createTestingModule({
      imports: [CachingModule.forRoot({ ...options, health: { enabled: false } })],
    }).compile();
    await ref.init();
    try {
      const cache = ref.get(CacheStore);
      await cache.set('k', { over: 'tls' });
      expect(await cache.get('k')).toEqual({ over: 'tls' });
      // Really in the TLS server (the only Redis on that port).
      const admin = new Redis(url, { tls: { ca: readFileSync(certFile) } });
      try {
        expect(await admin.keys(`${prefix}*`)).not.toEqual([]);
      } finally {
        admin.disconnect();
      }
    } finally {
      await ref.close();
    }
  });

  it('fails the boot naming REDIS_TLS_CA_FILE when the server certificate is not trusted', async () => {
    const options = cachingOptionsFrom(config(cachingConfig, { REDIS_URL: url }));
    const error: unknown = await Test.createTestingModule({
      imports: [CachingModule.forRoot({ ...options, health: { enabled: false } })],
    })
      .compile()
      .then(
        async (ref) => {
          await ref.close();
          return undefined;
        },
        (e: unknown) => e,
      );
    expect(error).toBeInstanceOf(CachingConfigError);
    expect((error as Error).message).toMatch(
      /^CachingModule: the TLS certificate of Redis at rediss:\/\/127\.0\.0\.1:\d+ is not trusted \(self-signed certificate[^)]*\); set the CA that signed it in options\.redis\.tls \(REDIS_TLS_CA_FILE\)/,
    );
  });

  it('refuses a CA file beside a plain redis:// URL (it would silently not be used)', async () => {
    const options = cachingOptionsFrom(
      config(cachingConfig, { REDIS_URL: 'redis://127.0.0.1:6379', REDIS_TLS_CA_FILE: certFile }),
    );
    await expect(
      Test.createTestingModule({ imports: [CachingModule.forRoot(options)] }).compile(),
    ).rejects.toThrow(
      'CachingModule: options.redis.tls (REDIS_TLS_CA_FILE) is set but options.redis.url (REDIS_URL) is not a rediss:// URL (redis://127.0.0.1:6379)',
    );
  });
});

describe('the Redis messaging transport over rediss://', () => {
  it('publishes and delivers over TLS, trusting the CA from MESSAGING_TLS_CA_FILE', async () => {
    const options = messagingOptionsFrom(
      config(messagingConfig, {
        MESSAGING_TRANSPORT: 'redis',
        MESSAGING_URL: url,
        MESSAGING_TLS_CA_FILE: certFile,
      }),
    );
    const transport = new RedisTransport(
      { url: options.url!, namespace: `tls-${randomUUID().slice(0, 8)}`, serviceName: 'svc' },
      { ...options.transportOptions, blockMs: 100 },
    );
    await transport.connect();
    try {
      let deliver!: (body: string) => void;
      const delivered = new Promise<string>((resolve) => (deliver = resolve));
      await transport.subscribe(
        'tls.Event',
        'g',
        async (m) => {
          deliver(m.body);
          return { outcome: 'success' };
        },
        { prefetch: 1 },
      );
      await transport.publish([{ type: 'tls.Event', body: 'over-tls', headers: {} }]);
      expect(await delivered).toBe('over-tls');
    } finally {
      await transport.close();
    }
  });
});

/** Resolves when `client` is ready; rejects with its first connection error (e.g. an untrusted certificate). */
const connected = (client: Redis) =>
  client.status === 'ready'
    ? Promise.resolve()
    : new Promise<void>((resolve, reject) => {
        client.once('ready', resolve);
        client.once('error', reject);
      });

/** Keys under `prefix` in the TLS server (the only Redis on that port). */
async function keysInTlsRedis(prefix: string): Promise<string[]> {
  const admin = new Redis(url, { tls: { ca: readFileSync(certFile) } });
  try {
    return await admin.keys(`${prefix}*`);
  } finally {
    admin.disconnect();
  }
}

describe('the security lib over rediss://', () => {
  it('shares rate limits and revocations through the TLS Redis, trusting options.redis.tls', async () => {
    const prefix = `tls-sec-${randomUUID().slice(0, 8)}:`;
    const ref = await bootTestingModule({
      imports: [
        MonitoringModule.forRoot(testMonitoringOptions()),
        SecurityModule.forRoot({
          redis: { url, keyPrefix: prefix, tls: { caFile: certFile } },
          jwt: { issuer: 'https://api.test', audience: 'tls' },
        }),
      ],
    });
    try {
      // The module's internal token: the client the rate limits and the revocation list share.
      await connected(ref.get<Redis>('SECURITY:REDIS'));
      const jwt = ref.get(JwtManager);
      const token = await jwt.createToken({ sub: 'u-tls' });
      await jwt.revoke(await jwt.verify(token));
      await expect(jwt.verify(token)).rejects.toThrow(/revoked/);
      expect(await keysInTlsRedis(prefix)).not.toEqual([]);
    } finally {
      await ref.close();
    }
  });

  it('RedisRevocationStore({ url, tls }) opens its own TLS connection', async () => {
    const prefix = `tls-rev-${randomUUID().slice(0, 8)}:`;
    const store = new RedisRevocationStore({
      url,
      keyPrefix: prefix,
      tls: { caFile: certFile },
      opTimeoutMs: 2000,
    });
    try {
      expect(await store.revoke('jti-1', 60)).toBe(true);
      expect(await store.isRevoked(['jti-1'])).toBe(true);
      expect(await keysInTlsRedis(prefix)).toEqual([`${prefix}jti-1`]);
    } finally {
      await store.close();
    }
  });

  it('fails the boot when the server certificate is not trusted (no CA given), like the cache', async () => {
    await expect(
      bootTestingModule({
        imports: [
          MonitoringModule.forRoot(testMonitoringOptions()),
          SecurityModule.forRoot({ redis: { url } }),
        ],
      }),
    ).rejects.toThrow(
      /SecurityModule: the TLS certificate of Redis at .* is not trusted .*options\.redis\.tls/,
    );
  });

  it('refuses a CA beside a plain redis:// URL (it would silently not be used)', async () => {
    await expect(
      bootTestingModule({
        imports: [
          MonitoringModule.forRoot(testMonitoringOptions()),
          SecurityModule.forRoot({
            redis: { url: 'redis://127.0.0.1:6379', tls: { caFile: certFile } },
          }),
        ],
      }),
    ).rejects.toThrow(
      'SecurityModule: options.redis.tls is set but options.redis.url is not a rediss:// URL (redis://127.0.0.1:6379)',
    );
  });
});

/** Environment of a webhooks replay store on the TLS Redis. */
const replayEnv = () => ({
  WEBHOOK_SECRET: generateWebhookSecret(),
  WEBHOOK_REPLAY_REDIS_URL: url,
});

describe('the webhooks replay store over rediss://', () => {
  it('claims ids in the TLS Redis, trusting the CA from WEBHOOK_REPLAY_REDIS_TLS_CA_FILE', async () => {
    const prefix = `tls-hooks-${randomUUID().slice(0, 8)}:`;
    const options = webhooksOptionsFrom(
      config(webhooksConfig, { ...replayEnv(), WEBHOOK_REPLAY_REDIS_TLS_CA_FILE: certFile }),
    );
    const replay = options.replay as Exclude<typeof options.replay, false | undefined>;
    expect(replay.tls).toEqual({ caFile: certFile });
    const ref = await bootTestingModule({
      imports: [WebhooksModule.forRoot({ ...options, replay: { ...replay, keyPrefix: prefix } })],
    });
    try {
      const store = ref.get(WebhookReplayStore);
      expect(await store.claim('default:msg_tls', 60)).toBe(true);
      expect(await store.claim('default:msg_tls', 60)).toBe(false);
      expect(await keysInTlsRedis(prefix)).toEqual([`${prefix}default:msg_tls`]);
    } finally {
      await ref.close();
    }
  });

  it('fails the boot naming WEBHOOK_REPLAY_REDIS_TLS_CA_FILE when the server certificate is not trusted', async () => {
    const options = webhooksOptionsFrom(config(webhooksConfig, replayEnv()));
    const error: unknown = await bootTestingModule({
      imports: [WebhooksModule.forRoot(options)],
    }).then(
      async (ref) => {
        await ref.close();
        return undefined;
      },
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(WebhooksConfigError);
    expect((error as Error).message).toMatch(
      /^WebhooksModule: the TLS certificate of Redis at rediss:\/\/127\.0\.0\.1:\d+ is not trusted \(self-signed certificate[^)]*\); set the CA that signed it in options\.replay\.tls \(WEBHOOK_REPLAY_REDIS_TLS_CA_FILE\)/,
    );
  });
});
