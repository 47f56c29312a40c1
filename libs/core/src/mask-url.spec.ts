import { describe, expect, it } from 'vitest';
import { maskUrl, maskUrlPassword, maskUrlsInText, SECRET_QUERY_PARAM } from './mask-url.js';

describe('maskUrlPassword', () => {
  it('masks only the password part of URLs', () => {
    expect(maskUrlPassword('redis://:pw@localhost:6379')).toBe('redis://:***@localhost:6379');
    expect(maskUrlPassword('redis://localhost:6379')).toBe('redis://localhost:6379');
    expect(maskUrlPassword('amqp://guest:guest@127.0.0.1:5672/vhost')).toBe(
      'amqp://guest:***@127.0.0.1:5672/vhost',
    );
    expect(maskUrlPassword('mysql://root:pw@h/db')).toBe('mysql://root:***@h/db');
  });

  it('masks the values of secret-looking query parameters too, keeping the rest as written', () => {
    expect(maskUrlPassword('https://h/?sig=xyz')).toBe('https://h/?sig=***');
    expect(maskUrlPassword('postgres://app@db/app?sslmode=require&password=pw')).toBe(
      'postgres://app@db/app?sslmode=require&password=***',
    );
    expect(maskUrlPassword('/cb?code=123&state=s1')).toBe('/cb?code=***&state=s1');
    expect(maskUrlPassword('sqlite::memory:')).toBe('sqlite::memory:');
    expect(maskUrlPassword('not a url')).toBe('not a url');
  });
});

describe('SECRET_QUERY_PARAM', () => {
  it.each([
    'password',
    'passwd',
    'pwd',
    'token',
    'access_token',
    'refresh_token',
    'key',
    'api_key',
    'apikey',
    'API-Key',
    'secret',
    'client_secret',
    'sig',
    'signature',
    'X-Amz-Signature',
    'X-Amz-Credential',
    'X-Goog-Signature',
    'code',
    'auth',
    'credential',
    'session',
  ])('matches %s', (name) => {
    expect(SECRET_QUERY_PARAM.test(name)).toBe(true);
  });

  it.each(['page', 'sort', 'q', 'id', 'state', 'source', 'zipcode'])('leaves %s', (name) => {
    expect(SECRET_QUERY_PARAM.test(name)).toBe(false);
  });
});

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
    [
      'https://b.s3.test/o?X-Amz-Credential=AK%2F1&X-Amz-Signature=f00&X-Amz-Expires=60',
      'https://b.s3.test/o?X-Amz-Credential=***&X-Amz-Signature=***&X-Amz-Expires=60',
    ],
    ['https://app.test/cb#access_token=t1&state=s', 'https://app.test/cb#access_token=***&state=s'],
    ['https://api.test/x?to%6Ben=abc', 'https://api.test/x?to%6Ben=***'],
  ])('masks secret query parameters: %s', (input, expected) => {
    expect(maskUrl(input)).toBe(expected);
  });

  it('leaves a URL without secrets as it was', () => {
    expect(maskUrl('https://api.test/orders?page=2&sort=asc')).toBe(
      'https://api.test/orders?page=2&sort=asc',
    );
  });

  it('masks the userinfo password, and a lone userinfo (a token)', () => {
    expect(maskUrl('https://bob:hunter2@api.test/x')).toBe('https://bob:***@api.test/x');
    expect(maskUrl('https://ghp_t0k3n@api.test/x')).toBe('https://***@api.test/x');
  });

  it('masks a path with a query (request lines)', () => {
    expect(maskUrl('/cb?code=123&state=s1')).toBe('/cb?code=***&state=s1');
  });

  it('takes a URL object', () => {
    expect(maskUrl(new URL('https://x.test/a?token=abc'))).toBe('https://x.test/a?token=***');
  });

  it('never echoes an unparseable URL', () => {
    expect(maskUrl('not a url ?token=abc')).toBe('[unparseable URL]');
  });
});

describe('maskUrlsInText', () => {
  it('masks every URL in free text and leaves the rest', () => {
    expect(maskUrlsInText('GET /cb?code=123 from https://a.test/x?token=t&id=1')).toBe(
      'GET /cb?code=*** from https://a.test/x?token=***&id=1',
    );
    expect(maskUrlsInText('got "http://user:pw@host:port,x" (bad port)')).toBe(
      'got "http://user:***@host:port,x" (bad port)',
    );
    expect(maskUrlsInText('what? mail ann@example.com #1')).toBe('what? mail ann@example.com #1');
    expect(maskUrlsInText('(see /cb?code=123).')).toBe('(see /cb?code=***).');
  });
});
