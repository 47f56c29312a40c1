import type { Instrumentation } from '@opentelemetry/instrumentation';
import { loadDriver, maskUrlPassword } from '@infrastructure/core';
import { markHttpServerSpans } from './server-spans.js';

const SDK_KEY = Symbol.for('infrastructure.otel.sdk');

/** Which env settings turn tracing on: an OTLP endpoint, unless the SDK or the exporter is switched off. */
export function tracingRequested(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.OTEL_SDK_DISABLED === 'true') return false;
  if (env.OTEL_TRACES_EXPORTER === 'none') return false;
  return Boolean(
    env.OTEL_EXPORTER_OTLP_ENDPOINT ||
    env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ||
    env.OTEL_TRACES_EXPORTER,
  );
}

function installed(pkg: string): boolean {
  try {
    import.meta.resolve(pkg);
    return true;
  } catch {
    return false;
  }
}

/** The feature a missing OpenTelemetry package is named for. */
export const TRACING = 'Tracing (an OTLP endpoint is set)';

/** Paths whose server spans are not worth recording. */
const IGNORED_PATHS = /^\/(health(\/|$)|metrics$)/;

/**
 * Attributes the HTTP instrumentation puts on a server span over its own: `url.query` with the
 * values of secret parameters masked (`code=***`, core's `SECRET_QUERY_PARAM`). Its built-in
 * redaction knows only a few exact names (`sig`, `X-Amz-Signature`...), not `token` or `code`.
 */
export function maskedQueryAttributes(req: { url?: string }): Record<string, string> {
  const url = req.url ?? '';
  const q = url.indexOf('?');
  return q === -1 ? {} : { 'url.query': maskUrlPassword(url.slice(q)).slice(1) };
}

async function instrumentations(): Promise<Instrumentation[]> {
  const list: Instrumentation[] = [];
  const { HttpInstrumentation } = await loadDriver<
    typeof import('@opentelemetry/instrumentation-http')
  >('@opentelemetry/instrumentation-http', TRACING);
  list.push(
    new HttpInstrumentation({
      ignoreIncomingRequestHook: (req) => IGNORED_PATHS.test((req.url ?? '').split('?')[0] ?? ''),
      startIncomingSpanHook: maskedQueryAttributes,
    }),
  );
  // Each one is loaded only when the library it instruments and the instrumentation (an optional
  // peer of this package) are both installed.
  const optional: Array<[string[], () => Promise<Instrumentation>]> = [
    [
      ['express', '@opentelemetry/instrumentation-express'],
      async () => {
        const { ExpressInstrumentation, ExpressLayerType: layer } =
          await import('@opentelemetry/instrumentation-express');
        // No span per Express layer (2 spans a GET instead of 7, a third less CPU: bench/README.md,
        // tracing): the handler span names the Nest handler and the route, and the
        // instrumentation still gives the server span its route, also for requests no handler takes.
        return new ExpressInstrumentation({
          ignoreLayersType: [layer.MIDDLEWARE, layer.ROUTER, layer.REQUEST_HANDLER],
        });
      },
    ],
    [
      ['fastify', '@fastify/otel'],
      async () =>
        // No span per Fastify hook or for its handler wrapper (the handler span names the Nest
        // handler): the request span stays and gives the server span its route.
        new (await import('@fastify/otel')).FastifyOtelInstrumentation({
          registerOnInitialization: true,
          instrumentHooks: false,
          instrumentHandler: false,
        }),
    ],
    [
      ['pg', '@opentelemetry/instrumentation-pg'],
      async () => new (await import('@opentelemetry/instrumentation-pg')).PgInstrumentation(),
    ],
    [
      ['mysql2', '@opentelemetry/instrumentation-mysql2'],
      async () =>
        new (await import('@opentelemetry/instrumentation-mysql2')).MySQL2Instrumentation(),
    ],
    [
      ['ioredis', '@opentelemetry/instrumentation-ioredis'],
      async () =>
        new (await import('@opentelemetry/instrumentation-ioredis')).IORedisInstrumentation(),
    ],
    [
      ['amqplib', '@opentelemetry/instrumentation-amqplib'],
      async () =>
        new (await import('@opentelemetry/instrumentation-amqplib')).AmqplibInstrumentation(),
    ],
    [
      // Diagnostics-channel based (no module patching): producer send spans, client API metrics.
      ['@platformatic/kafka', '@platformatic/kafka-opentelemetry'],
      async () => new (await import('@platformatic/kafka-opentelemetry')).KafkaInstrumentation(),
    ],
  ];
  for (const [pkgs, create] of optional) {
    if (pkgs.every(installed)) list.push(await create());
  }
  return list;
}

/**
 * Our defaults for the SDK's env settings, where the user set none: no OTLP metrics or logs
 * (metrics go to Prometheus; an OTLP metrics exporter would also delay shutdown), and the service
 * named by `SERVICE_NAME`. An unset `SERVICE_NAME` leaves `OTEL_SERVICE_NAME` unset (assigning
 * `undefined` to `process.env` stores the string "undefined", which became the service name).
 */
export function applySdkEnvDefaults(env: NodeJS.ProcessEnv): void {
  env.OTEL_METRICS_EXPORTER ??= 'none';
  env.OTEL_LOGS_EXPORTER ??= 'none';
  if (env.SERVICE_NAME) env.OTEL_SERVICE_NAME ??= env.SERVICE_NAME;
}

/**
 * Starts the OpenTelemetry Node SDK, configured by the standard `OTEL_*` variables
 * (`OTEL_EXPORTER_OTLP_ENDPOINT`, `OTEL_EXPORTER_OTLP_PROTOCOL`, `OTEL_SERVICE_NAME`,
 * `OTEL_TRACES_SAMPLER`...). Returns false (and loads nothing) when tracing is not requested.
 */
export async function startTracing(env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  if (!tracingRequested(env)) return false;
  const holder = globalThis as { [SDK_KEY]?: { shutdown(): Promise<void> } };
  if (holder[SDK_KEY]) return true;
  applySdkEnvDefaults(env);
  const { NodeSDK } = await loadDriver<typeof import('@opentelemetry/sdk-node')>(
    '@opentelemetry/sdk-node',
    TRACING,
  );
  const sdk = new NodeSDK({ instrumentations: await instrumentations() });
  sdk.start();
  // The HTTP instrumentation is always in the list: the Nest handler is named on its server span.
  markHttpServerSpans();
  holder[SDK_KEY] = sdk;
  return true;
}

/** Flushes and stops the SDK if it was started (called at the end of graceful shutdown). */
export async function shutdownTracing(): Promise<void> {
  const holder = globalThis as { [SDK_KEY]?: { shutdown(): Promise<void> } };
  const sdk = holder[SDK_KEY];
  if (!sdk) return;
  delete holder[SDK_KEY];
  await sdk.shutdown();
}
