import {
  EventValidationError,
  formatIssues,
  malformedEnvelope,
  PoisonMessageError,
  type EventValidationIssue,
} from './errors.js';
import type { DomainEvent, DomainEventClass } from './domain-event.js';
import { copyJsonData, toJsonData } from '@infrastructure/core';

/** Wire form of an event: JSON, schema-versioned, self-describing. */
export interface EventEnvelope {
  id: string;
  type: string;
  schemaVersion: number;
  occurredAt: string;
  aggregateId?: string;
  aggregateType?: string;
  version?: number;
  /** The event's own fields. */
  payload: Record<string, unknown>;
  metadata: Record<string, string>;
}

/** Turns an old payload into the next schema version's. */
export type Upcaster = (payload: Record<string, unknown>) => Record<string, unknown>;

/** One issue a schema reports (the Standard Schema issue shape). */
export interface EventSchemaIssue {
  readonly message: string;
  readonly path?: ReadonlyArray<PropertyKey | { readonly key: PropertyKey }> | undefined;
}

/** What a schema's `validate` returns (the Standard Schema result shape). */
export type EventSchemaResult =
  | { readonly value: unknown; readonly issues?: undefined }
  | { readonly issues: ReadonlyArray<EventSchemaIssue> };

/**
 * The payload schema of an event type: any [Standard Schema](https://standardschema.dev) v1
 * (zod 3.24+ and 4, valibot 1, arktype 2, effect Schema...), synchronous or not. Declared
 * structurally, so the messaging lib needs none of those libraries in your app's types.
 */
export interface EventSchema {
  readonly '~standard': {
    readonly version: 1;
    readonly vendor: string;
    readonly validate: (value: unknown) => EventSchemaResult | Promise<EventSchemaResult>;
  };
}

/** Options of {@link DomainEventType}. */
export interface DomainEventTypeOptions {
  /** Version of the payload's shape; envelopes of older versions are upcast. @default 1 */
  schemaVersion?: number;
  /** `upcasters[n]` turns a version-`n` payload into version `n + 1`. */
  upcasters?: Record<number, Upcaster>;
  /**
   * Schema of the payload as it travels (JSON: the event's own fields, without `id`,
   * `occurredAt`, `aggregateId`, `aggregateType`, `version`, `metadata`), at the current
   * `schemaVersion`. Checked by `EventBus.publish` (an invalid event throws
   * `EventValidationError`, nothing is published or written to the outbox) and on every delivery
   * after upcasting (an invalid payload is dead-lettered at once, `invalid-payload`). Validation
   * only: handlers get the fields as they travelled, not the schema's output.
   * @example schema: z.object({ orderId: z.string(), totalCents: z.number().int().nonnegative() })
   */
  schema?: EventSchema;
}

interface Registration {
  type: string;
  schemaVersion: number;
  cls: DomainEventClass;
  upcasters: Map<number, Upcaster>;
  schema?: EventSchema;
}

const byClass = new Map<Function, Registration>();
const byType = new Map<string, Registration>();
const BASE_FIELDS = new Set([
  'id',
  'occurredAt',
  'aggregateId',
  'aggregateType',
  'version',
  'metadata',
]);

/**
 * Registers an event class under a stable name (the wire `type`) and schema version.
 * `upcasters[n]` turns a version-`n` payload into version `n + 1`; `schema` validates the
 * payload on publish and on consume.
 *
 * @example
 * @DomainEventType('orders.OrderPlaced', {
 *   schema: z.object({ orderId: z.string(), totalCents: z.number().int() }),
 * })
 */
export function DomainEventType(
  type: string,
  options: DomainEventTypeOptions = {},
): ClassDecorator {
  if (options.schema && typeof options.schema['~standard']?.validate !== 'function') {
    throw new TypeError(
      `@DomainEventType('${type}'): options.schema must be a Standard Schema (zod, valibot, arktype...): it has no ~standard.validate`,
    );
  }
  return (target) => {
    const registration: Registration = {
      type,
      schemaVersion: options.schemaVersion ?? 1,
      cls: target as unknown as DomainEventClass,
      upcasters: new Map(Object.entries(options.upcasters ?? {}).map(([v, f]) => [Number(v), f])),
      ...(options.schema ? { schema: options.schema } : {}),
    };
    const existing = byType.get(type);
    if (existing && existing.cls !== registration.cls) {
      throw new TypeError(
        `@DomainEventType('${type}') is used by both ${existing.cls.name} and ${target.name}`,
      );
    }
    byClass.set(target, registration);
    byType.set(type, registration);
  };
}

