import { describe, expect, it } from 'vitest';
import { assertValidBlobKey, assertValidBlobMetadata, assertValidBlobPrefix } from './blob-key.js';
import { InvalidBlobKeyError, InvalidBlobMetadataError } from './blob.errors.js';

describe('assertValidBlobKey', () => {
  it.each([
    'a',
    'images/2024/cat.png',
    '.hidden',
    'a/...dots/b',
    'with space & plus+/ü/日本語.txt',
    'percent%2F~tilde*?:|<>"',
    'x'.repeat(1024),
    '😀/emoji',
  ])('accepts %j', (key) => {
    expect(() => assertValidBlobKey(key)).not.toThrow();
  });

  it.each([
    ['', 'must not be empty'],
    ['..', 'must not contain ".." segments'],
    ['../a', 'must not contain ".." segments'],
    ['a/..', 'must not contain ".." segments'],
    ['a/./b', 'must not contain "." segments'],
    ['/abs', 'must be relative (no leading "/")'],
    ['a//b', 'must not contain empty segments'],
    ['a/', 'must not end with "/"'],
    ['a\u0000b', 'must not contain NUL'],
    ['a\nb', 'must not contain control characters'],
    ['a\u007fb', 'must not contain control characters'],
    ['a\\..\\b', 'must not contain "\\"'],
    ['\uDC00lone', 'must be well-formed Unicode'],
    ['é'.repeat(513), 'must be at most 1024 UTF-8 bytes'],
  ])('refuses %j: %s', (key, reason) => {
    expect(() => assertValidBlobKey(key)).toThrow(InvalidBlobKeyError);
    expect(() => assertValidBlobKey(key)).toThrow(reason);
  });

  it('refuses a non-string key', () => {
    expect(() => assertValidBlobKey(42)).toThrow('must be a string, got number');
  });

  it('shows the refused key escaped in the message', () => {
    expect(() => assertValidBlobKey('a\u0000b')).toThrow('invalid blob key "a\\u0000b"');
  });
});

describe('assertValidBlobPrefix', () => {
  it.each(['', 'a', 'a/', 'img/ca', 'img/.hid', 'a/b/'])('accepts %j', (prefix) => {
    expect(() => assertValidBlobPrefix(prefix)).not.toThrow();
  });

  it.each(['/', '/a', '../', 'a/../', 'a//', 'a\u0000'])('refuses %j', (prefix) => {
    expect(() => assertValidBlobPrefix(prefix)).toThrow(InvalidBlobKeyError);
  });
});

describe('assertValidBlobMetadata', () => {
  it('accepts lowercase names with printable ASCII values', () => {
    expect(() => assertValidBlobMetadata({ 'uploaded-by': 'user 42', v2: '' })).not.toThrow();
    expect(() => assertValidBlobMetadata(undefined)).not.toThrow();
  });

  it.each([
    [{ Upper: 'x' }, 'must be lowercase letters, digits and "-"'],
    [{ with_underscore: 'x' }, 'must be lowercase letters'],
    [{ note: 'naïve' }, 'printable ASCII'],
    [{ note: 'line\nbreak' }, 'printable ASCII'],
    [{ n: 42 }, 'printable ASCII'],
    [{ big: 'v'.repeat(2046) }, 'at most 2048 are allowed'],
    [['a'], 'must be an object of strings'],
  ])('refuses %j', (metadata, reason) => {
    expect(() => assertValidBlobMetadata(metadata)).toThrow(InvalidBlobMetadataError);
    expect(() => assertValidBlobMetadata(metadata)).toThrow(reason);
  });
});
