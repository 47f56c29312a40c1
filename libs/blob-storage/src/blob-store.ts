import type { Readable } from 'node:stream';
import { UnsupportedBlobOperationError } from './blob.errors.js';

/** What `put` accepts: bytes, a UTF-8 string, or a stream (read once, never buffered whole). */
export type BlobBody = Buffer | Uint8Array | string | Readable;

/** Options of {@link BlobStore.put}. */
export interface BlobPutOptions {
  /** Stored and returned as is. @default 'application/octet-stream' */
  contentType?: string;
  /**
   * User metadata: names of lowercase letters, digits and `-`, printable ASCII values, 2 KiB in
   * total (what S3 keeps portably). @default {}
   */
  metadata?: Record<string, string>;
  /** Aborts the upload (a stream body is destroyed). */
  signal?: AbortSignal;
}

/** What the store knows of an object, without its body. */
export interface BlobInfo {
  key: string;
  /** Bytes. */
  size: number;
  contentType: string;
  metadata: Record<string, string>;
  /** Changes when the content changes; compare, do not parse (S3 multipart ETags are not MD5s). No quotes. */
  etag: string;
  lastModified: Date;
}

/** A whole object in memory: {@link BlobStore.get}. */
export interface BlobObject extends BlobInfo {
  body: Buffer;
}

/** An object as a stream: {@link BlobStore.getStream}. Consume or destroy `body`. */
export interface BlobStream extends BlobInfo {
  body: Readable;
}

/** What `put` returns. */
export interface BlobPutResult {
  key: string;
  size: number;
  etag: string;
}

/** One entry of a list page. */
export interface BlobListItem {
  key: string;
  size: number;
  etag: string;
  lastModified: Date;
}

/** Options of {@link BlobStore.list}. */
export interface BlobListOptions {
  /** Items per page, 1-1000. @default 1000 */
  limit?: number;
  /** `cursor` of the previous page; opaque, only valid for the same store and prefix. */
  cursor?: string;
}

/** One page of keys in ascending (UTF-8 byte) order. */
export interface BlobListPage {
  items: BlobListItem[];
  /** Pass it back for the next page; `undefined` on the last page. */
  cursor?: string;
}

/** Options of {@link BlobStore.signedUrl}. */
export interface SignedUrlOptions {
  /** Lifetime of the URL, 1-604800 (7 days). @default 900 */
  expiresInSeconds?: number;
}

/**
 * Object storage: the port. Inject `BlobStore`; which adapter backs it (file system, S3) is
 * configuration (`BlobStorageModule`). Keys are `/`-separated relative paths (see
 * `assertValidBlobKey`); a bad key throws `InvalidBlobKeyError` before any I/O. A missing object
 * throws `BlobNotFoundError` from `get`, `getStream` and `head`; `delete` of a missing object
 * succeeds. Replace it in tests with `overrideProvider(BlobStore).useValue(...)` or a
 * `FileSystemBlobStore` on a temp dir.
 */
export abstract class BlobStore {
  /** Short name in metrics, logs and health (`fs`, `s3`). */
  abstract readonly kind: string;

  /** Stores `body` under `key`, replacing any object there; readers see the old or the new object, never a mix. */
  abstract put(key: string, body: BlobBody, options?: BlobPutOptions): Promise<BlobPutResult>;

  /** The whole object in memory. Use {@link getStream} for large objects. */
  abstract get(key: string, options?: { signal?: AbortSignal }): Promise<BlobObject>;

  /** The object as a stream; `BlobNotFoundError` is thrown here, not by the stream. */
  abstract getStream(key: string, options?: { signal?: AbortSignal }): Promise<BlobStream>;

  /** Size, type, metadata and ETag without the body. */
  abstract head(key: string, options?: { signal?: AbortSignal }): Promise<BlobInfo>;

  /** Whether an object exists under `key`. */
  abstract exists(key: string, options?: { signal?: AbortSignal }): Promise<boolean>;

  /** Removes the object; succeeds when there is none (idempotent). */
  abstract delete(key: string, options?: { signal?: AbortSignal }): Promise<void>;

  /** One page of the keys starting with `prefix` (`''`: all), ascending. */
  abstract list(
    prefix: string,
    options?: BlobListOptions & { signal?: AbortSignal },
  ): Promise<BlobListPage>;

  /**
   * A URL anyone holding it can GET the object with until it expires (S3 presigned URL). The
   * object's existence is not checked.
   * @throws UnsupportedBlobOperationError on stores without URLs (file system)
   */
  signedUrl(_key: string, _options?: SignedUrlOptions): Promise<string> {
    return Promise.reject(new UnsupportedBlobOperationError(this.kind, 'signedUrl'));
  }

  /** Health probe: throws when the backend is unusable (called by the health check). */
  abstract ping(signal?: AbortSignal): Promise<Record<string, unknown> | void>;

  /** Releases connections; the store is unusable afterwards. */
  close(): Promise<void> {
    return Promise.resolve();
  }
}
