import * as fc from 'fast-check';
import { Agent, request as httpRequest } from 'node:http';

/**
 * Malformed requests for every operation of an OpenAPI 3 document (what @nestjs/swagger serves
 * at /docs-json), sent over a real socket so that paths, query strings and bodies arrive byte for
 * byte as generated: wrong types, huge, deep and empty values, odd Unicode (NUL, lone
 * surrogates, bidi controls, invalid UTF-8), missing and extra fields, bad path and query
 * parameters, bad content types, and good or broken credentials.
 */

/** The parts of a JSON schema the generators read. */
export interface Schema {
  $ref?: string;
  type?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  maxLength?: number;
  pattern?: string;
  example?: unknown;
  items?: Schema;
}

interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  schema?: Schema;
}

interface OperationObject {
  parameters?: Parameter[];
  requestBody?: { content?: Record<string, { schema?: Schema }> };
}

export interface OpenApiDocument {
  paths: Record<string, Record<string, OperationObject>>;
  components?: { schemas?: Record<string, Schema> };
}

/** One operation of the document, its schemas resolved. */
export interface Operation {
  method: string;
  /** The path template, `/v1/orders/{id}`. */
  template: string;
  pathParams: string[];
  query: Array<{ name: string; schema: Schema }>;
  body?: Schema;
}

const METHODS = new Set(['get', 'put', 'post', 'delete', 'patch', 'head', 'options']);

function resolve(doc: OpenApiDocument, schema: Schema | undefined, depth = 0): Schema {
  if (!schema || depth > 8) return {};
  if (schema.$ref) {
    const name = schema.$ref.replace('#/components/schemas/', '');
    return resolve(doc, doc.components?.schemas?.[name], depth + 1);
  }
  const out: Schema = { ...schema };
  if (schema.properties) {
    out.properties = Object.fromEntries(
      Object.entries(schema.properties).map(([k, s]) => [k, resolve(doc, s, depth + 1)]),
    );
  }
  if (schema.items) out.items = resolve(doc, schema.items, depth + 1);
  return out;
}

/** Every operation of the document. */
export function operationsOf(doc: OpenApiDocument): Operation[] {
  const ops: Operation[] = [];
  for (const [template, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (!METHODS.has(method)) continue;
      const params = op.parameters ?? [];
      const body = op.requestBody?.content?.['application/json']?.schema;
      ops.push({
        method: method.toUpperCase(),
        template,
        pathParams: [...template.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!),
        query: params
          .filter((p) => p.in === 'query')
          .map((p) => ({ name: p.name, schema: resolve(doc, p.schema) })),
        ...(body ? { body: resolve(doc, body) } : {}),
      });
    }
  }
  return ops;
}

// --- values ---------------------------------------------------------------------------------

