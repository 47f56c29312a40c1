import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  attr,
  freePort,
  listeningWithin,
  otlpReceiver,
  runTraced,
  type OtlpSpan,
} from './spawn.js';

// Which spans a request gets under the register entry (the built app on embedded defaults, spans
// over OTLP/HTTP): the HTTP server span carries the Nest handler's name (no span of its own, no
// RxJS pipeline), Express records no layer spans and Fastify no hook or handler-wrapper spans.

const SERVER = 2;

describe.each(['express', 'fastify'] as const)('spans of a request on %s', (adapter) => {
  let receiver: Awaited<ReturnType<typeof otlpReceiver>>;
  let app: ReturnType<typeof runTraced>;
  let base: string;

  beforeAll(async () => {
    receiver = await otlpReceiver();
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    app = runTraced(receiver.endpoint, {
      PORT: String(port),
      HOST: '127.0.0.1',
      HTTP_ADAPTER: adapter,
      OTEL_SERVICE_NAME: `sample-api-spans-${adapter}`,
    });
    await listeningWithin(app, 50_000);
  }, 60_000);

  afterAll(async () => {
    app?.child.kill('SIGTERM');
    await app?.exited;
    receiver?.close();
  });

  /** GETs `path` with a fresh trace id; resolves with the status and the trace's spans. */
  async function traced(path: string): Promise<{ status: number; spans: OtlpSpan[] }> {
    const traceId = randomUUID().replaceAll('-', '');
    const res = await fetch(`${base}${path}`, {
      headers: { traceparent: `00-${traceId}-b7ad6b7169203331-01` },
    });
    await res.arrayBuffer();
    const inTrace = (all: OtlpSpan[]) => all.filter((s) => s.traceId.toLowerCase() === traceId);
    // The server span ends last: once it is in, its children (ended before it) are too.
    const received = await receiver.until((all) => inTrace(all).some((s) => s.kind === SERVER));
    return { status: res.status, spans: inTrace(received) };
  }

  it('names the handler on the server span and records no layer, hook or handler spans', async () => {
    const { status, spans } = await traced('/');
    expect(status).toBe(200);
    const server = spans.find((s) => s.kind === SERVER);
    expect(server?.name).toBe('GET /');
    expect(attr(server, 'http.route')).toBe('/');
    // The guard annotates the innermost span: the server span on Express, @fastify/otel's
    // request span (a child of the server span) on Fastify.
    const annotated = spans.find((s) => attr(s, 'code.function') === 'info');
    expect(attr(annotated, 'code.namespace')).toBe('InfoController');
    expect(spans.map((s) => s.name).sort()).toEqual(
      adapter === 'express' ? ['GET /'] : ['GET /', 'request'],
    );
  });

  it('records the exception a handler or guard throws on that span (401 without a token)', async () => {
    const { status, spans } = await traced(`/v1/orders/${randomUUID()}`);
    expect(status).toBe(401);
    const annotated = spans.find((s) => attr(s, 'code.function') === 'get');
    expect(attr(annotated, 'code.namespace')).toBe('OrdersController');
    expect(annotated?.events?.map((e) => e.name)).toContain('exception');
  });
});
