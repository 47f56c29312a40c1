import { describe, expect, it } from 'vitest';
import { maskUrl } from './mask-url.js';

describe('maskUrl', () => {
  it.each([
    ['https://api.test/pay?token=abc&id=7', 'https://api.test/pay?token=***&id=7'],
    [
      'https://api.test/x?api_key=k1&Signature=s&page=2',
      'https://api.test/x?api_key=***&Signature=***&page=2',
    ],
    [
      'https://api.test/x?password=p&client_secret=c',
      'https://api.test/x?password=***&client_secret=***',
    ],
    [
      'https://api.test/x?access_token=t&sig=s&q=a%20b',
      'https://api.test/x?access_token=***&sig=***&q=a%20b',
    ],
  ])('masks secret query parameters: %s', (input, expected) => {
    expect(maskUrl(input)).toBe(expected);
  });

  it('leaves a URL without secrets as it was', () => {
    expect(maskUrl('https://api.test/orders?page=2&sort=asc')).toBe(
      'https://api.test/orders?page=2&sort=asc',
    );
  });

  it('masks the userinfo password', () => {
    expect(maskUrl('https://bob:hunter2@api.test/x')).toBe('https://bob:***@api.test/x');
  });

  it('never echoes an unparseable URL', () => {
    expect(maskUrl('not a url ?token=abc')).toBe('[unparseable URL]');
  });
});