/** A JSON literal sent as written (`1e400`, `123456789012345678901234567890`, `01`). */
class RawJson {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

/** A property left out of the body. */
const MISSING = Symbol('missing');

const oddPieces = fc.constantFrom(
  '\u0000',
  '\ud800',
  '\udfff',
  '\udfff\ud800',
  '\ufeff',
  '\u202e',
  '\u200b',
  '\u2028',
  '\uffff',
  '\ufffd',
  'e\u0301',
  '\u{1d54f}',
  '\u{1f3f3}\u{fe0f}\u200d\u{1f308}',
  '\n',
  '\r\n',
  '\t',
  '"',
  "'",
  '\\',
  '%',
  '%00',
  '/',
  '..',
  '<script>',
  '${x}',
  "' OR 1=1 --",
);

/** Short strings of any code point, NUL and lone surrogates included. */
const oddString = fc
  .array(fc.oneof(fc.string({ unit: 'binary', maxLength: 6 }), oddPieces), { maxLength: 8 })
  .map((parts) => parts.join(''));

/** Long strings: past column sizes, past the body limit (1 MiB) at the top. */
const hugeString = fc
  .tuple(
    fc.constantFrom(65, 201, 2049, 70_000, 300_000),
    fc.constantFrom('x', '\u00e9', '\u{1d54f}', '\ud800', '9', ' '),
  )
  .map(([n, c]) => c.repeat(n));

const oddNumber = fc.oneof(
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(
    -1,
    0,
    0.5,
    1.5,
    2 ** 31 - 1,
    2 ** 31,
    2 ** 32,
    2 ** 53,
    -(2 ** 53),
    Number.MAX_SAFE_INTEGER,
    1e21,
    1e308,
    5e-324,
  ),
);

const rawNumber = fc
  .constantFrom(
    '1e400',
    '-1e400',
    '123456789012345678901234567890',
    '-0',
    '1.0',
    '1E3',
    '0.0000001',
    '01',
    '0x10',
    'NaN',
  )
  .map((text) => new RawJson(text));

const oddKey = fc.oneof(
  fc.string({ maxLength: 8 }),
  oddString,
  fc.constantFrom(
    '__proto__',
    'constructor',
    'prototype',
    '',
    'id',
    'status',
    'totalCents',
    'version',
    'createdAt',
    '$where',
    'a.b',
    'toString',
  ),
);

/** JSON text nested `depth` levels deep (as text: too deep for a recursive serializer). */
function nest(depth: number, kind: 'array' | 'object'): RawJson {
  return new RawJson(
    kind === 'array'
      ? `${'['.repeat(depth)}1${']'.repeat(depth)}`
      : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`,
  );
}

const deepValue = fc
  .tuple(fc.integer({ min: 20, max: 3000 }), fc.constantFrom('array' as const, 'object' as const))
  .map(([depth, kind]) => nest(depth, kind));

const scalar = fc.oneof(
  oddString,
  oddNumber,
  rawNumber,
  fc.boolean(),
  fc.constant(null),
  fc.constantFrom('', ' ', '0', '-1', 'true', 'null', 'NaN', '[]', '{}'),
);

/** Anything at all, mostly of the wrong type. */
const hostile: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    { weight: 8, arbitrary: scalar },
    { weight: 1, arbitrary: hugeString },
    { weight: 1, arbitrary: deepValue },
    { weight: 1, arbitrary: fc.constantFrom([], {}, [[]], [null], [{}]) },
    { weight: 1, arbitrary: fc.array(tie('value'), { maxLength: 3 }) },
    { weight: 1, arbitrary: fc.dictionary(oddKey, tie('value'), { maxKeys: 3 }) },
  ),
})).value;

/** Values a schema allows or nearly allows: its bounds and one past them, its enum, its example. */
function nearValid(schema: Schema): fc.Arbitrary<unknown> {
  if (schema.enum) return fc.constantFrom(...schema.enum);
  switch (schema.type) {
    case 'number':
    case 'integer': {
      const min = schema.minimum ?? -1_000_000;
      const max = schema.maximum ?? 1_000_000_000;
      return fc.oneof(
        fc.integer({ min: Math.max(min, -(2 ** 31)), max: Math.min(max, 2 ** 31 - 1) }),
        fc.constantFrom(min, max, max, min - 1, max + 1, max * 10, 1),
      );
    }
    case 'string': {
      const maxLength = schema.maxLength ?? 64;
      return fc.oneof(
        { weight: 2, arbitrary: fc.constant(schema.example ?? 'x') },
        {
          weight: 2,
          arbitrary: schema.pattern
            ? fc.stringMatching(new RegExp(schema.pattern))
            : fc.string({ minLength: 1, maxLength: Math.min(maxLength, 32) }),
        },
        { weight: 1, arbitrary: fc.string({ minLength: 1, maxLength: Math.min(maxLength, 32) }) },
        { weight: 2, arbitrary: fc.constantFrom('x'.repeat(maxLength), 'x'.repeat(maxLength + 1)) },
      );
    }
    case 'boolean':
      return fc.boolean();
    case 'array':
      return fc.array(nearValid(schema.items ?? {}), { maxLength: 3 });
    case 'object':
      return objectFor(schema);
    default:
      return scalar;
  }
}

function valueFor(schema: Schema): fc.Arbitrary<unknown> {
  return fc.oneof({ weight: 3, arbitrary: nearValid(schema) }, { weight: 2, arbitrary: hostile });
}

/** The schema's object, each property near-valid, hostile or missing, plus extra properties. */
function objectFor(schema: Schema): fc.Arbitrary<Record<string, unknown>> {
  const props = Object.entries(schema.properties ?? {});
  return fc
    .tuple(
      fc.tuple(...props.map(([, s]) => fc.option(valueFor(s), { nil: MISSING, freq: 6 }))),
      fc.option(fc.dictionary(oddKey, hostile, { minKeys: 1, maxKeys: 3 }), {
        nil: undefined,
        freq: 4,
      }),
    )
    .map(([values, extra]) => {
      const out: Record<string, unknown> = {};
      values.forEach((v, i) => {
        if (v !== MISSING) out[props[i]![0]] = v;
      });
      for (const [k, v] of Object.entries(extra ?? {})) {
        Object.defineProperty(out, k, { value: v, enumerable: true, writable: true });
      }
      return out;
    });
}

// --- encodings -----------------------------------------------------------------------------

/** JSON text of a value, with RawJson literals as written and lone surrogates kept (escaped). */
function toJson(value: unknown): string {
  if (value instanceof RawJson) return value.text;
  if (Array.isArray(value)) return `[${value.map(toJson).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.entries(value)
      .map(([k, v]) => `${JSON.stringify(k)}:${toJson(v)}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** UTF-8 bytes, except that a lone surrogate becomes its 3-byte (invalid UTF-8) form. */
function bytesOf(s: string): number[] {
  const out: number[] = [];
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (cp >= 0xd800 && cp <= 0xdfff)
      out.push(0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f));
    else out.push(...Buffer.from(ch, 'utf8'));
  }
  return out;
}

const UNRESERVED = /[A-Za-z0-9\-._~]/;

/** Percent-encodes every byte outside the unreserved set. */
function pct(s: string): string {
  return bytesOf(s)
    .map((b) =>
      b < 0x80 && UNRESERVED.test(String.fromCharCode(b))
        ? String.fromCharCode(b)
        : `%${b.toString(16).toUpperCase().padStart(2, '0')}`,
    )
    .join('');
}

const pctBytes = (bytes: Uint8Array) =>
  [...bytes].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');

/** A query parameter or form field as `key=value` pairs: arrays repeated, objects bracketed. */
function formPairs(value: unknown, key: string, out: string[]): void {
  if (Array.isArray(value)) value.forEach((v) => formPairs(v, key, out));
  else if (value && typeof value === 'object' && !(value instanceof RawJson)) {
    for (const [k, v] of Object.entries(value).slice(0, 8)) formPairs(v, `${key}[${k}]`, out);
  } else out.push(`${pct(key)}=${pct(value === null ? '' : String(value))}`);
}

function formOf(value: unknown): string {
  const out: string[] = [];
  if (value && typeof value === 'object' && !Array.isArray(value) && !(value instanceof RawJson)) {
    for (const [k, v] of Object.entries(value)) formPairs(v, k, out);
  } else formPairs(value, 'value', out);
  return out.join('&');
}

// --- requests ------------------------------------------------------------------------------

/** One request as it goes on the wire. */
export interface FuzzRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
}

const shown = (body: Buffer | undefined): string => {
  if (!body) return '(no body)';
  const text = body.toString('utf8');
  return text.length > 600
    ? `${JSON.stringify(text.slice(0, 600))}... (${body.length} bytes)`
    : JSON.stringify(text);
};

const shownPath = (path: string): string =>
  path.length > 600 ? `${path.slice(0, 600)}... (${path.length} chars)` : path;

/** How a request is printed in fast-check's counterexample. */
export function describeRequest(r: FuzzRequest): string {
  const headers = Object.entries(r.headers)
    .map(([k, v]) => `${k}: ${v.length > 120 ? `${v.slice(0, 120)}...` : v}`)
    .join('; ');
  return `${r.method} ${shownPath(r.path)} [${headers}] body=${shown(r.body)}`;
}

/** Credentials a request may carry. */
export interface Credentials {
  /** Bearer token with every scope of the demo client. */
  token: string;
  /** Bearer token with `orders:read` only. */
  readOnlyToken: string;
}

const NO_BODY = Symbol('no body');

const CONTENT_TYPES = [
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=fuzz',
  'application/xml',
  'application/json; charset=utf-16le',
  'application/json; charset=latin1',
  'application/json; charset=bogus',
  'application/merge-patch+json',
  'application/vnd.api+json',
  '*/*',
  'garbage',
  'application/json, text/plain',
  '',
];

const rawBody = fc.oneof(
  fc.constantFrom(
    '{',
    '{"a":',
    '[1,2',
    'nul',
    'tru',
    '{"a":1}{"b":2}',
    '{"a":1,}',
    "{'a':1}",
    '\u0000',
    ' ',
    '"\\ud800"',
    '"\\u0000"',
    '{"__proto__":{"polluted":1}}',
    '{"constructor":{"prototype":{"polluted":1}}}',
    '[' + '['.repeat(50_000),
    '{"a":'.repeat(20_000),
    '--fuzz\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--fuzz--\r\n',
  ),
  fc.uint8Array({ maxLength: 48 }).map((b) => Buffer.from(b)),
  oddString,
);

function encodeBody(body: unknown, contentType: string | undefined): Buffer {
  if (Buffer.isBuffer(body)) return body;
  if (typeof body === 'string' && !contentType?.includes('json')) return Buffer.from(body, 'utf8');
  if (contentType === 'application/x-www-form-urlencoded')
    return Buffer.from(formOf(body), 'latin1');
  if (contentType?.startsWith('multipart/')) {
    const fields = formOf(body)
      .split('&')
      .map((pair) => {
        const [k, v = ''] = pair.split('=');
        return `--fuzz\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`;
      });
    return Buffer.from(`${fields.join('')}--fuzz--\r\n`, 'utf8');
  }
  const text = typeof body === 'string' ? body : toJson(body);
  return Buffer.from(text, contentType?.includes('utf-16le') ? 'utf16le' : 'utf8');
}

/** Path parameter values: real ids, unknown ids, and everything else. */
function pathParam(knownIds: readonly string[]): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.uuid() },
    { weight: 2, arbitrary: knownIds.length ? fc.constantFrom(...knownIds) : fc.uuid() },
    { weight: 3, arbitrary: oddString.map(pct) },
    { weight: 1, arbitrary: fc.uuid().map((u) => u.toUpperCase()) },
    { weight: 1, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 24 }).map(pctBytes) },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        '%',
        '%zz',
        '%E0%A4',
        '%ED%A0%80',
        '%00',
        '%2F',
        '%2e%2e',
        '..',
        '.',
        '%20',
        '+',
        '~',
        "'",
        ';',
        ':',
        '@',
        '!',
        '$',
        '*',
        ',',
        '=',
        '-1',
        '0',
        '1e3',
        'null',
        'undefined',
        'x'.repeat(65),
        'x'.repeat(5000),
        'x'.repeat(20_000),
      ),
    },
  );
}

function queryString(op: Operation): fc.Arbitrary<string> {
  const declared = op.query.map(({ name, schema }) =>
    fc.option(
      fc.oneof(
        { weight: 3, arbitrary: nearValid(schema).map((v) => formOf({ [name]: v })) },
        { weight: 3, arbitrary: hostile.map((v) => formOf({ [name]: v })) },
        {
          weight: 1,
          arbitrary: fc.constantFrom(`${name}[]=1`, `${name}[a]=1`, `${name}=1&${name}=2`),
        },
        {
          weight: 1,
          arbitrary: fc.constantFrom(`${name}=%ED%A0%80`, `${name}=%zz`, `${name}`, `${name}=`),
        },
      ),
      { nil: undefined, freq: 3 },
    ),
  );
  const extras = fc.array(
    fc.oneof(
      fc.tuple(oddKey, scalar).map(([k, v]) => formOf({ [k]: v })),
      fc.constantFrom(
        '&',
        '&&=&',
        '=1',
        '%',
        '%zz=1',
        '__proto__[polluted]=1',
        'constructor[prototype][polluted]=1',
      ),
    ),
    { maxLength: 2 },
  );
  return fc.tuple(fc.tuple(...declared), extras).map(([values, more]) => {
    const parts = [...values.filter((v): v is string => v !== undefined && v !== ''), ...more];
    return parts.length ? `?${parts.join('&')}` : '';
  });
}

function authorization(credentials: Credentials): fc.Arbitrary<string | undefined> {
  return fc.oneof(
    { weight: 5, arbitrary: fc.constant(`Bearer ${credentials.token}`) },
    { weight: 3, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary: fc.constant(`Bearer ${credentials.readOnlyToken}`) },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        'Bearer',
        'Bearer ',
        'Bearer x',
        'Bearer a.b.c',
        `Bearer ${credentials.token}x`,
        `bearer ${credentials.token}`,
        `Bearer ${credentials.token.split('.').slice(0, 2).join('.')}.`,
        `Bearer ${'a'.repeat(8000)}`,
        'Basic',
        'Basic !!!',
        `Basic ${Buffer.from('demo:demo-secret').toString('base64')}`,
        `Basic ${Buffer.from('demo:').toString('base64')}`,
        'Digest username="x"',
        'Bearer \u00ff\u00fe',
      ),
    },
    {
      weight: 1,
      arbitrary: fc
        .uint8Array({ maxLength: 40 })
        .map((b) => `Basic ${Buffer.from(b).toString('base64')}`),
    },
  );
}

const headerValue = fc.oneof(
  fc.string({ unit: 'binary-ascii', maxLength: 40 }).map((s) => s.replace(/[^\t\x20-\x7e]/g, '')),
  fc.constantFrom('', ' ', 'x'.repeat(200)),
);

/**
 * Malformed requests for one operation (every part may be wrong at once). `knownIds` are ids that
 * exist (an order placed before the run), so some requests reach past the "not found".
 */
export function requestsFor(
  op: Operation,
  credentials: Credentials,
  knownIds: readonly string[] = [],
): fc.Arbitrary<FuzzRequest> {
  return fc.oneof(
    { weight: 2, arbitrary: nearlyValidRequests(op, credentials, knownIds) },
    { weight: 3, arbitrary: hostileRequests(op, credentials, knownIds) },
  );
}

function pathOf(op: Operation, param: fc.Arbitrary<string>): fc.Arbitrary<string> {
  return fc.tuple(...op.pathParams.map(() => param)).map((values) => {
    let i = 0;
    return op.template.replace(/\{[^}]+\}/g, () => values[i++]!);
  });
}

interface Parts {
  path: string;
  query: string;
  body: unknown;
  contentType: string | undefined;
  auth: string | undefined;
  extraHeaders: Partial<Record<string, string>>;
}

function toRequest(op: Operation, parts: Parts): FuzzRequest {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(parts.extraHeaders)) if (v !== undefined) headers[k] = v;
  if (parts.auth !== undefined) headers.authorization = parts.auth;
  let encoded: Buffer | undefined;
  if (parts.body !== NO_BODY) {
    encoded = encodeBody(parts.body, parts.contentType);
    if (parts.contentType !== undefined) headers['content-type'] = parts.contentType;
  }
  const request: FuzzRequest = {
    method: op.method,
    path: `${parts.path}${parts.query}`,
    headers,
    ...(encoded ? { body: encoded } : {}),
  };
  return Object.assign(request, { [fc.toStringMethod]: () => describeRequest(request) });
}

/**
 * Requests that pass authentication and mostly validation: the schema's values at and just past
 * their bounds, a property missing now and then, so that the handler and the database see the
 * extremes (an amount that overflows its column, a string at its column's length).
 */
function nearlyValidRequests(
  op: Operation,
  credentials: Credentials,
  knownIds: readonly string[],
): fc.Arbitrary<FuzzRequest> {
  const id = fc.oneof(
    { weight: 2, arbitrary: knownIds.length ? fc.constantFrom(...knownIds) : fc.uuid() },
    { weight: 1, arbitrary: fc.uuid() },
  );
  const query = fc
    .tuple(
      ...op.query.map(({ name, schema }) =>
        fc.option(
          nearValid(schema).map((v) => formOf({ [name]: v })),
          { nil: undefined, freq: 3 },
        ),
      ),
    )
    .map((values) => {
      const parts = values.filter((v): v is string => v !== undefined && v !== '');
      return parts.length ? `?${parts.join('&')}` : '';
    });
  const props = Object.entries(op.body?.properties ?? {});
  const body = op.body
    ? fc
        .tuple(...props.map(([, s]) => fc.option(nearValid(s), { nil: MISSING, freq: 15 })))
        .map((values) =>
          Object.fromEntries(
            values.flatMap((v, i) => (v === MISSING ? [] : [[props[i]![0], v] as const])),
          ),
        )
    : fc.constant(NO_BODY);
  return fc
    .record({
      path: pathOf(op, id),
      query,
      body,
      contentType: fc.constant('application/json'),
      auth: fc.oneof(
        { weight: 9, arbitrary: fc.constant(`Bearer ${credentials.token}`) },
        { weight: 1, arbitrary: fc.constant(`Bearer ${credentials.readOnlyToken}`) },
      ),
      extraHeaders: fc.constant({}),
    })
    .map((parts) => toRequest(op, parts));
}

/** Requests wrong in any part, several at once. */
function hostileRequests(
  op: Operation,
  credentials: Credentials,
  knownIds: readonly string[],
): fc.Arbitrary<FuzzRequest> {
  const hasBody = op.body !== undefined;
  const body = fc.oneof(
    { weight: hasBody ? 8 : 0, arbitrary: op.body ? objectFor(op.body) : fc.constant(NO_BODY) },
    { weight: 2, arbitrary: hostile },
    { weight: 2, arbitrary: rawBody },
    { weight: hasBody ? 1 : 8, arbitrary: fc.constant(NO_BODY) },
  );
  const contentType = fc.oneof(
    { weight: 6, arbitrary: fc.constant<string | undefined>('application/json') },
    { weight: 1, arbitrary: fc.constant<string | undefined>(undefined) },
    { weight: 3, arbitrary: fc.constantFrom<string | undefined>(...CONTENT_TYPES) },
  );
  const extraHeaders = fc.record(
    {
      accept: fc.constantFrom(
        'application/xml',
        '*/*',
        'text/html',
        'application/problem+json',
        'x',
      ),
      'content-encoding': fc.constantFrom('gzip', 'br', 'deflate', 'identity', 'bogus'),
      'x-correlation-id': headerValue,
      traceparent: headerValue,
      'accept-language': headerValue,
    },
    { requiredKeys: [] },
  );
  return fc
    .record({
      path: pathOf(op, pathParam(knownIds)),
      query: queryString(op),
      body,
      contentType,
      auth: authorization(credentials),
      extraHeaders,
    })
    .map((parts) => toRequest(op, parts));
}

// --- the wire ------------------------------------------------------------------------------

export interface FuzzResponse {
  status: number;
  contentType: string;
  body: string;
}

/** Sends a request over HTTP/1.1 (keep-alive), as generated: no normalisation on the way. */
export function send(
  port: number,
  agent: Agent,
  r: FuzzRequest,
  timeoutMs = 15_000,
): Promise<FuzzResponse> {
  return new Promise((resolvePromise, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        agent,
        method: r.method,
        path: r.path,
        headers: { ...r.headers, 'content-length': String(r.body?.length ?? 0) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () =>
          resolvePromise({
            status: res.statusCode ?? 0,
            contentType: String(res.headers['content-type'] ?? ''),
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(r.body);
  });
}

/** Why a response breaks the contract (no 5xx; every 4xx a problem+json), or undefined. */
export function contractViolation(res: FuzzResponse): string | undefined {
  if (res.status >= 500) return `answered ${res.status}: ${res.body.slice(0, 300)}`;
  if (res.status < 400) return undefined;
  if (!res.contentType.startsWith('application/problem+json')) {
    return `answered ${res.status} as "${res.contentType}", not application/problem+json: ${res.body.slice(0, 300)}`;
  }
  let body: { type?: unknown; title?: unknown; status?: unknown };
  try {
    body = JSON.parse(res.body) as typeof body;
  } catch {
    return `answered ${res.status} with a problem+json body that is not JSON: ${res.body.slice(0, 300)}`;
  }
  if (
    typeof body.type !== 'string' ||
    typeof body.title !== 'string' ||
    body.status !== res.status
  ) {
    return `answered ${res.status} with a problem lacking type/title/status: ${res.body.slice(0, 300)}`;
  }
  return undefined;
}
