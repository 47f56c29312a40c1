import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DirectorySecretsProvider } from '@infrastructure/security';
import { kubeletWrite } from '@infrastructure/testing';
import { createRedisClient, followRedisPassword } from '../src/redis.js';

const dir = mkdtempSync(join(tmpdir(), 'redis-password-'));
let server: ChildProcess;
let port: number;
let secrets: DirectorySecretsProvider;
const clients: Redis[] = [];

async function freePort(): Promise<number> {
  const probe = createServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port: free } = probe.address() as AddressInfo;
  await new Promise((r) => probe.close(r));
  return free;
}

beforeAll(async () => {
  port = await freePort();
  server = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--requirepass',
      'pw-a',
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.stdout!.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('Ready to accept connections')) resolve();
    });
  });
  kubeletWrite(dir, { REDIS_PASSWORD: 'pw-a' });
  secrets = new DirectorySecretsProvider({ directory: dir, pollIntervalMs: 0 });
});

afterAll(async () => {
  for (const c of clients) c.disconnect();
  secrets?.close();
  if (server?.exitCode === null) {
    server.kill('SIGTERM');
    await once(server, 'exit');
  }
  rmSync(dir, { recursive: true, force: true });
});

async function client(url: string): Promise<Redis> {
  const c = await createRedisClient(
    url,
    { lazyConnect: true, retryStrategy: () => 20 },
    { owner: 'test' },
  );
  c.on('error', () => undefined);
  clients.push(c);
  return c;
}

describe('followRedisPassword', () => {
  it('reconnects with the rotated password after the server changed it; a client that does not follow is refused', async () => {
    const follower = await client(`redis://127.0.0.1:${port}`);
    const off = followRedisPassword(follower, secrets, 'REDIS_PASSWORD');
    const stale = await client(`redis://:pw-a@127.0.0.1:${port}`);
    await follower.connect();
    await stale.connect();
    expect(await follower.ping()).toBe('PONG');
    expect(await stale.ping()).toBe('PONG');

    const admin = await client(`redis://:pw-a@127.0.0.1:${port}`);
    await admin.connect();
    await admin.config('SET', 'requirepass', 'pw-b');
    const changed = new Promise<void>((resolve) => {
      const unsubscribe = secrets.onChange('REDIS_PASSWORD', () => {
        unsubscribe();
        resolve();
      });
    });
    kubeletWrite(dir, { REDIS_PASSWORD: 'pw-b' });
    await changed;

    // Connections that authenticated before stay authenticated: nothing is dropped by the rotation.
    expect(await follower.ping()).toBe('PONG');
    // A reconnect (network blip, server restart) must authenticate again.
    const ready = once(follower, 'ready');
    const refused = new Promise<Error>((resolve) =>
      stale.on('error', (e: Error) => /WRONGPASS|invalid password/i.test(e.message) && resolve(e)),
    );
    await admin.client('KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
    await ready;
    expect(await follower.ping()).toBe('PONG');
    expect((await refused).message).toMatch(/WRONGPASS|invalid password/i);
    off();
  });
});
