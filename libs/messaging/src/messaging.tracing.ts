import {
  context,
  propagation,
  ProxyTracerProvider,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Span,
  type Tracer,
  type TracerProvider,
} from '@opentelemetry/api';
import type { HandlingOutcome, OutgoingMessage } from './transports/transport.js';

// Messaging spans after the OpenTelemetry messaging semantic conventions: `publish <type>`
// (PRODUCER) per publish, `send <type>` (PRODUCER) per outbox relay send, `process <type>`
// (CONSUMER) per delivery. Nothing here runs while no tracer provider is registered.

/** Name of the tracer the messaging spans come from. */
export const MESSAGING_TRACER = '@infrastructure/messaging';

// The provider a ProxyTracerProvider hands out until an SDK registers one (a shared singleton).
const NOOP_PROVIDER = new ProxyTracerProvider().getDelegate();
let cached: { provider: TracerProvider; tracer: Tracer } | undefined;

/**
 * The messaging tracer once a tracer provider is registered (an SDK was started), else
 * `undefined`: without one, callers skip every span step (no allocation per message).
 */
export function messagingTracer(): Tracer | undefined {
  const global = trace.getTracerProvider();
  const provider = global instanceof ProxyTracerProvider ? global.getDelegate() : global;
  if (provider === NOOP_PROVIDER) return undefined;
  if (cached?.provider !== provider) {
    cached = { provider, tracer: provider.getTracer(MESSAGING_TRACER) };
  }
  return cached.tracer;
}

/** The one type all of `types` share, else undefined (a batch of mixed types). */
function commonType(types: readonly string[]): string | undefined {
  const first = types[0];
  for (const t of types) if (t !== first) return undefined;
  return first;
}

/**
 * Starts the PRODUCER span of one `publish` call (`operation` publish; type `send` when it goes
 * to the broker, `create` when it goes to the outbox) or of one relay send (`send`/`send`).
 */
export function startProducerSpan(
  tracer: Tracer,
  system: string,
  operation: 'publish' | 'send',
  operationType: 'send' | 'create',
  types: readonly string[],
  parent: Context,
): Span {
  const destination = commonType(types);
  const attributes: Attributes = {
    'messaging.system': system,
    'messaging.operation.name': operation,
    'messaging.operation.type': operationType,
  };
  if (destination !== undefined) attributes['messaging.destination.name'] = destination;
  if (types.length > 1) attributes['messaging.batch.message_count'] = types.length;
  return tracer.startSpan(
    destination === undefined ? operation : `${operation} ${destination}`,
    { kind: SpanKind.PRODUCER, attributes },
    parent,
  );
}

/** Sets `messaging.message.id` on a span of a single message. */
export function setMessageId(span: Span, messages: readonly OutgoingMessage[]): void {
  const id = messages.length === 1 ? messages[0]!.headers['x-message-id'] : undefined;
  if (id) span.setAttribute('messaging.message.id', id);
}

/**
 * Starts the CONSUMER span of one delivery. Its parent is the context the message carries (the
 * publisher's span, or the broker client's send span when that client is instrumented too); a
 * message without one continues whatever is active (the broker client's consumer span, if any).
 */
export function startConsumerSpan(
  tracer: Tracer,
  system: string,
  type: string,
  group: string,
  attempt: number,
  messageId: string | undefined,
  carried: Context,
): { span: Span; context: Context } {
  const parent = trace.getSpanContext(carried) ? carried : context.active();
  const attributes: Attributes = {
    'messaging.system': system,
    'messaging.operation.name': 'process',
    'messaging.operation.type': 'process',
    'messaging.destination.name': type,
    'messaging.consumer.group.name': group,
    'messaging.delivery.attempt': attempt,
  };
  if (messageId) attributes['messaging.message.id'] = messageId;
  const span = tracer.startSpan(`process ${type}`, { kind: SpanKind.CONSUMER, attributes }, parent);
  return { span, context: trace.setSpan(parent, span) };
}

/** Ends a consumer span with the pipeline's outcome; a failed handler marks it ERROR. */
export function endConsumerSpan(
  span: Span,
  outcome: HandlingOutcome | 'duplicate',
  failure: unknown,
): void {
  span.setAttribute('messaging.outcome', outcome);
  if (failure !== undefined) recordFailure(span, failure);
  span.end();
}

/** Records an exception and ERROR status on a span. */
export function recordFailure(span: Span, error: unknown): void {
  if (error instanceof Error) span.recordException(error);
  span.setStatus({
    code: SpanStatusCode.ERROR,
    message: error instanceof Error ? error.message : String(error),
  });
}

/** The trace context stored with a message (its `traceparent`/`tracestate` headers). */
export function storedContext(headers: Record<string, string>): Context {
  return propagation.extract(ROOT_CONTEXT, headers);
}

/**
 * Splits a relay batch into runs of consecutive messages that carry the same trace context: each
 * run is sent under a span of its own trace, in order.
 */
export function runsByTrace(messages: readonly OutgoingMessage[]): OutgoingMessage[][] {
  const runs: OutgoingMessage[][] = [];
  let current: OutgoingMessage[] = [];
  let traceparent: string | undefined;
  for (const m of messages) {
    if (current.length > 0 && m.headers.traceparent !== traceparent) {
      runs.push(current);
      current = [];
    }
    traceparent = m.headers.traceparent;
    current.push(m);
  }
  if (current.length > 0) runs.push(current);
  return runs;
}
