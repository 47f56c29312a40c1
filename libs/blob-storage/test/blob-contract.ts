import { createHash, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BlobNotFoundError,
  InvalidBlobKeyError,
  InvalidBlobMetadataError,
} from '../src/blob.errors.js';
import type { BlobListItem, BlobStore } from '../src/blob-store.js';

/** What a contract run needs: a store, and how to dispose of it. */
export interface BlobContractSubject {
  store: BlobStore;
  cleanup?: () => Promise<void>;
}

const MiB = 1024 * 1024;

/** `size` pseudo-random bytes produced lazily in 64 KiB chunks (never all in memory); `onChunk` sees each. */
export function generatedStream(
  size: number,
  seed = 1,
  onChunk: (bytes: number) => void = () => undefined,
): Readable {
  let produced = 0;
  let state = seed;
  return new Readable({
    read() {
      if (produced >= size) {
        this.push(null);
        return;
      }
      const n = Math.min(64 * 1024, size - produced);
      const chunk = Buffer.allocUnsafe(n);
      for (let i = 0; i < n; i++) {
        state = (state * 1103515245 + 12345) & 0x7fffffff;
        chunk[i] = state & 0xff;
      }
      produced += n;
      onChunk(n);
      this.push(chunk);
    },
  });
}

/** SHA-256 of a stream, read chunk by chunk. */
export async function sha256Of(stream: AsyncIterable<Buffer> | Iterable<Buffer>): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of stream) hash.update(chunk);
  return hash.digest('hex');
}

async function listAll(store: BlobStore, prefix: string, limit: number): Promise<BlobListItem[]> {
  const all: BlobListItem[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < 100; page++) {
    const res = await store.list(prefix, { limit, cursor });
    expect(res.items.length).toBeLessThanOrEqual(limit);
    all.push(...res.items);
    cursor = res.cursor;
    if (!cursor) break;
  }
  return all;
}

