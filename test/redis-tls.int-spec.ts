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

const config = <D extends typeof cachingConfig | typeof messagingConfig>(
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
