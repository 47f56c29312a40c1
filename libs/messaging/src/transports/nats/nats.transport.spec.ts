import { describe, expect, it } from 'vitest';
import {
  consumerName,
  decodeHeaderValue,
  decodeToken,
  encodeHeaderValue,
  encodeToken,
  typeFromSubject,
  typeSubject,
} from './nats.subjects.js';
import { parseNatsUrl } from './nats.transport.js';

describe('nats subjects and headers', () => {
  it('escapes dots and other characters of a group into one subject token and back', () => {
    for (const value of ['svc.Handlers.onPlaced', 'a b*>~', 'ünï', '', 'plain-name_1']) {
      const token = encodeToken(value);
      expect(token).toMatch(/^[A-Za-z0-9_~-]+$/);
      expect(decodeToken(token)).toBe(value);
    }
  });

  it('keeps the dots of an event type as subject separators', () => {
    expect(typeSubject('orders.OrderPlaced')).toBe('orders.OrderPlaced');
    expect(typeFromSubject(typeSubject('a.b c.d').split('.'))).toBe('a.b c.d');
  });

  it('makes durable names without dots, hashed when long', () => {
    expect(consumerName('svc.H.m', 'orders.Placed')).not.toContain('.');
    expect(consumerName('g'.repeat(300), 't').length).toBeLessThanOrEqual(120);
    expect(consumerName('g'.repeat(300), 't')).not.toBe(consumerName('g'.repeat(300), 'u'));
  });

  it('carries header values with line breaks and outer spaces unchanged', () => {
    for (const value of ['line one\nline two', ' padded ', 'plain', '~b64~looks encoded']) {
      expect(decodeHeaderValue(encodeHeaderValue(value))).toBe(value);
    }
    expect(encodeHeaderValue('plain')).toBe('plain');
    expect(encodeHeaderValue('a\r\nb')).not.toMatch(/[\r\n]/);
  });

  it('takes credentials out of the URL and accepts several servers', () => {
    expect(parseNatsUrl('nats://u:p%40ss@h1:4222,h2:4223')).toEqual({
      servers: ['nats://h1:4222', 'nats://h2:4223'],
      user: 'u',
      pass: 'p@ss',
    });
    expect(parseNatsUrl('nats://s3cret@h:4222')).toEqual({
      servers: ['nats://h:4222'],
      token: 's3cret',
    });
    expect(() => parseNatsUrl('http://u:secret@h')).toThrow(
      /nats:\/\/ URL, got "http:\/\/u:\*+@h"/,
    );
  });
});
