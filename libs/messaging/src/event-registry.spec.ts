import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { DomainEvent } from './domain-event.js';
import {
  assertValidEvents,
  DomainEventType,
  envelopeDefect,
  fromEnvelopeChecked,
  pathOf,
  toEnvelope,
  type EventSchema,
} from './event-registry.js';
import { EventValidationError, PoisonMessageError } from './errors.js';

@DomainEventType('unit.LineAdded', {
  schema: z.object({
    lines: z.array(z.object({ sku: z.string().regex(/^[A-Z]+-\d+$/), qty: z.number().int() })),
  }),
})
class LineAdded extends DomainEvent {
  constructor(readonly lines: Array<{ sku: string; qty: number }>) {
    super();
  }
}

@DomainEventType('unit.Plain')
class Plain extends DomainEvent {
  constructor(readonly anything: unknown) {
    super();
  }
}

describe('event payload schemas (unit)', () => {
  it('names nested paths of every issue, dotted', async () => {
    const error = await assertValidEvents([
      new LineAdded([
        { sku: 'AB-1', qty: 1 },
        { sku: 'nope', qty: 1.5 },
      ]),
    ])?.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EventValidationError);
    expect((error as EventValidationError).issues.map((i) => i.path)).toEqual([
      'lines.1.sku',
      'lines.1.qty',
    ]);
  });

  it('needs no await when no event of the batch has a schema', () => {
    expect(assertValidEvents([new Plain(1), new Plain('x')])).toBeUndefined();
  });

  it('formats Standard Schema paths of keys and segment objects', () => {
    expect(pathOf(['a', 0, { key: 'b' }])).toBe('a.0.b');
    expect(pathOf(undefined)).toBe('');
  });

  it('rejects a schema that is not a Standard Schema at decoration', () => {
    expect(() =>
      DomainEventType('unit.Bad', { schema: { parse: () => 1 } as unknown as EventSchema }),
    ).toThrow(/must be a Standard Schema/);
  });

  it('turns a consumed payload the schema rejects into an invalid-payload poison message', async () => {
    const envelope = toEnvelope(new LineAdded([{ sku: 'AB-1', qty: 1 }]));
    await expect(fromEnvelopeChecked(envelope)).resolves.toBeInstanceOf(LineAdded);
    const error = await Promise.resolve()
      .then(() => fromEnvelopeChecked({ ...envelope, payload: { lines: [{ sku: 'AB-1' }] } }))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PoisonMessageError);
    expect((error as PoisonMessageError).deadLetterReason).toMatch(
      /^invalid-payload: lines\.0\.qty: /,
    );
  });

  it('says what is missing from a malformed envelope', () => {
    expect(envelopeDefect([1])).toBe('not a JSON object');
    expect(envelopeDefect({ id: 'x', payload: {} })).toBe('missing type');
    expect(envelopeDefect({ type: 't', payload: {} })).toBe('missing id');
    expect(envelopeDefect({ type: 't', id: 'x' })).toBe('missing payload');
    expect(envelopeDefect({ type: 't', id: 'x', payload: {}, schemaVersion: '2' })).toBe(
      'schemaVersion is not a positive integer',
    );
    expect(envelopeDefect({ type: 't', id: 'x', payload: {} })).toBeUndefined();
  });
});
