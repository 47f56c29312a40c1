// Module and setup
export { MonitoringModule, setupMonitoring } from './monitoring.module.js';
export { MONITORING_MODULE_OPTIONS } from './monitoring.module-definition.js';
export { MONITORING_OPTIONS } from './monitoring.constants.js';
export type {
  HealthOptions,
  LoggingOptions,
  MetricsAuth,
  MetricsOptions,
  MonitoringExtras,
  MonitoringOptions,
  ResolvedMonitoringOptions,
  ShutdownOptions,
  TracingOptions,
} from './monitoring.options.js';
export { MetricConflictError, MonitoringOptionsError } from './errors.js';

// Context
export {
  RequestContext,
  currentContext,
  type RequestContextStore,
} from './context/request-context.js';
export { CORRELATION_HEADER, correlationIdOf, isSafeCorrelationId } from './context/correlation.js';

// Logging
export { getLogger, flushLogs, rootLogger } from './logging/root-logger.js';
export { JsonNestLogger } from './logging/json-nest-logger.js';
export { DEFAULT_SECRET_KEY, REDACTED_HEADERS, redactDeep } from './logging/redact.js';
export { PinoLogger as AppLogger, InjectPinoLogger as InjectLogger } from 'nestjs-pino';

// Metrics
export { MetricsService } from './metrics/metrics.service.js';
export {
  counterSeries,
  histogramSeries,
  type CounterSeries,
  type HistogramSeries,
} from './metrics/series.js';
export { routeOf, UNMATCHED_ROUTE } from './metrics/route.js';
export {
  InjectMetric,
  makeCounterProvider,
  makeGaugeProvider,
  makeHistogramProvider,
  makeSummaryProvider,
} from '@willsoto/nestjs-prometheus';

// Tracing
export { Span } from './tracing/span.decorator.js';
export { TracingInterceptor } from './tracing/tracing.interceptor.js';
export { TracingGuard } from './tracing/tracing.guard.js';
export {
  CONTEXT_HEADERS,
  extractContext,
  extractRequestContext,
  injectContext,
  type ExtractedContext,
} from './tracing/propagation.js';
export { startTracing, shutdownTracing, tracingRequested } from './tracing/sdk.js';

// Health
export {
  HealthDegradedError,
  HealthRegistry,
  type HealthCheckFn,
  type HealthCheckOptions,
  type HealthDetails,
  type HealthScope,
} from './health/health.registry.js';

// Shutdown
export { ShutdownService, type ShutdownPhase } from './shutdown/shutdown.service.js';

// HTTP error contract
export { ProblemDetailsFilter } from './http/problem-details.filter.js';
export {
  problem,
  PROBLEM_CONTENT_TYPE,
  type ProblemDetails,
  type ProblemFieldError,
} from './http/problem-details.js';
export { createValidationPipe, type ValidationPipeOptions } from './http/validation.pipe.js';
export {
  answerClientErrorsAsProblems,
  fastifyProblemOptions,
  type FastifyProblemOptions,
} from './http/client-errors.js';

// Configuration
export { monitoringConfig, monitoringOptionsFrom } from './monitoring.config.js';
// Moved to @infrastructure/core; re-exported for callers that bound calls or catch TimeoutError.
export { TimeoutError, withTimeout } from '@infrastructure/core';
