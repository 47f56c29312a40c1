import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const main = 'dist/apps/sample-api/src/main.js';

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  return port;
}

function run(env: Record<string, string>) {
  const child = spawn(process.execPath, [main], {
    cwd: root,
    env: {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'test',
      DATABASE_URL: 'sqlite::memory:',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const listening = new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('listening on')) resolve();
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) =>
      reject(new Error(`exited with ${code} before listening:\n${output}`)),
    );
  });
  listening.catch(() => undefined); // awaited by the tests that expect a boot
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  return { child, listening, exited, output: () => output };
}

describe('sample API process (built, as npm start runs it)', () => {
  it('boots with no configuration, serves /health/live and exits 0 on SIGTERM within 10 s', async () => {
    const port = await freePort();
    const app = run({ PORT: String(port), HOST: '127.0.0.1' });
    await app.listening;
    const res = await fetch(`http://127.0.0.1:${port}/health/live`);
    expect(res.status).toBe(200);
    await res.text();
    const started = Date.now();
    app.child.kill('SIGTERM');
    expect(await app.exited).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('refuses to start on a bad PORT, naming the variable and what it expected', async () => {
    const app = run({ PORT: 'abc', HTTP_ADAPTER: 'koa' });
    expect(await app.exited).toBe(1);
    expect(app.output()).toContain('PORT: expected an integer 1-65535, got "abc"');
    expect(app.output()).toContain('HTTP_ADAPTER: expected one of express, fastify, got "koa"');
  });

  it('boots on fastify when HTTP_ADAPTER=fastify', async () => {
    const port = await freePort();
    const app = run({ PORT: String(port), HOST: '127.0.0.1', HTTP_ADAPTER: 'fastify' });
    await app.listening;
    const res = await fetch(`http://127.0.0.1:${port}/docs-json`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { openapi: string }).openapi).toMatch(/^3\./);
    app.child.kill('SIGTERM');
    expect(await app.exited).toBe(0);
  });
});
