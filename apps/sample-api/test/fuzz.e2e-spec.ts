import * as fc from 'fast-check';
import { Agent } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type { INestApplication } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestDatabase } from '@infrastructure/testing';
import { createApp } from '../src/bootstrap.js';
import {
  contractViolation,
  describeRequest,
  operationsOf,
  requestsFor,
  send,
  type Credentials,
  type FuzzRequest,
  type OpenApiDocument,
  type Operation,
} from './openapi-fuzz.js';

/*
 * Issue 17 "No 5xx from input": every operation of the sample's own OpenAPI document gets
 * FUZZ_RUNS requests (default below), nearly valid (values at and past the schema's bounds) or
 * malformed in any part, with and without credentials, on the app as main.ts builds it: Express
 * on SQLite (the embedded defaults) and Fastify on PostgreSQL (a throwaway schema), so both
 * adapters' parsers and routers are covered too. No answer may be a 5xx, and every 4xx is an
 * RFC 9457 problem (application/problem+json with type, title, status).
 *
 * A failure prints fast-check's seed and path and the request (method, path, headers, body);
 * replay it with FUZZ_SEED=<seed> FUZZ_PATH=<path> and `-t '<the test name>'`. FUZZ_STATS=1 logs
 * the statuses seen per operation; FUZZ_LOG_LEVEL=error shows the app's log of a 500.
 */

// 400 a test (9,600 requests): 14 s for both databases on an idle 2-core machine, ~30 s on a
// loaded one, which leaves CI room under its minute; FUZZ_RUNS=10000 for a long local run.
const RUNS = Number(process.env.FUZZ_RUNS ?? 400);
const SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);
const PATH = process.env.FUZZ_PATH;

const env = {
  NODE_ENV: 'test',
  LOG_LEVEL: process.env.FUZZ_LOG_LEVEL ?? 'fatal',
  LOG_PRETTY: 'false',
  DOCS_ENABLED: 'true',
  // The fuzzer's requests come from one IP: the limiter would answer most of them with 429.
  RATE_LIMIT_PER_MINUTE: '0',
};

interface Target {
  app: INestApplication;
  port: number;
  agent: Agent;
  credentials: Credentials;
  knownIds: string[];
  operations: Operation[];
  close(): Promise<void>;
}

async function token(port: number, agent: Agent, scope?: string): Promise<string> {
  const res = await send(port, agent, {
    method: 'POST',
    path: '/v1/auth/token',
    headers: { 'content-type': 'application/json' },
    body: Buffer.from(
      JSON.stringify({
        grant_type: 'client_credentials',
        client_id: 'demo',
        client_secret: 'demo-secret',
        ...(scope ? { scope } : {}),
      }),
    ),
  });
  expect(res.status).toBe(200);
  return (JSON.parse(res.body) as { access_token: string }).access_token;
}

