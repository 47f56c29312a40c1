// The upstream of the http-client bench: a keep-alive node:http server answering every request with
// the same small JSON body. Runs in its own process (see index.mjs); prints "ready <port>".
import { createServer } from 'node:http';

// BENCH_SERVER_DELAY_MS: answer after this long (an upstream with real latency); 0 = at once.
const DELAY_MS = Number(process.env.BENCH_SERVER_DELAY_MS ?? 0);

const body = Buffer.from(
  JSON.stringify({
    id: 'pay_01HZX3',
    orderId: 'ord_42',
    status: 'authorized',
    amountCents: 129_900,
    currency: 'EUR',
    createdAt: '2026-11-26T10:00:00.000Z',
  }),
);
const headers = {
  'content-type': 'application/json',
  'content-length': String(body.length),
};

const server = createServer((req, res) => {
  // Drain the request (GETs have none; keeps the socket reusable if a body ever comes).
  req.resume();
  req.on('end', () => {
    if (req.url.startsWith('/api/echo-headers')) {
      // The bench checks once that context headers arrive.
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(req.headers));
      return;
    }
    if (DELAY_MS > 0) {
      setTimeout(() => res.writeHead(200, headers).end(body), DELAY_MS);
      return;
    }
    res.writeHead(200, headers);
    res.end(body);
  });
});
server.keepAliveTimeout = 60_000;
server.headersTimeout = 65_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`ready ${server.address().port}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
