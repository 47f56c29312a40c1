import { Readable } from 'node:stream';
import type { BlobBody } from './blob-store.js';
import { InvalidBlobMetadataError } from './blob.errors.js';

/** Whether `body` is a stream (read once) rather than bytes in memory. */
export function isStreamBody(body: BlobBody): body is Readable {
  return body instanceof Readable;
}

/** Bytes of a non-stream body (strings are UTF-8); `undefined` for streams. */
export function bytesOf(body: BlobBody): Buffer | undefined {
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  if (Buffer.isBuffer(body)) return body;
  if (body instanceof Uint8Array) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  return undefined;
}

/** Content type when none is given (S3 would otherwise store `binary/octet-stream`). */
export const DEFAULT_CONTENT_TYPE = 'application/octet-stream';

/** A content type must be one header-safe line. */
export function contentTypeOf(contentType: string | undefined): string {
  if (contentType === undefined || contentType === '') return DEFAULT_CONTENT_TYPE;
  if (!/^[\u0020-\u007e]{1,255}$/.test(contentType)) {
    throw new InvalidBlobMetadataError(
      `blob contentType must be 1-255 printable ASCII characters, got ${JSON.stringify(contentType.slice(0, 80))}`,
    );
  }
  return contentType;
}
