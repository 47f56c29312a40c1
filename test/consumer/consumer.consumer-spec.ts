import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConsumerApp, packAll, type ConsumerApp } from './consumer.js';

// Issue "Packages": a user's app outside the repo, built from the tarballs `npm pack` makes. The
// package counts go into docs/packages.md (printed here as "consumer: …" lines).
let tarballs: Map<string, string>;
const children: ChildProcess[] = [];

beforeAll(async () => {
  tarballs = await packAll();
});

afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
});

const bootstrap = (modules: string, imports: string) => `import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
${imports}

@Module({ imports: [${modules}] })
class AppModule {}

const app = await NestFactory.create(AppModule, { bufferLogs: true });
setupMonitoring(app);
await app.listen(Number(process.env.PORT ?? 0), '127.0.0.1');
const address = app.getHttpServer().address() as { port: number };
console.log(\`ready \${address.port}\`);
`;

/** Runs `node dist/main.js` and resolves with its port once it prints `ready <port>`, or with its exit. */
async function start(
  app: ConsumerApp,
  nodeArgs: string[] = [],
  env: Record<string, string> = {},
): Promise<{ port?: number; code?: number | null; output: string }> {
  const child = spawn(process.execPath, [...nodeArgs, 'dist/main.js'], {
    cwd: app.dir,
    env: { ...process.env, PORT: '0', NODE_ENV: 'development', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  return new Promise((resolve) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const ready = /^ready (\d+)$/m.exec(output);
      if (ready) resolve({ port: Number(ready[1]), output });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => resolve({ code, output }));
  });
}

function report(name: string, app: ConsumerApp): number {
  const count = app.installed().length;
  const mb = (app.nodeModulesBytes() / 1024 / 1024).toFixed(0);
  console.log(`consumer: ${name}: ${count} packages, node_modules ${mb} MB`);
  return count;
}

describe('configuration + monitoring + persistence on better-sqlite3', () => {
  let app: ConsumerApp;

  beforeAll(async () => {
    app = await createConsumerApp({
      name: 'persistence',
      tarballs,
      packages: [
        '@infrastructure/configuration',
        '@infrastructure/monitoring',
        '@infrastructure/persistence',
      ],
      extra: ['better-sqlite3', 'typeorm', '@nestjs/typeorm'],
      files: {
        'src/main.ts': bootstrap(
          `ConfigurationModule.forRoot({ definitions: [] }),
    MonitoringModule.forRoot({ serviceName: 'consumer' }),
    PersistenceModule.forRoot({ url: 'sqlite::memory:' }),`,
          `import { ConfigurationModule } from '@infrastructure/configuration';
import { MonitoringModule, setupMonitoring } from '@infrastructure/monitoring';
import { PersistenceModule } from '@infrastructure/persistence';`,
        ),
      },
    });
    report('configuration + monitoring + persistence + better-sqlite3', app);
  });

  it('type-checks under strict with skipLibCheck false, and builds', async () => {
    await expect(app.npm(['exec', '--', 'tsc', '-p', '.'])).resolves.toBeDefined();
  });

  it('boots with the tracing entry loaded first: /health/ready 200, HTTP series on /metrics', async () => {
    const tracing = ['--import', '@infrastructure/monitoring/tracing/register'];
    const { port, output } = await start(app, tracing);
    expect({ ready: (port ?? 0) > 0, output }).toMatchObject({ ready: true });
    const ready = await fetch(`http://127.0.0.1:${port}/health/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({
      status: 'ok',
      info: { database: { status: 'up' } },
    });
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toContain(
      'http_server_requests_total{method="GET",route="/health/ready",status_code="200"} 1',
    );
  });

  it('with an OTLP endpoint but no OpenTelemetry packages, fails naming the npm install', async () => {
    const tracing = ['--import', '@infrastructure/monitoring/tracing/register'];
    const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' };
    const { port, code, output } = await start(app, tracing, endpoint);
    expect({ port, output }).toMatchObject({ port: undefined });
    expect(code).not.toBe(0);
    expect(output).toContain('Run: npm install @opentelemetry/instrumentation');
  });
});

describe('messaging installed without amqplib', () => {
  let app: ConsumerApp;

  beforeAll(async () => {
    app = await createConsumerApp({
      name: 'messaging',
      tarballs,
      packages: ['@infrastructure/monitoring', '@infrastructure/messaging'],
      extra: ['better-sqlite3', 'typeorm', '@nestjs/typeorm', '@nestjs/microservices'],
      files: {
        'src/main.ts': bootstrap(
          `MonitoringModule.forRoot({ serviceName: 'consumer' }),
    PersistenceModule.forRoot({ url: 'sqlite::memory:' }),
    MessagingModule.forRoot({ transport: 'rabbitmq', url: 'amqp://127.0.0.1:5672', serviceName: 'consumer' }),`,
          `import { MessagingModule } from '@infrastructure/messaging';
import { MonitoringModule, setupMonitoring } from '@infrastructure/monitoring';
import { PersistenceModule } from '@infrastructure/persistence';`,
        ),
      },
    });
    report('messaging (no broker client)', app);
  });

  it('installs no broker client', () => {
    const installed = app.installed();
    for (const driver of [
      'amqplib',
      'ioredis',
      '@platformatic/kafka',
      '@nats-io/transport-node',
      'mqtt',
    ]) {
      expect(installed).not.toContain(driver);
    }
  });

  it('type-checks and imports', async () => {
    await app.npm(['exec', '--', 'tsc', '-p', '.']);
    writeFileSync(
      join(app.dir, 'import.mjs'),
      "await import('@infrastructure/messaging'); console.log('imported');",
    );
    const { stdout } = await app.npm(['exec', '--', 'node', 'import.mjs']);
    expect(stdout).toContain('imported');
  });

  it("fails at boot with the exact 'npm install amqplib' line when transport is 'rabbitmq'", async () => {
    const { port, code, output } = await start(app);
    expect({ port, output }).toMatchObject({ port: undefined });
    expect(code).not.toBe(0);
    expect(output).toContain('npm install amqplib');
  });
});

describe('caching alone', () => {
  let app: ConsumerApp;
  let count: number;

  beforeAll(async () => {
    app = await createConsumerApp({
      name: 'caching',
      tarballs,
      packages: ['@infrastructure/caching'],
      extra: [],
      files: {
        'src/main.ts': bootstrap(
          `MonitoringModule.forRoot({ serviceName: 'consumer' }), CachingModule.forRoot({ ttlMs: 1_000 }),`,
          `import { CachingModule } from '@infrastructure/caching';
import { MonitoringModule, setupMonitoring } from '@infrastructure/monitoring';`,
        ),
      },
    });
    count = report('caching alone', app);
  });

  it('installs neither typeorm, @nestjs/swagger, ioredis nor better-sqlite3, in at most 150 packages', () => {
    const installed = app.installed();
    for (const heavy of [
      'typeorm',
      '@nestjs/typeorm',
      '@nestjs/swagger',
      'ioredis',
      'better-sqlite3',
      '@infrastructure/persistence',
    ]) {
      expect(installed).not.toContain(heavy);
    }
    expect(count).toBeLessThanOrEqual(150);
  });

  it('type-checks and boots on the in-memory cache', async () => {
    await app.npm(['exec', '--', 'tsc', '-p', '.']);
    const { port, output } = await start(app);
    expect({ ready: (port ?? 0) > 0, output }).toMatchObject({ ready: true });
    expect((await fetch(`http://127.0.0.1:${port}/health/live`)).status).toBe(200);
  });
});
