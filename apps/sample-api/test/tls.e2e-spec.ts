import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request, Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import type { INestApplication } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, listeningMessage, type CreatedApp } from '../src/bootstrap.js';

const dir = mkdtempSync(join(tmpdir(), 'sample-tls-'));
const certFile = join(dir, 'cert.pem');
const keyFile = join(dir, 'key.pem');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  socket: TLSSocket;
}

/** GET over HTTPS to 127.0.0.1, verifying the certificate for `localhost` against the test's own. */
async function get(port: number, path: string, headers: Record<string, string> = {}) {
  const req = request({
    host: '127.0.0.1',
    port,
    path,
    headers,
    servername: 'localhost',
    ca: readFileSync(certFile),
    agent: false,
  });
  req.end();
  const [res] = (await once(req, 'response')) as [import('node:http').IncomingMessage];
  let body = '';
  for await (const chunk of res) body += String(chunk);
  return { status: res.statusCode!, headers: res.headers, body, socket: res.socket as TLSSocket };
}

describe.each(['express', 'fastify'] as const)('sample API over HTTPS on %s', (adapter) => {
  let app: INestApplication;
  let created: CreatedApp;
  let port: number;

  beforeAll(async () => {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=DNS:localhost,IP:127.0.0.1',
        '-keyout',
        keyFile,
        '-out',
        certFile,
      ],
      { stdio: 'ignore' },
    );
    created = await createApp({
      env: {
        NODE_ENV: 'test',
        LOG_LEVEL: 'fatal',
        LOG_PRETTY: 'false',
        DATABASE_URL: 'sqlite::memory:',
        HTTP_ADAPTER: adapter,
        TLS_CERT_FILE: certFile,
        TLS_KEY_FILE: keyFile,
      },
      envFiles: false,
    });
    app = created.app;
    await app.listen(0, '127.0.0.1');
    port = (app.getHttpServer().address() as AddressInfo).port;
  });
  afterAll(() => app?.close());

  it('logs an https:// URL once listening (main.ts)', () => {
    expect(listeningMessage(created)).toBe(
      `sample-api listening on https://localhost:${port} (${adapter}, NODE_ENV=test); docs at /docs`,
    );
  });

  it('serves the API over TLS with the configured certificate', async () => {
    const res: Answer = await get(port, '/');
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ service: 'sample-api', environment: 'test' });
    expect(res.socket.authorized).toBe(true);
    expect(res.socket.getPeerCertificate().subject.CN).toBe('localhost');
    expect(res.socket.getProtocol()).toMatch(/^TLSv1\.[23]$/);
  });

  it('runs our middleware on the HTTPS server: correlation id, security headers, problem+json', async () => {
    const ok = await get(port, '/health/live', { 'x-correlation-id': 'tls-corr-1' });
    expect(ok.status).toBe(200);
    expect(ok.headers['x-correlation-id']).toBe('tls-corr-1');
    expect(ok.headers['strict-transport-security']).toMatch(/max-age=\d+/);
    expect(ok.headers['x-content-type-options']).toBe('nosniff');
    const missing = await get(port, '/no-such-route');
    expect(missing.status).toBe(404);
    expect(missing.headers['content-type']).toContain('application/problem+json');
  });

  it("applies setupSecurity's server timeouts to the https.Server", () => {
    const server = app.getHttpServer() as HttpsServer;
    expect(server).toBeInstanceOf(HttpsServer);
    expect(server.headersTimeout).toBe(20_000);
    expect(server.requestTimeout).toBe(60_000);
    expect(server.keepAliveTimeout).toBe(5_000);
  });

  it('resets a plain-HTTP connection on the TLS port (no cleartext fallback)', async () => {
    const req = httpRequest({ host: '127.0.0.1', port, path: '/', agent: false });
    req.end();
    const outcome = await new Promise<string>((resolve) => {
      req.once('response', (res) => resolve(`status ${res.statusCode}`));
      req.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    });
    // The TLS server drops a connection that does not start with a handshake.
    expect(outcome).toBe('ECONNRESET');
  });
});
