// The baseline a Nest team would write from the OpenTelemetry getting-started guide, loaded with
// `node --import`: the Node SDK, the HTTP instrumentation plus the framework's own (Express, or
// @fastify/otel), and the OTLP/HTTP (protobuf) exporter behind the SDK's default batch processor.
// Configured by the standard OTEL_* variables (endpoint, sampler), like ours.
import { register } from 'node:module';

register('@opentelemetry/instrumentation/hook.mjs', import.meta.url);
const { NodeSDK } = await import('@opentelemetry/sdk-node');
const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-proto');
const { HttpInstrumentation } = await import('@opentelemetry/instrumentation-http');
const framework =
  process.env.BENCH_ADAPTER === 'fastify'
    ? new (await import('@fastify/otel')).FastifyOtelInstrumentation({
        registerOnInitialization: true,
      })
    : new (await import('@opentelemetry/instrumentation-express')).ExpressInstrumentation();
new NodeSDK({
  serviceName: 'bench-otel-stock',
  traceExporter: new OTLPTraceExporter(),
  instrumentations: [new HttpInstrumentation(), framework],
}).start();
