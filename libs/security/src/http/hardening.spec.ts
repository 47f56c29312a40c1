import { Controller, Get } from '@nestjs/common';
import { generateKeyPairSync } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import type { Server } from 'node:http';
import { Server as HttpsServer } from 'node:https';
import { connect as tlsConnect } from 'node:tls';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createTestApp } from '@infrastructure/testing';
import { setupSecurity, tlsOptionsFrom } from './hardening.js';

@Controller('h')
class HelloController {
  @Get()
  hello() {
    return { ok: true };
  }
}

/** A throwaway self-signed certificate for `localhost` / 127.0.0.1 (openssl, into a temp dir). */
function selfSigned(): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), 'tls-'));
  try {
    // prettier-ignore
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
    ], { stdio: 'ignore' });
    return {
      key: readFileSync(join(dir, 'key.pem'), 'utf8'),
      cert: readFileSync(join(dir, 'cert.pem'), 'utf8'),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Listens on a free loopback port; resolves with the port. */
async function listen(server: Server | HttpsServer): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

/** Starts a request whose headers never end (slowloris); resolves when the server closed it. */
async function slowHeaders(socket: Socket): Promise<{ answer: string; elapsedMs: number }> {
  socket.write('GET /h HTTP/1.1\r\nHost: x\r\nX-Slow: ');
  const started = Date.now();
  let answer = '';
  socket.on('data', (chunk) => (answer += chunk.toString()));
  await once(socket, 'close');
  return { answer, elapsedMs: Date.now() - started };
}

describe.each(['express', 'fastify'] as const)('setupSecurity on %s', (adapter) => {
  const start = () =>
    createTestApp(
      { controllers: [HelloController] },
      {
        adapter,
        configure: (app) => setupSecurity(app, { corsOrigins: ['https://app.example'] }),
      },
    );

  it('answers a client that sends its headers too slowly (slowloris) with 408 and closes it', async () => {
    await using t = await createTestApp(
      { controllers: [HelloController] },
      {
        adapter,
        configure: (app) =>
          setupSecurity(app, { serverTimeouts: { headersTimeoutMs: 300, requestTimeoutMs: 300 } }),
      },
    );
    const server = t.app.getHttpServer() as Server;
    const port = await listen(server);
    const { answer, elapsedMs } = await slowHeaders(connect(port, '127.0.0.1'));
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
    expect(elapsedMs).toBeLessThan(3_000);
    expect(server.keepAliveTimeout).toBe(5_000);
  });

  it('applies the same timeouts to an HTTPS server: a slowloris over TLS gets 408 too', async () => {
    const pem = selfSigned();
    await using t = await createTestApp(
      { controllers: [HelloController] },
      {
        adapter,
        https: pem,
        configure: (app) =>
          setupSecurity(app, { serverTimeouts: { headersTimeoutMs: 300, requestTimeoutMs: 300 } }),
      },
    );
    const server = t.app.getHttpServer() as HttpsServer;
    expect(server).toBeInstanceOf(HttpsServer);
    const port = await listen(server);
    const ok = await t.request.get('/h').ca(pem.cert).expect(200);
    expect(ok.headers['strict-transport-security']).toMatch(/max-age=/);
    const socket = tlsConnect({ port, host: '127.0.0.1', servername: 'localhost', ca: pem.cert });
    await once(socket, 'secureConnect');
    const { answer, elapsedMs } = await slowHeaders(socket);
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
    expect(elapsedMs).toBeLessThan(3_000);
  });

  it('sends helmet headers and CORS headers to allowed origins only', async () => {
    await using t = await start();
    const allowed = await t.request.get('/h').set('origin', 'https://app.example').expect(200);
    expect(allowed.headers['access-control-allow-origin']).toBe('https://app.example');
    expect(allowed.headers['x-content-type-options']).toBe('nosniff');
    expect(allowed.headers['x-frame-options']).toBe('SAMEORIGIN');
    const other = await t.request.get('/h').set('origin', 'https://evil.example').expect(200);
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
    const preflight = await t.request
      .options('/h')
      .set('origin', 'https://app.example')
      .set('access-control-request-method', 'GET');
    expect(preflight.status).toBeLessThan(300);
    expect(preflight.headers['access-control-allow-origin']).toBe('https://app.example');
  });
});

describe('tlsOptionsFrom', () => {
  it('is undefined without files, reads both PEMs, and names a missing one', () => {
    expect(tlsOptionsFrom({})).toBeUndefined();
    const dir = mkdtempSync(join(tmpdir(), 'tls-'));
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    writeFileSync(join(dir, 'key.pem'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
    writeFileSync(join(dir, 'cert.pem'), 'not checked here');
    const tls = tlsOptionsFrom({ certFile: join(dir, 'cert.pem'), keyFile: join(dir, 'key.pem') });
    expect(tls?.key.toString()).toContain('PRIVATE KEY');
    expect(() => tlsOptionsFrom({ certFile: join(dir, 'cert.pem') })).toThrow(
      'TLS needs both TLS_CERT_FILE and TLS_KEY_FILE',
    );
    expect(() =>
      tlsOptionsFrom({ certFile: join(dir, 'nope.pem'), keyFile: join(dir, 'key.pem') }),
    ).toThrow(/TLS_CERT_FILE: cannot read/);
  });
});