/** The built app as main.ts builds it (same body limits and parsers), listening on a free port. */
async function boot(adapter: 'express' | 'fastify', databaseUrl: string): Promise<Target> {
  const { app } = await createApp({
    env: { ...env, HTTP_ADAPTER: adapter, DATABASE_URL: databaseUrl },
    envFiles: false,
  });
  await app.listen(0, '127.0.0.1');
  const port = ((app.getHttpServer() as Server).address() as AddressInfo).port;
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const credentials = {
    token: await token(port, agent),
    readOnlyToken: await token(port, agent, 'orders:read'),
  };
  // Orders that exist, so that some requests get past "not found" (cancel, events, summary).
  const knownIds = ['fuzz-customer'];
  for (let i = 0; i < 3; i++) {
    const placed = await send(port, agent, {
      method: 'POST',
      path: '/v1/orders',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${credentials.token}` },
      body: Buffer.from(
        JSON.stringify({ customerId: 'fuzz-customer', sku: 'F-1', quantity: 1, unitPriceCents: 5 }),
      ),
    });
    expect(placed.status).toBe(201);
    knownIds.push((JSON.parse(placed.body) as { id: string }).id);
  }
  const docs = await send(port, agent, { method: 'GET', path: '/docs-json', headers: {} });
  expect(docs.status).toBe(200);
  const operations = operationsOf(JSON.parse(docs.body) as OpenApiDocument);
  return {
    app,
    port,
    agent,
    credentials,
    knownIds,
    operations,
    close: async () => {
      agent.destroy();
      await app.close();
    },
  };
}

/** Fuzzes one operation; on failure throws fast-check's report (seed, path, the request). */
async function fuzz(target: Target, op: Operation): Promise<Map<number, number>> {
  const statuses = new Map<number, number>();
  const property = fc.asyncProperty(
    requestsFor(op, target.credentials, target.knownIds),
    async (request: FuzzRequest) => {
      const res = await send(target.port, target.agent, request);
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      const violation = contractViolation(res);
      if (violation) throw new Error(`${violation}\n  request: ${describeRequest(request)}`);
    },
  );
  const details = await fc.check(property, {
    numRuns: RUNS,
    ...(SEED === undefined ? {} : { seed: SEED }),
    ...(PATH === undefined ? {} : { path: PATH }),
  });
  if (details.failed) {
    throw new Error(
      `${op.method} ${op.template}: ${fc.defaultReportMessage(details)}\n` +
        `${details.errorInstance instanceof Error ? details.errorInstance.message : ''}\n` +
        `Replay: FUZZ_SEED=${details.seed} FUZZ_PATH=${details.counterexamplePath} ` +
        `npx vitest run --project int apps/sample-api/test/fuzz.e2e-spec.ts -t '${op.method} ${op.template}: no 5xx'`,
    );
  }
  return statuses;
}

/** The operations fuzzed, exactly the document's: a missing or a new one fails (list it here). */
const EXPECTED = [
  'GET /',
  'POST /v1/auth/token',
  'GET /health/live',
  'GET /health/ready',
  'GET /health',
  'GET /.well-known/jwks.json',
  'POST /v1/orders',
  'GET /v1/orders',
  'POST /v1/orders/{id}/cancel',
  'GET /v1/orders/{id}/events',
  'GET /v1/orders/{id}',
  'GET /v1/customers/{customerId}/order-summary',
];

function fuzzSuite(label: string, open: () => Promise<Target>) {
  describe(`${label}`, () => {
    let target: Target;
    beforeAll(async () => {
      target = await open();
    });
    afterAll(() => target?.close());

    it('lists every operation in its OpenAPI document', () => {
      expect(target.operations.map((o) => `${o.method} ${o.template}`).sort()).toEqual(
        [...EXPECTED].sort(),
      );
    });

    it.each(EXPECTED)(
      '%s: no 5xx and every 4xx a problem, whatever the input',
      { timeout: 120_000 },
      async (name) => {
        const op = target.operations.find((o) => `${o.method} ${o.template}` === name);
        expect(op).toBeDefined();
        const statuses = await fuzz(target, op!);
        if (process.env.FUZZ_STATS) console.log(name, Object.fromEntries(statuses));
        // Some requests went all the way through (a 2xx; the token endpoint: a refused client),
        // else the fuzz tested only the guards in front of the handler.
        const through = [...statuses.keys()].some(
          (s) => s < 300 || (name === 'POST /v1/auth/token' && s === 401),
        );
        expect({ name, through }).toEqual({ name, through: true });
      },
    );
  });
}

fuzzSuite('OpenAPI fuzz on express + SQLite (embedded defaults)', () =>
  boot('express', 'sqlite::memory:'),
);

describe('OpenAPI fuzz on fastify + PostgreSQL', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await TestDatabase.create({
      url: 'postgres://postgres@127.0.0.1:5432/test',
      migrations: [],
      synchronize: false,
    });
  });
  afterAll(() => db?.destroy());
  fuzzSuite('(throwaway schema, the app migrates it)', () => boot('fastify', db.url));
});
