import { describe, expect, it } from 'vitest';
import {
  clientIdOf,
  decodeLevel,
  decodeProperty,
  encodeLevel,
  encodeProperty,
  shareName,
  sortableId,
} from './mqtt.topics.js';
import { MqttTransport } from './mqtt.transport.js';

describe('mqtt topics and properties', () => {
  it('keeps a group or type one topic level that is never a wildcard', () => {
    for (const value of ['orders/Placed', 'a+b#c', '$SYS', 'x~y', 'svc.Handlers.on', '']) {
      const level = encodeLevel(value);
      expect(level).not.toMatch(/[/+#]|^\$/);
      expect(decodeLevel(level)).toBe(value);
    }
    expect(encodeLevel('orders.OrderPlaced')).toBe('orders.OrderPlaced');
    expect(shareName('ns', 'a/b')).toBe('ns.a~2fb');
  });

  it('carries property values with control characters unchanged', () => {
    for (const value of ['line one\nline two', 'tab\there', 'plain', '~b64~x']) {
      expect(decodeProperty(encodeProperty(value))).toBe(value);
    }
    expect(encodeProperty('plain')).toBe('plain');
  });

  it('bounds client ids and sorts dead-letter ids by time', () => {
    expect(clientIdOf(['x'.repeat(300)]).length).toBeLessThanOrEqual(100);
    expect(sortableId(1000) < sortableId(2000)).toBe(true);
  });

  it('refuses a URL that is not mqtt://, masking the password', () => {
    expect(
      () => new MqttTransport({ url: 'http://u:secret@h', namespace: 'n', serviceName: 's' }),
    ).toThrow(/mqtt:\/\/ URL, got "http:\/\/u:\*+@h"/);
  });
});
