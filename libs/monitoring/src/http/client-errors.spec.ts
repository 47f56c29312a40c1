import { Controller, Get, Param } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { once } from 'node:events';
import type { Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '@infrastructure/testing';
import { answerClientErrorsAsProblems } from './client-errors.js';
import { ProblemDetailsFilter } from './problem-details.filter.js';

@Controller('h')
class ItemsController {
  @Get(':id')
  get(@Param('id') id: string) {
    return { id };
  }
}

/** What the server answers to raw bytes, up to the socket's close. */
async function raw(t: TestApp, request: string): Promise<{ head: string; body: unknown }> {
  const server = t.app.getHttpServer() as Server;
  if (!server.listening) await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const socket = connect((server.address() as AddressInfo).port, '127.0.0.1');
  let answer = '';
  socket.on('data', (chunk) => (answer += chunk.toString()));
  socket.write(request);
  await once(socket, 'close');
  const [head = '', body = ''] = answer.split('\r\n\r\n');
  return { head, body: body ? JSON.parse(body) : undefined };
}

/** Writes more on a socket that is still open and reads it to its close. */
async function connectAgain(socket: Socket, request: string): Promise<string> {
  let answer = '';
  socket.on('data', (chunk) => (answer += String(chunk)));
  socket.write(request);
  await once(socket, 'close');
  return answer;
}

describe.each(['express', 'fastify'] as const)('HTTP errors before Nest on %s', (adapter) => {
  const start = () =>
    createTestApp(
      { controllers: [ItemsController] },
      {
        adapter,
        configure: (app) => {
          answerClientErrorsAsProblems(app.getHttpServer());
          app.useGlobalFilters(new ProblemDetailsFilter(app.get(HttpAdapterHost)));
        },
      },
    );

  it('answers a request line over 16 KiB with a 431 problem, not a bare status line', async () => {
    await using t = await start();
    const res = await raw(t, `GET /h/${'x'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`);
    expect(res.head).toMatch(/^HTTP\/1\.1 431 /);
    expect(res.head).toMatch(/\r\nContent-Type: application\/problem\+json\r\n/i);
    expect(res.body).toMatchObject({ type: 'about:blank', status: 431, title: expect.any(String) });
  });

  it('answers it on a kept-alive connection that has served a request before', async () => {
    await using t = await start();
    const server = t.app.getHttpServer() as Server;
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const socket = connect((server.address() as AddressInfo).port, '127.0.0.1');
    let answer = '';
    socket.write('GET /h/1 HTTP/1.1\r\nHost: x\r\n\r\n');
    while (!answer.includes('{"id":"1"}')) {
      const [chunk] = (await once(socket, 'data')) as [Buffer];
      answer += String(chunk);
    }
    const rest = connectAgain(socket, `GET /h/${'x'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`);
    expect(await rest).toMatch(/^HTTP\/1\.1 431 [\s\S]*"status":431/);
  });

  it('answers a malformed request line with a 400 problem', async () => {
    await using t = await start();
    const res = await raw(t, 'NOT HTTP AT ALL\r\n\r\n');
    expect(res.head).toMatch(/^HTTP\/1\.1 400 /);
    expect(res.body).toMatchObject({ status: 400, detail: 'Malformed HTTP request' });
  });

  it('answers a path that is not percent-encoded UTF-8 with a 400 problem', async () => {
    await using t = await start();
    for (const id of ['%80', '%ED%A0%80', '%', '%zz']) {
      const res = await t.request.get(`/h/${id}`);
      expect({ id, status: res.status }).toEqual({ id, status: 400 });
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.body).toMatchObject({ status: 400, title: 'Bad Request' });
    }
  });

  it('answers a path parameter over the router limit (fastify: 100 chars) with a problem', async () => {
    await using t = await start();
    const res = await t.request.get(`/h/${'x'.repeat(150)}`);
    expect(res.status).toBe(adapter === 'fastify' ? 414 : 200);
    expect(res.headers['content-type']).toMatch(
      adapter === 'fastify' ? /^application\/problem\+json/ : /^application\/json/,
    );
  });
});