/** The wire name of an event class. */
export function eventTypeOf(cls: Function): string {
  const r = byClass.get(cls);
  if (!r)
    throw new TypeError(
      `${cls.name} is not registered: decorate it with @DomainEventType('${cls.name}')`,
    );
  return r.type;
}

/**
 * Serialises an event to its envelope. `clone` (default) turns the payload and metadata into the
 * plain data their JSON text reads back as (`toJsonData`: dates become ISO strings, nothing is
 * shared with the event); pass `false` when the envelope is stringified right away.
 * @throws TypeError for an unregistered class, and as `JSON.stringify` does (a BigInt, a cycle).
 */
export function toEnvelope(event: DomainEvent, clone = true): EventEnvelope {
  const r = byClass.get(event.constructor);
  if (!r)
    throw new TypeError(
      `${event.constructor.name} is not registered: decorate it with @DomainEventType`,
    );
  const payload: Record<string, unknown> = {};
  for (const k of Object.keys(event)) {
    if (!BASE_FIELDS.has(k)) payload[k] = (event as unknown as Record<string, unknown>)[k];
  }
  const envelope: EventEnvelope = {
    id: event.id,
    type: r.type,
    schemaVersion: r.schemaVersion,
    occurredAt: isoOf(event.occurredAt),
    payload: clone ? (toJsonData(payload) as Record<string, unknown>) : payload,
    metadata: clone
      ? (toJsonData(event.metadata ?? {}) as Record<string, string>)
      : { ...event.metadata },
  };
  if (event.aggregateId !== undefined) envelope.aggregateId = event.aggregateId;
  if (event.aggregateType !== undefined) envelope.aggregateType = event.aggregateType;
  if (event.version !== undefined) envelope.version = event.version;
  return envelope;
}

/**
 * A deep copy of an envelope this bus built (`toEnvelope` with `clone`): what an in-process
 * delivery decodes, so no handler shares data with the publisher, another group or a retry.
 */
export function copyEnvelope(envelope: EventEnvelope): EventEnvelope {
  return {
    ...envelope,
    payload: copyJsonData(envelope.payload),
    metadata: copyJsonData(envelope.metadata),
  };
}

// `toISOString` of the last millisecond seen: events published together mostly share one.
let lastIsoMs = Number.NaN;
let lastIso = '';

// The last `occurredAt` text parsed, and its time: deliveries of one burst mostly share it.
let lastParsedIso: unknown;
let lastParsedMs = Number.NaN;

/** `new Date(iso)` (now when there is none), parsing each distinct text once in a row. */
function dateOf(iso: string | undefined): Date {
  if (iso === undefined || iso === null) return new Date();
  if (iso !== lastParsedIso) {
    lastParsedMs = new Date(iso).getTime();
    lastParsedIso = iso;
  }
  return new Date(lastParsedMs);
}

function isoOf(date: Date): string {
  const ms = date.getTime();
  if (ms !== lastIsoMs) {
    lastIso = date.toISOString(); // throws a RangeError for an invalid date, as before
    lastIsoMs = ms;
  }
  return lastIso;
}

/**
 * Rebuilds an instance of the registered class from an envelope, upcasting old schema versions.
 * @throws PoisonMessageError for an unknown type, a newer schema version, or a malformed envelope.
 */
export function fromEnvelope(envelope: unknown): DomainEvent {
  return decodeEnvelope(envelope).event;
}

/** {@link fromEnvelope}, and the upcast payload and registration it was built from. */
function decodeEnvelope(envelope: unknown): {
  event: DomainEvent;
  payload: Record<string, unknown>;
  registration: Registration;
} {
  const defect = envelopeDefect(envelope);
  if (defect) throw malformedEnvelope(defect);
  const e = envelope as EventEnvelope;
  const r = byType.get(e.type);
  if (!r) {
    throw new PoisonMessageError(`unknown event type "${e.type}"`, {
      reason: 'unknown-type',
      detail: e.type,
    });
  }
  let payload = e.payload;
  let version = e.schemaVersion ?? 1;
  if (version > r.schemaVersion) {
    throw new PoisonMessageError(
      `${e.type} schema version ${version} is newer than this service knows (${r.schemaVersion})`,
      {
        reason: 'unsupported-schema-version',
        detail: `${e.type} v${version} > v${r.schemaVersion}`,
      },
    );
  }
  while (version < r.schemaVersion) {
    const up = r.upcasters.get(version);
    if (!up) {
      throw new PoisonMessageError(`${e.type}: no upcaster from schema version ${version}`, {
        reason: 'unsupported-schema-version',
        detail: `${e.type}: no upcaster from v${version}`,
      });
    }
    payload = up(payload);
    version++;
  }
  const instance = Object.create(r.cls.prototype as object) as Record<string, unknown>;
  for (const k of Object.keys(payload)) {
    // A `__proto__` field stays a field: assigning it would replace the instance's prototype.
    if (k === '__proto__') {
      Object.defineProperty(instance, k, {
        value: payload[k],
        enumerable: true,
        writable: true,
        configurable: true,
      });
    } else {
      instance[k] = payload[k];
    }
  }
  instance.id = e.id;
  instance.occurredAt = dateOf(e.occurredAt);
  instance.aggregateId = e.aggregateId;
  instance.aggregateType = e.aggregateType;
  instance.version = e.version;
  instance.metadata = e.metadata ?? {};
  return { event: instance as unknown as DomainEvent, payload, registration: r };
}

