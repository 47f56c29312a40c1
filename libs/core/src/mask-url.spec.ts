import { describe, expect, it } from 'vitest';
import { maskUrlPassword } from './mask-url.js';

describe('maskUrlPassword', () => {
  it('masks only the password part of URLs', () => {
    expect(maskUrlPassword('redis://:pw@localhost:6379')).toBe('redis://:***@localhost:6379');
    expect(maskUrlPassword('redis://localhost:6379')).toBe('redis://localhost:6379');
    expect(maskUrlPassword('amqp://guest:guest@127.0.0.1:5672/vhost')).toBe(
      'amqp://guest:***@127.0.0.1:5672/vhost',
    );
    expect(maskUrlPassword('mysql://root:pw@h/db')).toBe('mysql://root:***@h/db');
  });
});
