import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidBlobKeyError, UnsupportedBlobOperationError } from '../src/blob.errors.js';
import { FileSystemBlobStore } from '../src/fs-blob.store.js';
import { describeBlobStoreContract } from './blob-contract.js';

describeBlobStoreContract('fs', async () => {
  const root = await mkdtemp(join(tmpdir(), 'blob-fs-contract-'));
  const store = await new FileSystemBlobStore({ root }).init();
  return { store, cleanup: () => rm(root, { recursive: true, force: true }) };
});

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

describe('FileSystemBlobStore on disk', () => {
  let parent: string;
  let root: string;
  let store: FileSystemBlobStore;

  beforeEach(async () => {
    parent = await mkdtemp(join(tmpdir(), 'blob-fs-'));
    root = join(parent, 'root');
    store = await new FileSystemBlobStore({ root }).init();
  });

  afterEach(async () => {
    await rm(parent, { recursive: true, force: true });
  });

  it('lays out one directory per segment, an entry and one data file per object', async () => {
    await store.put('images/2024/cat.png', 'meow', { contentType: 'image/png' });
    await store.put('images/2024/cat.png', 'meow again');
    const files = await filesUnder(root);
    expect(files).toEqual([
      expect.stringMatching(/^images\/2024\/cat\.png~[0-9a-f-]{36}\.data$/),
      'images/2024/cat.png~meta.json',
    ]);
    const data = files.find((f) => f.endsWith('.data'))!;
    expect(await readFile(join(root, data), 'utf8')).toBe('meow again');
    const entry = JSON.parse(await readFile(join(root, 'images/2024/cat.png~meta.json'), 'utf8'));
    expect(entry).toMatchObject({
      key: 'images/2024/cat.png',
      size: 10,
      contentType: 'application/octet-stream',
    });
  });

  it('leaves the old object and no stray file when a stream body fails midway', async () => {
    await store.put('doc.txt', 'original');
    const broken = new Readable({
      read() {
        this.push(Buffer.from('partial '));
        this.destroy(new Error('client went away'));
      },
    });
    await expect(store.put('doc.txt', broken)).rejects.toThrow('client went away');
    expect((await store.get('doc.txt')).body.toString()).toBe('original');
    expect(await filesUnder(root)).toEqual([
      expect.stringMatching(/^doc\.txt~.*\.data$/),
      'doc.txt~meta.json',
    ]);
  });

  it('never shows a reader a mix of two writes while a key is overwritten', async () => {
    const versions = Array.from({ length: 6 }, (_, i) => ({
      body: Buffer.alloc(256 * 1024 + i, i + 1),
      metadata: { version: String(i) },
    }));
    await store.put('hot.bin', versions[0]!.body, { metadata: versions[0]!.metadata });
    const seen: Array<{ version: string; consistent: boolean }> = [];
    const state = { writing: true };
    const writer = (async () => {
      for (let round = 0; round < 5; round++) {
        for (const v of versions) await store.put('hot.bin', v.body, { metadata: v.metadata });
      }
      state.writing = false;
    })();
    while (state.writing) {
      const got = await store.get('hot.bin');
      const version = Number(got.metadata.version);
      seen.push({
        version: got.metadata.version!,
        consistent:
          got.body.equals(versions[version]!.body) &&
          got.etag === createHash('md5').update(got.body).digest('hex'),
      });
    }
    await writer;
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.filter((s) => !s.consistent)).toEqual([]);
    expect(await filesUnder(root)).toHaveLength(2); // replaced data files were removed
  });

  it('cannot reach outside the root, and creates nothing there for refused keys', async () => {
    const before = await readdir(parent);
    for (const key of ['../outside.txt', 'a/../../outside.txt', '/tmp/outside.txt', '..']) {
      await expect(store.put(key, 'x')).rejects.toBeInstanceOf(InvalidBlobKeyError);
    }
    expect(await readdir(parent)).toEqual(before);
    expect(await filesUnder(root)).toEqual([]);
  });

  it('prunes directories a delete leaves empty, keeping the root', async () => {
    await store.put('a/b/c/deep.txt', 'x');
    await store.put('a/keep.txt', 'y');
    await store.delete('a/b/c/deep.txt');
    expect(await readdir(join(root, 'a'))).toEqual(
      ['keep.txt~meta.json', expect.stringMatching(/^keep\.txt~.*\.data$/)].sort(),
    );
    await store.delete('a/keep.txt');
    expect(await readdir(root)).toEqual([]);
  });

  it('refuses a key segment too long for a file name, naming the reason', async () => {
    await expect(store.put(`dir/${'n'.repeat(240)}`, 'x')).rejects.toThrow(
      'last segment too long for the file system store',
    );
    await expect(store.put(`${'d'.repeat(300)}/x`, 'x')).rejects.toThrow('segment too long');
  });

  it('reports an unusable root from ping (the health probe)', async () => {
    await expect(store.ping()).resolves.toEqual({});
    await rm(root, { recursive: true });
    await expect(store.ping()).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('has no signed URLs', async () => {
    await expect(store.signedUrl('x')).rejects.toBeInstanceOf(UnsupportedBlobOperationError);
  });
});