/**
 * {@link fromEnvelope}, then the payload checked against its type's schema (the consumer side).
 * @throws PoisonMessageError (`invalid-payload`) when the schema rejects it.
 */
export function fromEnvelopeChecked(envelope: unknown): DomainEvent | Promise<DomainEvent> {
  const { event, payload, registration } = decodeEnvelope(envelope);
  // No schema: the event itself, no promise to wait for (the usual case, once per delivery).
  if (!registration.schema) return event;
  return checked(registration.type, registration.schema, payload, event);
}

async function checked(
  type: string,
  schema: EventSchema,
  payload: Record<string, unknown>,
  event: DomainEvent,
): Promise<DomainEvent> {
  const issues = await schemaIssues(schema, payload);
  if (issues) {
    const detail = formatIssues(issues);
    throw new PoisonMessageError(`${type}: invalid payload: ${detail}`, {
      reason: 'invalid-payload',
      detail,
    });
  }
  return event;
}

/**
 * Checks events against their types' schemas before anything is published (the publisher side):
 * undefined (no await needed) when none of them has a schema.
 * @throws EventValidationError for the first invalid event.
 */
export function assertValidEvents(events: readonly DomainEvent[]): Promise<void> | undefined {
  let withSchema: { event: DomainEvent; r: Registration; schema: EventSchema }[] | undefined;
  for (const event of events) {
    const r = byClass.get(event.constructor);
    if (r?.schema) (withSchema ??= []).push({ event, r, schema: r.schema });
  }
  if (!withSchema) return undefined;
  const list = withSchema;
  return (async () => {
    for (const { event, r, schema } of list) {
      // What travels: the JSON form of the payload (dates as strings, no undefined fields).
      const issues = await schemaIssues(schema, toEnvelope(event).payload);
      if (issues) throw new EventValidationError(r.type, issues);
    }
  })();
}

/**
 * What `EventBus.publish` checks before anything leaves: every event's class is registered with
 * {@link DomainEventType} and its payload passes the type's schema. For test doubles and custom
 * EventBus adapters that should fail where the real one does (`MockEventBus` calls it).
 * @throws TypeError for an unregistered class; EventValidationError for the first invalid event.
 */
export async function validateEvents(events: DomainEvent | readonly DomainEvent[]): Promise<void> {
  const list = Array.isArray(events) ? (events as readonly DomainEvent[]) : [events as DomainEvent];
  for (const event of list) eventTypeOf(event.constructor);
  await assertValidEvents(list);
}

async function schemaIssues(
  schema: EventSchema,
  payload: unknown,
): Promise<EventValidationIssue[] | undefined> {
  const result = await schema['~standard'].validate(payload);
  if (!result.issues) return undefined;
  return result.issues.map((issue) => ({ path: pathOf(issue.path), message: issue.message }));
}

/** `lines.0.sku` from a Standard Schema path. */
export function pathOf(path: EventSchemaIssue['path']): string {
  return (path ?? [])
    .map((segment) => String(typeof segment === 'object' ? segment.key : segment))
    .join('.');
}

/**
 * What makes a parsed body not an envelope of ours (`missing type`...), or undefined when it is
 * one: an object with a string `id` and `type` and an object `payload`.
 */
export function envelopeDefect(value: unknown): string | undefined {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return 'not a JSON object';
  const e = value as Partial<Record<keyof EventEnvelope, unknown>>;
  if (typeof e.type !== 'string' || e.type === '') return 'missing type';
  if (typeof e.id !== 'string' || e.id === '') return 'missing id';
  if (
    e.schemaVersion !== undefined &&
    !(
      typeof e.schemaVersion === 'number' &&
      Number.isInteger(e.schemaVersion) &&
      e.schemaVersion >= 1
    )
  ) {
    return 'schemaVersion is not a positive integer';
  }
  if (!e.payload || typeof e.payload !== 'object' || Array.isArray(e.payload)) {
    return 'missing payload';
  }
  return undefined;
}
