// A local OTLP/HTTP sink for the monitoring-overhead bench: answers every POST 200 (an empty
// ExportTraceServiceResponse) and counts requests and bytes; GET /count returns them as JSON.
// Runs in its own process so its CPU is neither the server's nor the load generator's.
import { createServer } from 'node:http';

let requests = 0;
let bytes = 0;
const server = createServer((req, res) => {
  if (req.method === 'GET') {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ requests, bytes }));
    return;
  }
  req.on('data', (chunk) => {
    bytes += chunk.length;
  });
  req.on('end', () => {
    requests += 1;
    res.setHeader('content-type', req.headers['content-type'] ?? 'application/x-protobuf');
    res.end();
  });
});
server.listen(0, '127.0.0.1', () => console.log(`ready ${server.address().port}`));
process.on('SIGTERM', () => process.exit(0));
