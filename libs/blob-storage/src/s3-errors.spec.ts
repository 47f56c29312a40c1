import { describe, expect, it } from 'vitest';
import { BlobNotFoundError, BlobStoreError } from './blob.errors.js';
import { translateS3Error } from './s3-errors.js';

function sdkError(name: string, status?: number, extra: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(`${name} from the SDK`), {
    name,
    $metadata: status === undefined ? {} : { httpStatusCode: status },
    ...extra,
  });
}

describe('translateS3Error', () => {
  it('turns NoSuchKey and a HEAD 404 into BlobNotFoundError (never retried, not counted)', () => {
    for (const name of ['NoSuchKey', 'NotFound']) {
      const e = translateS3Error(sdkError(name, 404), 'get', 'a/b.txt');
      expect(e).toBeInstanceOf(BlobNotFoundError);
      expect(e).toMatchObject({ key: 'a/b.txt', retryable: false, countsAsFailure: false });
    }
  });

  it.each([
    ['SlowDown', 503, true, true],
    ['ServiceUnavailable', 503, true, true],
    ['InternalError', 500, true, true],
    ['BadGateway', 502, true, true],
    ['GatewayTimeout', 504, true, true],
    ['NotImplemented', 501, false, false],
    ['TooManyRequestsException', 429, true, false],
    ['RequestTimeout', 400, true, false],
    ['RequestTimeTooSkewed', 403, true, false],
    ['AccessDenied', 403, false, false],
    ['NoSuchBucket', 404, false, false],
    ['InvalidArgument', 400, false, false],
    ['PreconditionFailed', 412, false, false],
  ])('%s (HTTP %i): retryable %s, counted by the breaker %s', (name, status, retryable, counts) => {
    const e = translateS3Error(sdkError(name, status), 'put', 'k');
    expect(e).toBeInstanceOf(BlobStoreError);
    expect(e).toMatchObject({ code: name, status, retryable, countsAsFailure: counts, key: 'k' });
  });

  it.each(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT'])(
    'retries and counts the network error %s',
    (code) => {
      const e = translateS3Error(Object.assign(new Error('socket'), { code }), 'get', 'k');
      expect(e).toMatchObject({ code, status: undefined, retryable: true, countsAsFailure: true });
    },
  );

  it('retries the SDK socket timeout (TimeoutError)', () => {
    const e = translateS3Error(sdkError('TimeoutError'), 'get', 'k');
    expect(e).toMatchObject({ code: 'TimeoutError', retryable: true });
  });

  it('does not retry an unknown error without an answer (e.g. no credentials)', () => {
    const e = translateS3Error(sdkError('CredentialsProviderError'), 'list');
    expect(e).toMatchObject({ code: 'CredentialsProviderError', retryable: false });
  });

  it('names a bodiless answer by its status text', () => {
    const e = translateS3Error(sdkError('Unknown', 403), 'head', 'k');
    expect(e).toMatchObject({ code: 'Forbidden', status: 403 });
  });

  it('passes aborts and our own errors through unchanged', () => {
    const abort = Object.assign(new Error('aborted'), { name: 'AbortError' });
    expect(translateS3Error(abort, 'get', 'k')).toBe(abort);
    const ours = new BlobNotFoundError('k');
    expect(translateS3Error(ours, 'get', 'k')).toBe(ours);
  });

  it('keeps the SDK error as cause; the message names operation, key, code and status only', () => {
    const cause = sdkError('SlowDown', 503);
    const e = translateS3Error(cause, 'put', 'docs/a.pdf') as BlobStoreError;
    expect(e.cause).toBe(cause);
    expect(e.message).toBe('s3 blob store: put "docs/a.pdf" failed: SlowDown (HTTP 503)');
    expect(e.httpStatus).toBe(503);
  });
});
