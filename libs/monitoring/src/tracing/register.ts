/**
 * Load first: `node --import @infrastructure/monitoring/tracing/register dist/main.js`.
 * Starts OpenTelemetry when an OTLP endpoint is configured (`OTEL_EXPORTER_OTLP_ENDPOINT`);
 * otherwise returns at once and loads nothing.
 */
import { register } from 'node:module';
import { MissingDependencyError } from '@infrastructure/core';
import { startTracing, tracingRequested, TRACING } from './sdk.js';

if (tracingRequested()) {
  // ESM modules are instrumented through this loader hook; it must be in place before they load.
  try {
    import.meta.resolve('@opentelemetry/instrumentation/hook.mjs');
  } catch {
    throw new MissingDependencyError('@opentelemetry/instrumentation', TRACING);
  }
  register('@opentelemetry/instrumentation/hook.mjs', import.meta.url);
  await startTracing();
}
