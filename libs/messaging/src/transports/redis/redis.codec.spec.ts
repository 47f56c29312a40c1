import { describe, expect, it } from 'vitest';
import {
  attemptOf,
  decodeDeadLetter,
  decodeMessage,
  encodeDeadLetter,
  encodeMessage,
  fieldsToRecord,
  parseAutoClaim,
  parsePendingCounts,
  parseStreamsReply,
  RedisKeys,
  toOutgoing,
} from './redis.codec.js';

describe('redis codec', () => {
  it('names one stream per type, and retry/delayed keys per type and group, under the namespace', () => {
    const keys = new RedisKeys('shop');
    expect(keys.events('cart.ItemAdded')).toBe('shop:events:cart.ItemAdded');
    expect(keys.retry('cart.ItemAdded', 'billing')).toBe('shop:retry:cart.ItemAdded:billing');
    expect(keys.delayed('cart.ItemAdded', 'billing')).toBe('shop:delayed:cart.ItemAdded:billing');
    expect(keys.deadLetters()).toBe('shop:dead-letters');
    expect(new RedisKeys('a*b').pattern()).toBe('a\\*b:*');
  });

  it('carries body, key and headers as stream fields, and round-trips them', () => {
    const message = {
      type: 't',
      body: '{"a":1}',
      key: 'k1',
      headers: { 'x-message-id': 'm1', body: 'not the body' },
    };
    const fields = encodeMessage(message);
    expect(fields).toEqual([
      'body',
      '{"a":1}',
      'key',
      'k1',
      'h:x-message-id',
      'm1',
      'h:body',
      'not the body',
    ]);
    const decoded = decodeMessage(fieldsToRecord(fields)!);
    expect(decoded).toEqual({
      body: '{"a":1}',
      key: 'k1',
      headers: message.headers,
      baseAttempt: 1,
    });
    expect(toOutgoing('t', decoded)).toEqual(message);
  });

  it('stores the attempt of retry entries and ignores a bad one', () => {
    const retry = encodeMessage({ type: 't', body: 'b', headers: {} }, 3);
    expect(decodeMessage(fieldsToRecord(retry)!).baseAttempt).toBe(3);
    expect(decodeMessage({ body: 'b', attempt: 'x' }).baseAttempt).toBe(1);
    expect(decodeMessage({ body: 'b', attempt: '0' }).baseAttempt).toBe(1);
  });

  it('counts redeliveries on top of the base attempt', () => {
    expect(attemptOf(1, 1)).toBe(1);
    expect(attemptOf(1, 3)).toBe(3);
    expect(attemptOf(2, 1)).toBe(2);
    expect(attemptOf(2, 0)).toBe(2);
  });

  it('round-trips dead letters', () => {
    const letter = { type: 't', group: 'g', body: 'b', headers: { 'x-attempts': '3' } };
    expect(
      decodeDeadLetter({ id: '1-0', fields: fieldsToRecord(encodeDeadLetter(letter)) }),
    ).toEqual({ id: '1-0', ...letter });
  });

  it('parses XREADGROUP replies in the RESP2 and the flattened RESP3 shape', () => {
    const entries = [['1-0', ['body', 'x']]];
    const expected = new Map([['s', [{ id: '1-0', fields: { body: 'x' } }]]]);
    expect(parseStreamsReply([['s', entries]])).toEqual(expected);
    expect(parseStreamsReply(['s', entries])).toEqual(expected);
    expect(parseStreamsReply(null)).toEqual(new Map());
  });

  it('parses XAUTOCLAIM (deleted entries have no fields) and XPENDING replies', () => {
    expect(
      parseAutoClaim([
        '0-0',
        [
          ['1-0', ['body', 'x']],
          ['2-0', null],
        ],
        [],
      ]),
    ).toEqual({
      cursor: '0-0',
      entries: [
        { id: '1-0', fields: { body: 'x' } },
        { id: '2-0', fields: null },
      ],
    });
    expect(parsePendingCounts([['1-0', 'c', 10, 4]])).toEqual(new Map([['1-0', 4]]));
  });
});
