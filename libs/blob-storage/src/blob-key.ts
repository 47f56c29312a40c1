import { InvalidBlobKeyError, InvalidBlobMetadataError } from './blob.errors.js';

/** Longest key in UTF-8 bytes (S3's limit). */
export const MAX_BLOB_KEY_BYTES = 1024;

/** Largest total of user metadata names + values in bytes (S3's limit for user metadata). */
export const MAX_BLOB_METADATA_BYTES = 2048;

/** Most items of one `list` page (S3's own maximum). */
export const MAX_BLOB_LIST = 1000;

/** The page size of a `list` call: `limit` (1-{@link MAX_BLOB_LIST}), or the maximum. */
export function blobListLimit(limit: number | undefined): number {
  const n = limit ?? MAX_BLOB_LIST;
  if (!Number.isInteger(n) || n < 1 || n > MAX_BLOB_LIST) {
    throw new RangeError(`list limit must be an integer 1-${MAX_BLOB_LIST}, got ${n}`);
  }
  return n;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const METADATA_NAME = /^[a-z0-9][a-z0-9-]{0,127}$/;
const METADATA_VALUE = /^[\u0020-\u007e]*$/;

/** C0 controls and DEL (NUL included). */
function hasControlCharacter(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

function printable(key: string): string {
  return key.length > 200 ? `${key.slice(0, 200)}…` : key;
}

/**
 * Checks a key as both stores need it: 1-1024 UTF-8 bytes, no NUL or control characters, no
 * backslash, no leading `/`, no empty, `.` or `..` segment, no trailing `/`. Keys are the same
 * on every store, so what works against the file system in tests works against S3 in production.
 * @throws InvalidBlobKeyError naming the reason
 */
export function assertValidBlobKey(key: unknown): asserts key is string {
  if (typeof key !== 'string') {
    throw new InvalidBlobKeyError(String(key), `must be a string, got ${typeof key}`);
  }
  const fail = (reason: string): never => {
    throw new InvalidBlobKeyError(printable(key), reason);
  };
  if (key.length === 0) fail('must not be empty');
  if (Buffer.byteLength(key, 'utf8') > MAX_BLOB_KEY_BYTES) {
    fail(`must be at most ${MAX_BLOB_KEY_BYTES} UTF-8 bytes`);
  }
  if (key.includes('\u0000')) fail('must not contain NUL');
  if (key.endsWith('/')) fail('must not end with "/"');
  checkPath(key, fail, false);
}

/** The rules keys and prefixes share; a prefix's last segment may be partial (`img/.hid`). */
function checkPath(path: string, fail: (reason: string) => never, partialLast: boolean): void {
  if (hasControlCharacter(path)) fail('must not contain control characters');
  if (LONE_SURROGATE.test(path)) fail('must be well-formed Unicode');
  if (path.includes('\\')) fail('must not contain "\\" (use "/" between segments)');
  if (path.startsWith('/')) fail('must be relative (no leading "/")');
  const segments = path.split('/');
  const whole = partialLast ? segments.slice(0, -1) : segments;
  for (const segment of whole) {
    if (segment === '') fail('must not contain empty segments ("//")');
    if (segment === '.' || segment === '..') fail(`must not contain "${segment}" segments`);
  }
}

/**
 * Checks a list prefix: like a key, but it may be empty and may end with `/`.
 * @throws InvalidBlobKeyError
 */
export function assertValidBlobPrefix(prefix: unknown): asserts prefix is string {
  if (typeof prefix !== 'string') {
    throw new InvalidBlobKeyError(String(prefix), `prefix must be a string, got ${typeof prefix}`);
  }
  if (prefix === '') return;
  const fail = (reason: string): never => {
    throw new InvalidBlobKeyError(printable(prefix), `prefix ${reason}`);
  };
  if (Buffer.byteLength(prefix, 'utf8') > MAX_BLOB_KEY_BYTES) {
    fail(`must be at most ${MAX_BLOB_KEY_BYTES} UTF-8 bytes`);
  }
  checkPath(prefix, fail, true);
}

/**
 * Checks user metadata as S3 allows it portably: names of lowercase letters, digits and `-`
 * (S3 lowercases names), printable ASCII values, 2 KiB in total.
 * @throws InvalidBlobMetadataError
 */
export function assertValidBlobMetadata(
  metadata: unknown,
): asserts metadata is Record<string, string> {
  if (metadata === undefined) return;
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) {
    throw new InvalidBlobMetadataError('blob metadata must be an object of strings');
  }
  let bytes = 0;
  for (const [name, value] of Object.entries(metadata)) {
    if (!METADATA_NAME.test(name)) {
      throw new InvalidBlobMetadataError(
        `blob metadata name ${JSON.stringify(name)} must be lowercase letters, digits and "-" (1-128)`,
      );
    }
    if (typeof value !== 'string' || !METADATA_VALUE.test(value)) {
      throw new InvalidBlobMetadataError(
        `blob metadata "${name}" must be a string of printable ASCII characters`,
      );
    }
    bytes += name.length + value.length;
  }
  if (bytes > MAX_BLOB_METADATA_BYTES) {
    throw new InvalidBlobMetadataError(
      `blob metadata is ${bytes} bytes, at most ${MAX_BLOB_METADATA_BYTES} are allowed`,
    );
  }
}
