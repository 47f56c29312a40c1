import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { problem, PROBLEM_CONTENT_TYPE } from './problem-details.js';

/** The detail of a 400 for a path that is not valid percent-encoding (both adapters). */
export const UNDECODABLE_PATH = 'The request path is not valid percent-encoded UTF-8';

/**
 * What Node's HTTP parser refuses before any adapter or Nest sees the request (its own
 * `clientError` answers), by error code; anything else is a 400 as in Node.
 */
const PARSER_STATUS: Record<string, number> = {
  HPE_HEADER_OVERFLOW: 431,
  HPE_CHUNK_EXTENSIONS_OVERFLOW: 413,
  ERR_HTTP_REQUEST_TIMEOUT: 408,
};

const DETAIL: Record<number, string> = {
  400: 'Malformed HTTP request',
  408: 'The request was not received in time',
  413: 'Request body too large',
  431: 'Request line or headers too large',
};

function rawProblem(status: number): string {
  const body = JSON.stringify(problem(status, { detail: DETAIL[status] }));
  return (
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n` +
    `Content-Type: ${PROBLEM_CONTENT_TYPE}\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\n` +
    'Connection: close\r\n\r\n' +
    body
  );
}

/** The response in flight on a socket of Node's HTTP server, if any (its own field name). */
const inFlight = (socket: Socket): { headersSent?: boolean } | undefined =>
  (socket as unknown as Record<string, { headersSent?: boolean } | undefined>)['_httpMessage'];

/**
 * Node's own answer to a parser error (`socketOnError` in `_http_server`), as a problem: the same
 * statuses, only when no response has started on the socket (a kept-alive one may have served
 * requests before), then the socket closes.
 */
function onClientError(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || !socket.writable || inFlight(socket)?.headersSent) {
    socket.destroy();
    return;
  }
  socket.end(rawProblem(PARSER_STATUS[error.code ?? ''] ?? 400), () => socket.destroy());
}

interface ClientErrorEmitter {
  on(event: 'clientError', listener: (error: Error, socket: Socket) => void): unknown;
  removeAllListeners(event: 'clientError'): unknown;
}

/**
 * Makes the HTTP server answer what its parser refuses (a request line or headers over Node's
 * 16 KiB, a malformed request line, a slowloris client's 408) as `application/problem+json`
 * instead of Node's bare status line (Express) or Fastify's own JSON. Replaces any other
 * `clientError` listener, Fastify's `clientErrorHandler` included.
 */
export function answerClientErrorsAsProblems(server: unknown): void {
  const s = server as Partial<ClientErrorEmitter> | undefined;
  if (typeof s?.on !== 'function' || typeof s.removeAllListeners !== 'function') return;
  s.removeAllListeners('clientError');
  s.on('clientError', onClientError);
}

/** The parts of a Fastify reply the framework-error handler uses. */
interface ReplyLike {
  code(status: number): ReplyLike;
  header(name: string, value: string): ReplyLike;
  send(body: string): unknown;
}

const FRAMEWORK_STATUS: Record<string, number> = {
  FST_ERR_BAD_URL: 400,
  FST_ERR_MAX_PARAM_LENGTH: 414,
};

/** Options for Fastify's `frameworkErrors`, see {@link fastifyProblemOptions}. */
export interface FastifyProblemOptions {
  frameworkErrors: (error: Error & { code?: string }, request: unknown, reply: unknown) => void;
}

/**
 * Options for `new FastifyAdapter({ ...fastifyProblemOptions() })`: Fastify's router answers a
 * path it cannot decode (`/orders/%80`, `FST_ERR_BAD_URL`) or a path parameter over
 * `maxParamLength` (`FST_ERR_MAX_PARAM_LENGTH`) itself, before Nest's exception filters run;
 * these make those answers problems too (400 and 414, detail without the path).
 */
export function fastifyProblemOptions(): FastifyProblemOptions {
  return {
    frameworkErrors: (error, _, reply) => {
      const status = FRAMEWORK_STATUS[error.code ?? ''] ?? 500;
      const detail =
        status === 400
          ? UNDECODABLE_PATH
          : status === 414
            ? 'A path parameter is too long'
            : undefined;
      (reply as ReplyLike)
        .code(status)
        .header('content-type', PROBLEM_CONTENT_TYPE)
        .send(JSON.stringify(problem(status, detail ? { detail } : {})));
    },
  };
}