function byteOrder(keys: string[]): string[] {
  return [...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

const INVALID_KEYS: Array<[label: string, key: string, reason: string]> = [
  ['an empty key', '', 'must not be empty'],
  ['"../escape"', '../escape', '".." segments'],
  ['"a/../../etc/passwd"', 'a/../../etc/passwd', '".." segments'],
  ['an absolute path', '/etc/passwd', 'no leading "/"'],
  ['a "." segment', 'a/./b', '"." segments'],
  ['an empty segment', 'a//b', 'empty segments'],
  ['a trailing "/"', 'dir/', 'must not end with "/"'],
  ['a NUL byte', 'nul\u0000byte', 'NUL'],
  ['a control character', 'tab\tkey', 'control characters'],
  ['a backslash', 'back\\slash', '"\\"'],
  ['a lone surrogate', 'half-\uD800-pair', 'well-formed Unicode'],
  ['1025 bytes', 'x'.repeat(1025), '1024 UTF-8 bytes'],
];

/**
 * The behaviour every `BlobStore` must have, run against the real backend: round trips with type
 * and metadata, overwrite, not found, idempotent delete, streams both ways (several MiB, not
 * buffered), ordered paginated listing with prefixes, `a` next to `a/b`, odd but valid keys, key
 * and metadata validation before any I/O, concurrent writers. Keys live under a fresh prefix per
 * run so leftovers never interfere.
 */
export function describeBlobStoreContract(
  label: string,
  setup: () => Promise<BlobContractSubject>,
  opts: {
    largeObjectBytes?: number;
    /**
     * Whether the store lists `a` before `a-c` before `a/b` (UTF-8 byte order, as S3 does) when a
     * key is also a "directory". s3rver does not (it walks its disk layout): for it the keys are
     * compared as a set there. @default true
     */
    bytewiseWithNestedKeys?: boolean;
    /**
     * Whether concurrent writers of a key leave one of them whole (S3 and the file system store
     * do). s3rver writes the object file in place and its metadata apart, so racing writers mix:
     * for it the race runs with a single writer. @default true
     */
    atomicOverwrites?: boolean;
  } = {},
): void {
  const largeBytes = opts.largeObjectBytes ?? 12 * MiB + 123;
  const atomicOverwrites = opts.atomicOverwrites !== false;
  const arrange = opts.bytewiseWithNestedKeys === false ? byteOrder : (keys: string[]) => keys;

  describe(`BlobStore contract: ${label}`, () => {
    let store: BlobStore;
    let cleanup: (() => Promise<void>) | undefined;
    const ns = `contract-${randomUUID().slice(0, 8)}/`;

    beforeAll(async () => {
      ({ store, cleanup } = await setup());
    });

    afterAll(async () => {
      await cleanup?.();
    });

    it('stores bytes with content type and metadata, and gives them back with size and ETag', async () => {
      const key = `${ns}docs/report.pdf`;
      const body = Buffer.from('%PDF-1.7 not really');
      const put = await store.put(key, body, {
        contentType: 'application/pdf',
        metadata: { 'uploaded-by': 'user-42', version: '3' },
      });
      expect(put).toMatchObject({ key, size: body.length });
      expect(put.etag).toMatch(/^[^"]+$/);

      const got = await store.get(key);
      expect(got.body.equals(body)).toBe(true);
      expect(got).toMatchObject({
        key,
        size: body.length,
        contentType: 'application/pdf',
        metadata: { 'uploaded-by': 'user-42', version: '3' },
        etag: put.etag,
      });
      expect(got.lastModified).toBeInstanceOf(Date);

      const head = await store.head(key);
      expect(head).toEqual({
        key,
        size: body.length,
        contentType: 'application/pdf',
        metadata: { 'uploaded-by': 'user-42', version: '3' },
        etag: put.etag,
        lastModified: head.lastModified,
      });
      expect(Math.abs(head.lastModified.getTime() - Date.now())).toBeLessThan(60_000);
    });

    it('defaults to application/octet-stream and empty metadata; strings are UTF-8', async () => {
      const key = `${ns}text/hello.txt`;
      await store.put(key, 'héllo wörld ✓');
      const got = await store.get(key);
      expect(got.body.toString('utf8')).toBe('héllo wörld ✓');
      expect(got.size).toBe(Buffer.byteLength('héllo wörld ✓'));
      expect(got.contentType).toBe('application/octet-stream');
      expect(got.metadata).toEqual({});
    });

    it('stores an empty object', async () => {
      const key = `${ns}empty`;
      await store.put(key, Buffer.alloc(0), { contentType: 'text/plain' });
      const got = await store.get(key);
      expect(got.size).toBe(0);
      expect(got.body.length).toBe(0);
      expect(await store.exists(key)).toBe(true);
    });

    it('replaces an object on put: new content, type, metadata and ETag', async () => {
      const key = `${ns}overwrite.json`;
      const first = await store.put(key, '{"v":1}', {
        contentType: 'application/json',
        metadata: { v: '1' },
      });
      const second = await store.put(key, '{"v":2,"more":true}', { contentType: 'text/json' });
      expect(second.etag).not.toBe(first.etag);
      const got = await store.get(key);
      expect(got.body.toString()).toBe('{"v":2,"more":true}');
      expect(got.contentType).toBe('text/json');
      expect(got.metadata).toEqual({});
      expect(got.etag).toBe(second.etag);
    });

    it('throws BlobNotFoundError naming the key from get, getStream and head; exists is false', async () => {
      const key = `${ns}missing/nothing.bin`;
      await expect(store.get(key)).rejects.toMatchObject({ name: 'BlobNotFoundError', key });
      await expect(store.getStream(key)).rejects.toBeInstanceOf(BlobNotFoundError);
      await expect(store.head(key)).rejects.toBeInstanceOf(BlobNotFoundError);
      expect(await store.exists(key)).toBe(false);
    });

    it('deletes idempotently: a deleted or never-written key deletes without error', async () => {
      const key = `${ns}to-delete/a.txt`;
      await store.put(key, 'bye');
      expect(await store.exists(key)).toBe(true);
      await store.delete(key);
      expect(await store.exists(key)).toBe(false);
      await expect(store.get(key)).rejects.toBeInstanceOf(BlobNotFoundError);
      await expect(store.delete(key)).resolves.toBeUndefined();
      await expect(store.delete(`${ns}never/written`)).resolves.toBeUndefined();
    });

    it('stores a stream body and reads it back as a stream', async () => {
      const key = `${ns}streams/small.txt`;
      const put = await store.put(
        key,
        Readable.from([Buffer.from('chunk one, '), Buffer.from('chunk two')]),
        {
          contentType: 'text/plain',
        },
      );
      expect(put.size).toBe(20);
      const { body, ...info } = await store.getStream(key);
      const chunks: Buffer[] = [];
      for await (const chunk of body) chunks.push(chunk as Buffer);
      expect(Buffer.concat(chunks).toString()).toBe('chunk one, chunk two');
      expect(info).toMatchObject({ key, size: 20, contentType: 'text/plain', etag: put.etag });
    });

    it(`streams a ${largeBytes} byte object in and out intact`, async () => {
      const key = `${ns}streams/large.bin`;
      const expected = await sha256Of(generatedStream(largeBytes, 7));
      const put = await store.put(key, generatedStream(largeBytes, 7), {
        contentType: 'application/x-large',
        metadata: { kind: 'large' },
      });
      expect(put.size).toBe(largeBytes);
      const { body, size, metadata, etag } = await store.getStream(key);
      expect(await sha256Of(body as AsyncIterable<Buffer>)).toBe(expected);
      expect({ size, metadata, etag }).toEqual({
        size: largeBytes,
        metadata: { kind: 'large' },
        etag: put.etag,
      });
    });

    it('keeps "a" and "a/b" apart, and odd but valid keys round-trip and list', async () => {
      const keys = [
        `${ns}odd/a`,
        `${ns}odd/a/b`,
        `${ns}odd/a-c`,
        `${ns}odd/a0`,
        `${ns}odd/with space & plus+.txt`,
        `${ns}odd/percent%2F~tilde*star?q=1:colon`,
        `${ns}odd/ünïcødé/日本語.txt`,
        `${ns}odd/.hidden`,
        `${ns}odd/...dots`,
      ];
      for (const [i, key] of keys.entries()) await store.put(key, `value ${i}`);
      for (const [i, key] of keys.entries()) {
        expect((await store.get(key)).body.toString()).toBe(`value ${i}`);
      }
      const listed = await store.list(`${ns}odd/`);
      expect(arrange(listed.items.map((i) => i.key))).toEqual(byteOrder(keys));
    });

    it('lists keys under a prefix in byte order, page by page, with size and ETag', async () => {
      const prefix = `${ns}list/`;
      const keys = [
        'b.txt',
        'a/1.txt',
        'a/2.txt',
        'a/sub/deep.txt',
        'ab.txt',
        'c/1',
        'img/cat.png',
        'img/car.png',
        'img/dog.png',
        'Z-upper',
      ].map((k) => `${prefix}${k}`);
      await Promise.all(keys.map((k, i) => store.put(k, 'x'.repeat(i))));

      const one = await store.list(prefix, { limit: 1000 });
      expect(one.items.map((i) => i.key)).toEqual(byteOrder(keys));
      expect(one.cursor).toBeUndefined();
      const sizes = Object.fromEntries(one.items.map((i) => [i.key, i.size]));
      expect(sizes).toEqual(Object.fromEntries(keys.map((k, i) => [k, i])));
      // Pages cover every key once, in order: listing a page never repeats or skips one.
      expect(one.items.every((i) => i.etag.length > 0 && i.lastModified instanceof Date)).toBe(
        true,
      );

      const paged = await listAll(store, prefix, 3);
      expect(paged.map((i) => i.key)).toEqual(byteOrder(keys));

      const firstPage = await store.list(prefix, { limit: 4 });
      expect(firstPage.items).toHaveLength(4);
      expect(firstPage.cursor).toEqual(expect.any(String));

      const partial = await store.list(`${prefix}img/ca`);
      expect(partial.items.map((i) => i.key)).toEqual([
        `${prefix}img/car.png`,
        `${prefix}img/cat.png`,
      ]);

      const sub = await store.list(`${prefix}a/`);
      expect(sub.items.map((i) => i.key)).toEqual([
        `${prefix}a/1.txt`,
        `${prefix}a/2.txt`,
        `${prefix}a/sub/deep.txt`,
      ]);
    });

    it('lists nothing, without a cursor, under an unused prefix', async () => {
      expect(await store.list(`${ns}nothing-here/`)).toEqual({ items: [] });
    });

    it.each(INVALID_KEYS)('refuses %s before any I/O', async (_label, key, reason) => {
      await expect(store.put(key, 'x')).rejects.toBeInstanceOf(InvalidBlobKeyError);
      await expect(store.get(key)).rejects.toThrow(reason);
      await expect(store.getStream(key)).rejects.toBeInstanceOf(InvalidBlobKeyError);
      await expect(store.head(key)).rejects.toBeInstanceOf(InvalidBlobKeyError);
      await expect(store.exists(key)).rejects.toBeInstanceOf(InvalidBlobKeyError);
      await expect(store.delete(key)).rejects.toBeInstanceOf(InvalidBlobKeyError);
    });

    it('refuses a list prefix that escapes', async () => {
      await expect(store.list('../')).rejects.toBeInstanceOf(InvalidBlobKeyError);
      await expect(store.list('/abs')).rejects.toBeInstanceOf(InvalidBlobKeyError);
      await expect(store.list(ns, { limit: 0 })).rejects.toBeInstanceOf(RangeError);
    });

    it('refuses metadata S3 cannot keep portably, storing nothing', async () => {
      const key = `${ns}meta/refused`;
      await expect(store.put(key, 'x', { metadata: { 'Upper-Case': 'v' } })).rejects.toBeInstanceOf(
        InvalidBlobMetadataError,
      );
      await expect(store.put(key, 'x', { metadata: { note: 'naïve' } })).rejects.toThrow(
        'printable ASCII',
      );
      await expect(store.put(key, 'x', { metadata: { big: 'v'.repeat(3000) } })).rejects.toThrow(
        '2048',
      );
      expect(await store.exists(key)).toBe(false);
    });

    it('leaves one whole object when writers race on a key', async () => {
      const key = `${ns}race/same-key`;
      const writers = Array.from({ length: atomicOverwrites ? 8 : 1 }, (_, i) => ({
        body: `writer ${i} `.repeat(100 + i),
        metadata: { writer: String(i) },
      }));
      await Promise.all(writers.map((w) => store.put(key, w.body, { metadata: w.metadata })));
      const got = await store.get(key);
      const winner = writers.findIndex((w) => w.body === got.body.toString());
      expect(winner).toBeGreaterThanOrEqual(0); // one writer's whole body, never a mix
      expect(got.size).toBe(Buffer.byteLength(writers[winner]?.body ?? ''));
      expect(got.metadata.writer).toBe(String(winner));
    });
  });
}
